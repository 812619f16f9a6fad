import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnnotationError } from '../../src/shared/errors.ts';
import { parseQuantity } from '../../src/config/validators.ts';
import { buildInjectionPlan, type InjectionPlan } from '../../src/webhook/injection-plan.ts';
import { buildPodPatch, escapePointer } from '../../src/webhook/pod-patch.ts';
import type { Pod } from '../../src/webhook/pod-types.ts';
import { GOLDEN_DEFAULTS, GOLDEN_IMAGE } from '../helpers/webhook-golden.ts';

const pod = (
  annotations: Record<string, string> = {},
  extra: Partial<NonNullable<Pod['spec']>> = {},
): Pod => ({
  metadata: { labels: { 'sts-sidecar.io/inject': 'true' }, annotations },
  spec: { containers: [{ name: 'app' }], ...extra },
});
const ROLE = { 'sts-sidecar.io/role-arn': 'arn:aws:iam:::role/app' };

function plan(p: Pod, sa?: Record<string, string>): InjectionPlan {
  const r = buildInjectionPlan(p, sa, GOLDEN_DEFAULTS);
  assert.equal(r.action, 'inject');
  return r.plan;
}

test('precedence: pod annotation, then ServiceAccount annotation, then webhook default', () => {
  const sa = { 'sts-sidecar.io/duration-seconds': '1800', 'sts-sidecar.io/audience': 'from-sa', ...ROLE };
  assert.equal(plan(pod({}), sa).durationSeconds, 1800);
  assert.equal(plan(pod({ 'sts-sidecar.io/duration-seconds': '900' }), sa).durationSeconds, 900);
  assert.equal(plan(pod(ROLE)).durationSeconds, 3600);
  assert.equal(plan(pod({}), sa).audience, 'from-sa');
  assert.equal(plan(pod(ROLE)).audience, GOLDEN_DEFAULTS.audience);
});

test('pod-only keys are ignored on the ServiceAccount', () => {
  const p = plan(pod(ROLE), {
    'sts-sidecar.io/skip-containers': 'app',
    'sts-sidecar.io/listen-port': '9999',
  });
  assert.deepEqual([...p.skipContainers], []);
  assert.equal(p.listenPort, 8187);
});

test('max-refresh-interval-seconds: passed to the sidecar as its env; absent, no env', () => {
  const withBound = plan(pod({ ...ROLE, 'sts-sidecar.io/max-refresh-interval-seconds': '60' }));
  assert.equal(withBound.maxRefreshIntervalSeconds, 60);
  const env = (p: InjectionPlan) =>
    buildPodPatch(pod(ROLE), p, GOLDEN_IMAGE)
      .ops.flatMap((op) =>
        op.path === '/spec/initContainers' ? (op.value as { env: { name: string }[] }[]) : [],
      )
      .flatMap((c) => c.env)
      .find((e) => e.name === 'STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS');
  assert.deepEqual(env(withBound), { name: 'STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS', value: '60' });
  assert.equal(env(plan(pod(ROLE))), undefined);
});

const invalid: {
  name: string;
  annotations: Record<string, string>;
  sa?: Record<string, string>;
  message: RegExp;
}[] = [
  {
    name: 'missing role for rgw',
    annotations: {},
    message: /role-arn \(webhook default\): is required with flavor rgw/,
  },
  {
    name: 'refresh bound below a minute',
    annotations: { ...ROLE, 'sts-sidecar.io/max-refresh-interval-seconds': '59' },
    message: /max-refresh-interval-seconds \(pod\): .*60/,
  },
  {
    name: 'bad ARN',
    annotations: { 'sts-sidecar.io/role-arn': 'app' },
    message: /role-arn \(pod\): is not an ARN/,
  },
  {
    name: 'bad ARN from SA',
    annotations: {},
    sa: { 'sts-sidecar.io/role-arn': 'x' },
    message: /role-arn \(service account\)/,
  },
  {
    name: 'token too short-lived',
    annotations: { ...ROLE, 'sts-sidecar.io/token-expiration-seconds': '599' },
    message: /between 600 and 86400/,
  },
  {
    name: 'duration not a number',
    annotations: { ...ROLE, 'sts-sidecar.io/duration-seconds': '1h' },
    message: /not a whole number/,
  },
  {
    name: 'duration above rgw max',
    annotations: { ...ROLE, 'sts-sidecar.io/duration-seconds': '50000' },
    message: /between 900 and 43200 for flavor rgw/,
  },
  {
    name: 'empty flavor',
    annotations: { ...ROLE, 'sts-sidecar.io/flavor': '' },
    message: /"" is not one of rgw, minio, aws/,
  },
  {
    name: 'bad policy',
    annotations: { ...ROLE, 'sts-sidecar.io/session-policy': '{' },
    message: /not valid JSON/,
  },
  {
    name: 'bad endpoint',
    annotations: { ...ROLE, 'sts-sidecar.io/sts-endpoint': 'ftp://x' },
    message: /https:\/\/ or http:\/\//,
  },
  {
    name: 'unknown skip',
    annotations: { ...ROLE, 'sts-sidecar.io/skip-containers': 'nope' },
    message: /"nope"/,
  },
  { name: 'same ports', annotations: { ...ROLE, 'sts-sidecar.io/ops-port': '8187' }, message: /must differ/ },
  {
    name: 'bad quantity',
    annotations: { ...ROLE, 'sts-sidecar.io/sidecar-memory-limit': '1 GB' },
    message: /not a Kubernetes quantity/,
  },
  {
    name: 'limit below request',
    annotations: { ...ROLE, 'sts-sidecar.io/sidecar-memory-limit': '64Mi' },
    message: /below the memory request 96Mi/,
  },
];
for (const c of invalid)
  test(`rejected: ${c.name}`, () => {
    assert.throws(
      () => buildInjectionPlan(pod(c.annotations), c.sa, GOLDEN_DEFAULTS),
      (e: unknown) =>
        e instanceof AnnotationError && e.code === 'WEBHOOK_ANNOTATION_INVALID' && c.message.test(e.message),
    );
  });

test('rejected: names the webhook would add are taken', () => {
  assert.throws(
    () => buildInjectionPlan(pod(ROLE, { volumes: [{ name: 'sts-sidecar-auth' }] }), {}, GOLDEN_DEFAULTS),
    /volume named "sts-sidecar-auth"/,
  );
  assert.throws(
    () => buildInjectionPlan(pod(ROLE, { containers: [{ name: 'sts-sidecar' }] }), {}, GOLDEN_DEFAULTS),
    /container named "sts-sidecar"/,
  );
  const mounted = pod(ROLE, {
    containers: [{ name: 'app', volumeMounts: [{ name: 'x', mountPath: '/var/run/sts-sidecar/auth' }] }],
  });
  assert.throws(
    () => buildInjectionPlan(mounted, {}, GOLDEN_DEFAULTS),
    /already mounts something at \/var\/run\/sts-sidecar\/auth/,
  );
});

test('quantities parse as Kubernetes does', () => {
  assert.equal(parseQuantity('100m'), 0.1);
  assert.equal(parseQuantity('128Mi'), 128 * 2 ** 20);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('1 G'), undefined);
  assert.equal(parseQuantity('-1'), undefined);
});

test('JSON pointer segments escape ~ before /', () => {
  assert.equal(escapePointer('sts-sidecar.io/status'), 'sts-sidecar.io~1status');
  assert.equal(escapePointer('a~/b'), 'a~0~1b');
});

test('the patch only adds, appends with /- to existing arrays and never replaces them', () => {
  const p = pod(ROLE, {
    volumes: [{ name: 'v' }],
    initContainers: [{ name: 'i', env: [{ name: 'A', value: '1' }] }],
    containers: [{ name: 'app', env: [], volumeMounts: [] }],
  });
  const { ops } = buildPodPatch(p, plan(p), GOLDEN_IMAGE);
  assert.ok(ops.every((o) => o.op === 'add'));
  const paths = ops.map((o) => o.path);
  for (const existing of [
    '/spec/volumes',
    '/spec/initContainers',
    '/spec/initContainers/1/env',
    '/spec/containers/0/env',
    '/spec/containers/0/volumeMounts',
  ])
    assert.ok(!paths.includes(existing), `${existing} replaced`);
  assert.ok(paths.includes('/spec/initContainers/0'));
  assert.ok(
    paths.includes('/spec/initContainers/1/env/-'),
    'existing init container addressed after the sidecar',
  );
  assert.ok(paths.includes('/spec/initContainers/1/volumeMounts'), 'absent array added whole');
});

// Golden fixtures: test/fixtures/webhook/<case>.pod.yaml → <case>.patch.json (or
// <case>.denied.txt). Regenerate after a deliberate change with:
//   UPDATE_GOLDEN=1 node --test test/unit/webhook-golden.test.ts
// and review the diff. Every injected case is also applied and checked as a valid Pod and
// against the injection invariants below, so a removed step fails twice.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_AUTH_TOKEN_FILE } from '../../src/config/sidecar-options.ts';
import { AnnotationError } from '../../src/shared/errors.ts';
import { ANNOTATION_STATUS, LABEL_INJECT } from '../../src/webhook/annotations.ts';
import { AUTH_MOUNT_DIR, AUTH_VOLUME_NAME, TOKEN_VOLUME_NAME } from '../../src/webhook/injected-names.ts';
import { buildInjectionPlan } from '../../src/webhook/injection-plan.ts';
import {
  buildPodPatch,
  ENV_AUTH_TOKEN_FILE,
  ENV_FULL_URI,
  SHADOWING_ENV,
} from '../../src/webhook/pod-patch.ts';
import type { Pod } from '../../src/webhook/pod-types.ts';
import {
  applyPatch,
  assertValidPod,
  FIXTURE_DIR,
  GOLDEN_DEFAULTS,
  GOLDEN_IMAGE,
  loadFixture,
} from '../helpers/webhook-golden.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.pod.yaml'))
  .map((f) => f.slice(0, -'.pod.yaml'.length))
  .sort();

/** What must hold after any injection, whatever the pod looked like. */
function assertInjected(before: Pod, after: Pod, skipped: ReadonlySet<string>): void {
  assertValidPod(after);
  assert.equal(after.metadata?.annotations?.[ANNOTATION_STATUS], 'injected');
  const sidecar = after.spec?.initContainers?.[0] as Record<string, unknown> & { name: string };
  assert.equal(sidecar.name, 'sts-sidecar', 'our sidecar is the first init container');
  assert.equal(sidecar.restartPolicy, 'Always', 'native sidecar');
  assert.deepEqual((sidecar.startupProbe as { httpGet: { path: string } }).httpGet.path, '/readyz');
  const sc = sidecar.securityContext as Record<string, unknown>;
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
  assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
  assert.ok((sidecar.resources as { limits: { memory: string } }).limits.memory);
  assert.ok(
    after.spec?.securityContext?.fsGroup !== undefined,
    'a pod fsGroup makes the 0440 token readable',
  );
  const volumes = (after.spec?.volumes ?? []) as { name: string; projected?: unknown; emptyDir?: unknown }[];
  assert.ok(volumes.find((v) => v.name === TOKEN_VOLUME_NAME)?.projected);
  assert.deepEqual(volumes.find((v) => v.name === AUTH_VOLUME_NAME)?.emptyDir, {
    medium: 'Memory',
    sizeLimit: '1Mi',
  });
  // Nothing of the user's is lost: every original container, env var, mount and volume survives.
  const originals = [...(before.spec?.initContainers ?? []), ...(before.spec?.containers ?? [])];
  const afters = [...(after.spec?.initContainers ?? []), ...(after.spec?.containers ?? [])];
  for (const orig of originals) {
    const now = afters.find((c) => c.name === orig.name)!;
    for (const e of orig.env ?? [])
      assert.deepEqual(
        now.env?.find((x) => x.name === e.name),
        e,
        'user env kept',
      );
    for (const m of orig.volumeMounts ?? [])
      assert.ok(now.volumeMounts?.some((x) => x.mountPath === m.mountPath));
    for (const key of Object.keys(orig))
      if (key !== 'env' && key !== 'volumeMounts')
        assert.deepEqual(
          (now as unknown as Record<string, unknown>)[key],
          (orig as unknown as Record<string, unknown>)[key],
        );
    const env = new Map((now.env ?? []).map((e) => [e.name, e.value]));
    if (skipped.has(orig.name)) {
      assert.ok(!env.has(ENV_AUTH_TOKEN_FILE), `${orig.name} is skipped`);
      assert.ok(!now.volumeMounts?.some((m) => m.name === AUTH_VOLUME_NAME));
      continue;
    }
    assert.ok(env.has(ENV_FULL_URI), `${orig.name} has ${ENV_FULL_URI}`);
    assert.equal(env.get(ENV_AUTH_TOKEN_FILE), DEFAULT_AUTH_TOKEN_FILE);
    assert.ok(
      now.volumeMounts?.some(
        (m) => m.name === AUTH_VOLUME_NAME && m.mountPath === AUTH_MOUNT_DIR && m.readOnly,
      ),
    );
    const userSet = new Set((orig.env ?? []).map((e) => e.name));
    for (const name of SHADOWING_ENV)
      if (!userSet.has(name)) assert.ok(!env.has(name), `${name} never injected`);
  }
  assert.deepEqual(before.spec?.volumes ?? [], volumes.slice(0, (before.spec?.volumes ?? []).length));
}

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const { pod, serviceAccount } = loadFixture(name);
    const patchFile = new URL(`${name}.patch.json`, FIXTURE_DIR);
    const deniedFile = new URL(`${name}.denied.txt`, FIXTURE_DIR);
    let result;
    try {
      result = buildInjectionPlan(pod, serviceAccount?.annotations, GOLDEN_DEFAULTS);
    } catch (error) {
      assert.ok(error instanceof AnnotationError, String(error));
      if (update) writeFileSync(deniedFile, `${error.message}\n`);
      assert.ok(existsSync(deniedFile), `${name} was denied but has no .denied.txt: ${error.message}`);
      assert.equal(`${error.message}\n`, readFileSync(deniedFile, 'utf8'));
      return;
    }
    const ops = result.action === 'inject' ? buildPodPatch(pod, result.plan, GOLDEN_IMAGE).ops : [];
    const text = `${JSON.stringify(ops, null, 2)}\n`;
    if (update) writeFileSync(patchFile, text);
    assert.ok(!existsSync(deniedFile), `${name} was expected to be denied`);
    assert.equal(
      text,
      readFileSync(patchFile, 'utf8'),
      `${name}.patch.json differs (UPDATE_GOLDEN=1 to rewrite)`,
    );
    const after = applyPatch(pod, ops);
    assertValidPod(after);
    if (result.action === 'inject') assertInjected(pod, after, result.plan.skipContainers);
    else assert.deepEqual(after, pod);
    // Idempotent: the patched pod goes through the webhook again (reinvocation) unchanged.
    if (pod.metadata?.labels?.[LABEL_INJECT] === 'true') {
      const again = buildInjectionPlan(after, serviceAccount?.annotations, GOLDEN_DEFAULTS);
      assert.deepEqual(again, { action: 'skip', reason: 'already-injected' });
    }
  });
}

test('golden: every expected case has a fixture', () => {
  for (const name of [
    'one-container',
    'skip-container',
    'init-containers',
    'istio',
    'user-env',
    'already-injected',
    'sa-annotations-only',
    'pod-overrides-sa',
    'invalid-annotation',
    'host-network',
  ])
    assert.ok(cases.includes(name), name);
});

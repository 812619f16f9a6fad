// deploy/examples: the app and its stores (RGW, MinIO), checked by running the webhook's own
// injection plan over the rendered app and against each store's trust setup.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { ANNOTATIONS, LABEL_INJECT } from '../../src/webhook/annotations.ts';
import { SHADOWING_ENV } from '../../src/webhook/pod-patch.ts';
import {
  appIdentity,
  DEPLOY,
  envFile,
  kubectlVersion,
  NO_STORE_DEFAULTS,
  planFor,
  readJson,
} from '../helpers/kustomize.ts';
import { minioRoleArn } from '../helpers/minio-server.ts';

const kubectl = kubectlVersion();
const skip = 'reason' in kubectl ? kubectl.reason : undefined;

describe('deploy/examples: the app and its stores', { skip }, () => {
  test('app: labelled for injection, only real sts-sidecar.io annotations, nothing that shadows the endpoint', () => {
    const { pod, sa } = appIdentity('examples/app');
    assert.equal(pod.metadata?.labels?.[LABEL_INJECT], 'true');
    const known = new Map(ANNOTATIONS.map((a) => [a.key, a.scope]));
    for (const [where, annotations] of [
      ['pod', pod.metadata?.annotations ?? {}],
      ['ServiceAccount', sa.metadata.annotations ?? {}],
    ] as const)
      for (const key of Object.keys(annotations).filter((k) => k.startsWith('sts-sidecar.io/'))) {
        assert.ok(known.has(key), `${where}: ${key} is not an annotation the webhook reads`);
        if (where === 'ServiceAccount')
          assert.equal(known.get(key), 'pod-or-service-account', `${key} is pod-only`);
      }
    assert.ok(sa.metadata.annotations?.['sts-sidecar.io/role-arn'], 'the ServiceAccount carries the role');
    for (const c of pod.spec?.containers ?? [])
      for (const e of c.env ?? []) assert.ok(!(SHADOWING_ENV as readonly string[]).includes(e.name), e.name);
    // With the store in the webhook's defaults, the webhook injects it as is.
    planFor('examples/app', {
      ...NO_STORE_DEFAULTS,
      stsEndpoint: 'https://rgw.example.internal',
      flavor: 'rgw',
    });
  });

  test('rgw: the webhook injects from the annotations alone, and the trust policy admits exactly this pod', () => {
    const plan = planFor('examples/rgw');
    assert.equal(plan.flavor, 'rgw');
    assert.ok(plan.roleArn, 'RGW needs a role');
    assert.ok(plan.s3Endpoint, 'the CLI is pointed at the store');
    const { pod, namespace, template: tpl } = appIdentity('examples/rgw');
    const trust = readJson('examples/rgw/trust-policy.json') as {
      Statement: {
        Effect: string;
        Principal: { Federated: string[] };
        Action: string[];
        Condition: unknown;
      }[];
    };
    assert.equal(trust.Statement.length, 1);
    const st = trust.Statement[0]!;
    assert.equal(st.Effect, 'Allow');
    assert.deepEqual(st.Action, ['sts:AssumeRoleWithWebIdentity']);
    const issuer = /^arn:aws:iam:::oidc-provider\/(.+)$/.exec(st.Principal.Federated[0] ?? '')?.[1];
    assert.ok(issuer, 'Federated is an RGW OIDC provider ARN');
    assert.deepEqual(st.Condition, {
      StringEquals: {
        [`${issuer}:aud`]: plan.audience,
        [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${pod.spec?.serviceAccountName}`,
      },
    });
    const rolePolicy = readJson('examples/rgw/role-policy.json') as { Statement: { Resource: string[] }[] };
    const args = (tpl.spec.containers[0]?.args ?? []).join('\n');
    for (const resource of rolePolicy.Statement.flatMap((s) => s.Resource))
      assert.ok(args.includes(`s3://${resource.replace('arn:aws:s3:::', '').replace('/*', '')}`), resource);
  });

  test('rgw: setup-rgw.sh registers the issuer and creates the role from the policy files', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-sidecar-setup-rgw-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // A stand-in aws CLI on PATH: records its arguments, answers create-role with an ARN.
    const log = join(dir, 'calls.ndjson');
    writeFileSync(
      join(dir, 'aws'),
      `#!/usr/bin/env node\nconst fs = require('node:fs');\nconst a = process.argv.slice(2);\n` +
        `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(a) + '\\n');\n` +
        `if (a.includes('create-role')) console.log('arn:aws:iam:::role/' + a[a.indexOf('--role-name') + 1]);\n`,
    );
    chmodSync(join(dir, 'aws'), 0o755);
    const thumbprint = 'AB'.repeat(20);
    const out = execFileSync('bash', [join(DEPLOY, 'examples/rgw/setup-rgw.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${dir}:${dirname(process.execPath)}:${process.env.PATH}`,
        RGW_ENDPOINT: 'https://rgw.test',
        ISSUER: 'https://k8s.test:6443',
        THUMBPRINT: thumbprint,
      },
    });
    const calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    const arg = (call: string[], flag: string) => call[call.indexOf(flag) + 1];
    assert.deepEqual(
      calls.map((c) => c[3]),
      ['create-open-id-connect-provider', 'create-role', 'put-role-policy'],
    );
    for (const c of calls) assert.deepEqual(c.slice(0, 3), ['--endpoint-url', 'https://rgw.test', 'iam']);
    const plan = planFor('examples/rgw');
    const [provider, role, policy] = calls as [string[], string[], string[]];
    assert.equal(arg(provider, '--url'), 'https://k8s.test:6443');
    assert.equal(arg(provider, '--client-id-list'), plan.audience, 'ClientIDList = the pods’ audience');
    assert.equal(arg(provider, '--thumbprint-list'), thumbprint);
    assert.equal(out.trim(), plan.roleArn, 'the ARN it prints is the one the rgw overlay uses');
    const trust = JSON.parse(arg(role, '--assume-role-policy-document')!) as {
      Statement: {
        Principal: { Federated: string[] };
        Condition: { StringEquals: Record<string, string> };
      }[];
    };
    assert.deepEqual(trust.Statement[0]!.Principal.Federated, ['arn:aws:iam:::oidc-provider/k8s.test:6443']);
    assert.deepEqual(trust.Statement[0]!.Condition.StringEquals, {
      'k8s.test:6443:aud': plan.audience,
      'k8s.test:6443:sub': 'system:serviceaccount:demo:s3-app',
    });
    assert.deepEqual(
      JSON.parse(arg(policy, '--policy-document')!),
      readJson('examples/rgw/role-policy.json'),
    );
  });

  test('minio: role-policy mode, RoleArn derived from the client ID = the audience, policy scoped to the subject', () => {
    const plan = planFor('examples/minio');
    assert.equal(plan.flavor, 'minio');
    const env = envFile('examples/minio/minio.env');
    assert.equal(env.get('MINIO_IDENTITY_OPENID_CLIENT_ID'), plan.audience);
    assert.equal(plan.roleArn, minioRoleArn(plan.audience));
    assert.match(
      env.get('MINIO_IDENTITY_OPENID_CONFIG_URL') ?? '',
      /^https:\/\/.+\/\.well-known\/openid-configuration$/,
    );
    assert.ok(env.get('MINIO_IDENTITY_OPENID_ROLE_POLICY'), 'role-policy mode');
    assert.ok(!env.has('MINIO_IDENTITY_OPENID_CLAIM_NAME'), 'not both modes on one provider');
    const { pod, namespace } = appIdentity('examples/minio');
    const policy = readJson('examples/minio/policy.json') as {
      Statement: { Condition: { StringEquals: Record<string, string[]> } }[];
    };
    assert.deepEqual(policy.Statement[0]!.Condition.StringEquals['jwt:sub'], [
      `system:serviceaccount:${namespace}:${pod.spec?.serviceAccountName}`,
    ]);
  });

  test('minio-claim: no RoleArn anywhere, the policy comes from a claim', () => {
    const plan = planFor('examples/minio-claim');
    assert.equal(plan.flavor, 'minio');
    assert.equal(plan.roleArn, undefined);
    const env = envFile('examples/minio-claim/minio.env');
    assert.equal(env.get('MINIO_IDENTITY_OPENID_CLIENT_ID'), plan.audience);
    assert.ok(env.get('MINIO_IDENTITY_OPENID_CLAIM_NAME'), 'claim mode');
    assert.ok(!env.has('MINIO_IDENTITY_OPENID_ROLE_POLICY'));
  });

  test('deploy/README.md warns about RGW before 18.2.8 and x5c', () => {
    const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
    assert.match(readme, /18\.2\.8/);
    assert.match(readme, /x5c/);
  });
});

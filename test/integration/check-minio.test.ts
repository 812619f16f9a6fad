// Issue #12, part 3: `sts-sidecar check` (the built CLI) against real MinIO servers
// (test/helpers/minio-server.ts): the all-good path; a MinIO whose client ID differs from the
// token's audience, named by --audience before the store is asked and classified from MinIO's
// own refusal without it; and a role MinIO does not have.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OidcIssuer } from '../fakes/oidc-issuer.ts';
import { assertBrokenAt, runCheckCli, stepOf } from '../helpers/check-runner.ts';
import { findMinioBinary, MinioServer } from '../helpers/minio-server.ts';
import { missingPeer } from '../helpers/required-peer.ts';

const AUDIENCE = 'sts.example.test';
const OTHER_CLIENT_ID = 'another-client';
const POD = { namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' } as const;

const binary = findMinioBinary();
const skip = binary
  ? undefined
  : missingPeer('MinIO not installed: run bash .ci/peers/minio.sh install (or set STS_SIDECAR_MINIO_BIN)');

interface World {
  issuer: OidcIssuer;
  /** Client ID = the token's audience. */
  minio: MinioServer;
  /** Client ID = {@link OTHER_CLIENT_ID}. */
  other: MinioServer;
  tokenFile: string;
}
let world: World | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  if (!binary) return;
  const issuer = await OidcIssuer.start();
  cleanups.push(() => issuer.close());
  const start = async (clientId: string) => {
    const server = await MinioServer.start({ binary, issuer: issuer.issuer, clientId, mode: 'role-policy' });
    cleanups.push(() => server.stop());
    return server;
  };
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-check-minio-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, issuer.signToken({ audience: AUDIENCE, ...POD }));
  world = { issuer, minio: await start(AUDIENCE), other: await start(OTHER_CLIENT_ID), tokenFile };
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** The env the webhook would inject for a pod using `server`, with role `roleArn`. */
function podEnv(server: MinioServer, roleArn = server.roleArn): NodeJS.ProcessEnv {
  return {
    STS_SIDECAR_STS_ENDPOINT: server.url,
    STS_SIDECAR_FLAVOR: 'minio',
    ...(roleArn === undefined ? {} : { STS_SIDECAR_ROLE_ARN: roleArn }),
    STS_SIDECAR_TOKEN_FILE: world!.tokenFile,
    STS_SIDECAR_DURATION_SECONDS: '900',
    POD_NAMESPACE: POD.namespace,
    POD_NAME: POD.podName,
  };
}

test('real MinIO, every link holds: exit 0, ok:true', { skip, timeout: 60_000 }, async (t) => {
  const run = await runCheckCli(['--json', '--audience', AUDIENCE], podEnv(world!.minio));
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(run.report?.ok, true);
  assert.equal(stepOf(run, 'audience').status, 'ok');
  assert.equal(stepOf(run, 'x5c').status, 'skip');
  t.diagnostic(`MinIO ${world!.minio.version}: ${stepOf(run, 'exchange').message}`);
});

test(
  'wrong audience: --audience names it; without it, MinIO refuses and check classifies it',
  { skip, timeout: 60_000 },
  async (t) => {
    const env = podEnv(world!.other);
    const named = assertBrokenAt(
      await runCheckCli(['--json', '--audience', OTHER_CLIENT_ID], env),
      'audience',
      'CHECK_AUDIENCE_MISMATCH',
    );
    assert.match(named.message, /aud is sts\.example\.test, but the store expects another-client/);
    const refused = assertBrokenAt(await runCheckCli(['--json'], env), 'exchange', 'STS_REJECTED_TOKEN');
    assert.equal(refused.details.upstreamCode, 'InvalidParameterValue');
    t.diagnostic(`MinIO's answer: ${refused.message}`);
  },
);

test(
  'a role MinIO does not have → the exchange fails with the code the sidecar would log',
  { skip, timeout: 60_000 },
  async (t) => {
    const env = podEnv(world!.minio, world!.other.roleArn);
    const failure = assertBrokenAt(await runCheckCli(['--json'], env), 'exchange', 'STS_INVALID_REQUEST');
    assert.match(failure.message, /InvalidParameterValue/);
    t.diagnostic(`MinIO's answer: ${failure.message}`);
  },
);

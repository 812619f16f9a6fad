import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { ERROR_CATALOGUE, type ErrorCode, retryClassOf } from '../../src/shared/errors.ts';
import { classifyStsError } from '../../src/sts/classify-sts-error.ts';
import { parseStsErrorBody, StsErrorResponse } from '../../src/sts/sts-error-body.ts';
import { FakeSts } from '../fakes/fake-sts.ts';
import { OidcIssuer, type SignTokenOptions } from '../fakes/oidc-issuer.ts';
import {
  findRgwPeer,
  postAssumeRoleWithWebIdentity,
  type RawStsAnswer,
  RgwIam,
  type RgwPeer,
  startRgwSidecar,
} from '../helpers/ceph-rgw.ts';
import { KubeletTokenVolume } from '../helpers/kubelet-token-volume.ts';
import { assertCredentialSource, assertSignedWith, S3CallTally } from '../helpers/s3-call-tally.ts';
import { S3_CLIENTS, s3Target } from '../helpers/s3-clients.ts';
import type { LogLine } from '../helpers/sidecar-process.ts';

// Issue 4, Ceph RGW: the built sidecar against a real radosgw (.ci/peers/ceph.sh), with real
// clients (boto3, the aws CLI, aws-sdk-js-v3, aws-sdk-go-v2; test/helpers/s3-clients.ts) doing
// S3 I/O only with what the sidecar serves. The suite ends by printing its S3 calls per client.

const AUDIENCE = 'sts.example.test';
const POD = { namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' } as const;
const SESSION_NAME = 'shop.cart-0';

const found = await findRgwPeer();
const skip = 'reason' in found ? found.reason : undefined;
/** The clients installed here; the others are reported as skipped, with the reason. */
const clients = S3_CLIENTS.filter((c) => !c.probe.skip);
const tally = new S3CallTally(`Ceph RGW ${'peer' in found ? found.peer.version : '(not running)'}`);

/** Everything provisioned once for the suite: the issuer, its OIDC provider and a role. */
interface World {
  peer: RgwPeer;
  issuer: OidcIssuer;
  iam: RgwIam;
  roleArn: string;
  dir: string;
}
let world: World | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  if (!('peer' in found)) return;
  const { peer } = found;
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-rgw-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  // RGW Pacific only accepts JWKS keys with an x5c chain, and fetches https:// only, verified
  // against the system CA store, where .ci/peers/ceph.sh put this certificate (docs/design/upstream-facts.md).
  const issuer = await OidcIssuer.start({
    tls: { certPem: peer.issuerCertPem, keyPem: peer.issuerKeyPem },
    x5c: true,
  });
  cleanups.push(() => issuer.close());
  const iam = new RgwIam(peer, dir);
  const thumbprint = new X509Certificate(peer.issuerCertPem).fingerprint.replaceAll(':', '');
  const providerArn = await iam.createOidcProvider(issuer.issuer, [AUDIENCE], [thumbprint]);
  cleanups.push(() => iam.deleteOidcProvider(providerArn));
  // Condition keys are the issuer without scheme, port included (127.0.0.1:<port>:sub).
  const { roleArn, roleName } = await iam.createWebIdentityRole({
    providerArn,
    issuer: issuer.issuer,
    audience: AUDIENCE,
    subject: `system:serviceaccount:${POD.namespace}:${POD.serviceAccount}`,
    namePrefix: 'sts-sidecar-e2e',
  });
  cleanups.push(() => iam.deleteRole(roleName));
  world = { peer, issuer, iam, roleArn, dir };
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

function need(): World {
  assert.ok(world, 'suite setup did not run');
  return world;
}

function podToken(overrides: SignTokenOptions = {}): string {
  return need().issuer.signToken({ audience: AUDIENCE, ...POD, ...overrides });
}

/** A kubelet token volume removed after the test. */
async function volumeWith(t: TestContext, token: string): Promise<KubeletTokenVolume> {
  const volume = await KubeletTokenVolume.create(token);
  t.after(() => volume.cleanup());
  return volume;
}

const isSuccess = (l: LogLine) => l.event === 'exchange' && l.result === 'success';
const isFailure = (l: LogLine) => l.event === 'exchange' && l.result === 'failure';

async function getStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

test(
  'RGW end to end: exchange; every client does S3 I/O through a token rotation and a credential refresh without a failed call',
  { skip, timeout: 240_000 },
  async (t) => {
    const w = need();
    const volume = await volumeWith(t, podToken());
    const sidecar = await startRgwSidecar({
      peer: w.peer,
      roleArn: w.roleArn,
      volume,
      // Forces refreshes within the test; RGW's shortest credentials (900 s) would take 7.5 min.
      env: { STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS: '15' },
    });
    t.after(() => sidecar.close());
    const first = await sidecar.ready();
    assert.equal(
      first.assumedRoleArn,
      `${w.roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${SESSION_NAME}`,
    );
    t.diagnostic(`first exchange: ${String(first.accessKeyId)}, expires ${String(first.expiration)}`);
    for (const client of S3_CLIENTS)
      if (client.probe.skip) t.diagnostic(`${client.name} skipped: ${client.probe.skip}`);

    const dir = await mkdtemp(join(w.dir, 'clients-'));
    const tgt = await s3Target(w.peer.endpoint, sidecar.clientEnv(), dir);
    const suffix = randomBytes(3).toString('hex');
    const bucket = (client: string, what: string) =>
      `${client.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${what}-${suffix}`;
    const keysFrom = (line: LogLine) =>
      new Set(
        sidecar.lines
          .slice(sidecar.lines.indexOf(line))
          .filter(isSuccess)
          .map((l) => String(l.accessKeyId)),
      );

    // One round per client with the first credentials.
    for (const client of clients) {
      const session = client.start(tgt, bucket(client.name, 'first'));
      const calls = await tally.add(session);
      assert.equal(calls.length, 4, `${client.name}: CreateBucket, PutObject, GetObject, ListObjects`);
      assertSignedWith(calls, keysFrom(first), `${client.name} with the first credentials`);
      assertCredentialSource(session, client);
    }

    // Every client keeps calling S3 in its own long-lived process (the CLI: a process per call)
    // while the token rotates and the credentials change underneath it.
    const stopFile = join(dir, 'stop');
    const loops = clients.map((c) => ({
      client: c,
      session: c.start(tgt, bucket(c.name, 'loop'), stopFile),
    }));
    const nextCallFromEach = () => Promise.all(loops.map((l) => l.session.nextCall()));
    await nextCallFromEach();
    const rotatedExp = new Date((Math.floor(Date.now() / 1000) + 7200) * 1000);
    const rotatedAt = Date.now();
    const rotated = await sidecar.next(
      (l) => isSuccess(l) && l.tokenExp === rotatedExp.toISOString(),
      () => volume.write(podToken({ lifetimeSeconds: 7200, now: new Date(rotatedExp.getTime() - 7200_000) })),
    );
    assert.notEqual(rotated.accessKeyId, first.accessKeyId, 'RGW issued new credentials for the new token');
    t.diagnostic(
      `rotated token exchanged ${Date.now() - rotatedAt} ms after the write: ${String(rotated.accessKeyId)}`,
    );
    await nextCallFromEach();
    // A plain refresh (same token, new credentials), forced by the 15 s maximum interval.
    const refreshed = await sidecar.next(
      (l) => isSuccess(l) && l.tokenExp === rotated.tokenExp && l.accessKeyId !== rotated.accessKeyId,
    );
    t.diagnostic(`refreshed with the same token: ${String(refreshed.accessKeyId)}`);
    await nextCallFromEach();

    // A new process of each client gets a key issued from the rotated token on.
    for (const client of clients) {
      const calls = await tally.add(client.start(tgt, bucket(client.name, 'after')));
      assertSignedWith(calls, keysFrom(rotated), `${client.name} after the rotation`);
    }
    await writeFile(stopFile, '');
    for (const { client, session } of loops) {
      const calls = await tally.add(session);
      assertSignedWith(calls, keysFrom(first), `long-lived ${client.name}`);
      t.diagnostic(session.summary());
    }
    // With 900 s credentials botocore is always inside its 15 min advisory window, so it asks the
    // sidecar again before each call and switches keys as soon as the sidecar does.
    const boto3 = loops.find((l) => l.client.name === 'boto3')?.session;
    if (boto3)
      assert.ok(
        boto3.keysUsed().length >= 2,
        'boto3 switched to the refreshed credentials in the same process',
      );
    const exchanges = sidecar.lines.filter(isSuccess).map((l) => String(l.accessKeyId));
    t.diagnostic(`sidecar exchanges: ${exchanges.length} (${exchanges.join(', ')})`);
    assert.deepEqual(tally.failed(), [], 'no S3 call failed across the token rotation and refresh');

    // A token RGW refuses, rotated into the running sidecar: the failure is logged with its code,
    // and the credentials already held keep being served until they lapse.
    const denied = await sidecar.next(isFailure, () => volume.write(podToken({ audience: 'someone-else' })));
    assert.equal((denied.err as { code: string }).code, 'STS_ACCESS_DENIED');
    assert.equal(denied.retry, 'permanent');
    assert.notEqual(denied.servingUntil, 'nothing');
    const auth = { authorization: await sidecar.authToken() };
    assert.equal(await getStatus(sidecar.credentialsUrl, auth), 200);
  },
);

/**
 * A case RGW must refuse: what the raw AssumeRoleWithWebIdentity gets, and what the sidecar,
 * started with the same input, logs. `sidecarCode` differs from the STS class only for an expired
 * token, which the sidecar refuses itself before calling STS.
 */
interface RejectCase {
  name: string;
  token: () => string;
  roleArn?: () => string;
  durationSeconds?: string;
  sidecarCode: ErrorCode;
}

const REJECT_CASES: RejectCase[] = [
  {
    name: 'expired token',
    token: () => podToken({ now: new Date(Date.now() - 7200_000), lifetimeSeconds: 3600 }),
    sidecarCode: 'TOKEN_EXPIRED',
  },
  {
    name: 'wrong audience',
    token: () => podToken({ audience: 'someone-else' }),
    sidecarCode: 'STS_ACCESS_DENIED',
  },
  {
    name: 'bad signature',
    token: () => podToken({ signWith: 'other-key' }),
    sidecarCode: 'STS_ACCESS_DENIED',
  },
  {
    name: 'unknown role',
    token: () => podToken(),
    roleArn: () => 'arn:aws:iam:::role/no-such-role',
    sidecarCode: 'STS_ACCESS_DENIED',
  },
  {
    name: 'DurationSeconds above the role max (3600)',
    token: () => podToken(),
    durationSeconds: '7200',
    sidecarCode: 'STS_INVALID_REQUEST',
  },
];

/** What an SDK-free client makes of an STS error answer, through the sidecar's own parser + classifier. */
function classifyRaw(answer: RawStsAnswer): { upstream: string; code: ErrorCode } {
  const parsed = parseStsErrorBody(answer.body);
  const failure = classifyStsError(
    new StsErrorResponse(parsed?.code ?? 'NonXmlErrorResponse', parsed?.message ?? '', answer.status),
  );
  return { upstream: parsed?.code ?? '(none)', code: failure.code };
}

const summary: string[] = [];

for (const c of REJECT_CASES) {
  test(
    `RGW refuses: ${c.name}; the sidecar logs a permanent code, counts it, and serves nothing`,
    { skip, timeout: 60_000 },
    async (t) => {
      const w = need();
      const token = c.token();
      const roleArn = c.roleArn?.() ?? w.roleArn;
      const durationSeconds = c.durationSeconds ?? '900';
      const params = {
        RoleArn: roleArn,
        RoleSessionName: SESSION_NAME,
        WebIdentityToken: token,
        DurationSeconds: durationSeconds,
      };

      const real = await postAssumeRoleWithWebIdentity(w.peer.endpoint, params);
      t.diagnostic(`RGW ${w.peer.version}, ${c.name}: HTTP ${real.status}\n${real.body}`);
      assert.ok(real.status >= 400 && real.status < 500, `RGW refused with a 4xx (got ${real.status})`);
      const classified = classifyRaw(real);
      assert.equal(retryClassOf(classified.code), 'permanent', `${classified.upstream} → ${classified.code}`);

      // The fake STS in rgw mode, same issuer and role, same request.
      const fake = await FakeSts.start({
        mode: 'rgw',
        trustedIssuers: [w.issuer.issuer],
        audience: AUDIENCE,
        roles: [{ arn: w.roleArn }],
        issuerCa: w.peer.issuerCertPem,
      });
      t.after(() => fake.close());
      const imitation = await postAssumeRoleWithWebIdentity(fake.url, params);
      const fakeCode = classifyRaw(imitation);
      const diff = [
        imitation.status !== real.status && `status ${imitation.status} vs RGW ${real.status}`,
        fakeCode.upstream !== classified.upstream &&
          `Code ${fakeCode.upstream} vs RGW ${classified.upstream}`,
        fakeCode.code !== classified.code && `sidecar code ${fakeCode.code} vs ${classified.code}`,
      ].filter(Boolean);
      t.diagnostic(
        `fake STS (rgw): HTTP ${imitation.status}\n${imitation.body}\ndifferences: ${diff.join('; ') || 'none'}`,
      );

      // The sidecar itself, started with that input: the documented code, in logs and metrics; no credentials.
      const volume = await volumeWith(t, token);
      const sidecar = await startRgwSidecar({
        peer: w.peer,
        roleArn,
        volume,
        env: { STS_SIDECAR_DURATION_SECONDS: durationSeconds },
      });
      t.after(() => sidecar.close());
      const failure = await sidecar.waitFor(isFailure);
      const err = failure.err as { code: string; upstreamCode?: string; httpStatus?: number };
      assert.equal(err.code, c.sidecarCode);
      assert.equal(failure.retry, 'permanent');
      assert.ok(c.sidecarCode in ERROR_CATALOGUE);
      if (c.sidecarCode !== 'TOKEN_EXPIRED') {
        assert.equal(err.code, classified.code, 'the sidecar classifies what RGW sent as the raw call did');
        assert.equal(err.upstreamCode, classified.upstream);
        assert.equal(err.httpStatus, real.status);
      }
      const metrics = await fetch(`${sidecar.opsUrl}/metrics`).then((r) => r.text());
      assert.match(
        metrics,
        new RegExp(`sts_sidecar_exchanges_total\\{result="failure",code="${c.sidecarCode}"\\} \\d+`),
      );
      const auth = { authorization: await sidecar.authToken() };
      assert.equal(await getStatus(sidecar.credentialsUrl, auth), 503, 'the endpoint serves nothing');
      assert.equal(await getStatus(`${sidecar.opsUrl}/readyz`), 503);
      summary.push(
        `${c.name}: RGW ${real.status} ${classified.upstream} → ${classified.code}; sidecar ${err.code}; fake ${diff.join('; ') || 'same'}`,
      );
    },
  );
}

test('summary of RGW refusals', { skip }, (t) => {
  for (const line of summary) t.diagnostic(line);
});

test('S3 calls made and failed, per client', { skip }, (t) => {
  for (const client of S3_CLIENTS) tally.skipped(client);
  for (const line of tally.lines()) t.diagnostic(line);
  if (clients.length > 0) assert.ok(tally.calls.length >= 12 * clients.length, 'every client ran');
  assert.deepEqual(tally.failed(), [], 'no S3 call failed');
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { ERROR_CATALOGUE, type ErrorCode, retryClassOf } from '../../src/errors.ts';
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
import type { LogLine, SidecarProcess } from '../helpers/sidecar-process.ts';

// Issue 4, Ceph RGW: the built sidecar against a real radosgw (.ci/peers/ceph.sh), with real
// clients (boto3, aws CLI) doing S3 I/O only with what the sidecar serves.

const AUDIENCE = 'sts.example.test';
const POD = { namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' } as const;
const SESSION_NAME = 'shop.cart-0';
/** One client process; the aws CLI takes ~1 s per call. */
const CLIENT_TIMEOUT_MS = 60_000;

const found = await findRgwPeer();
const skip = 'reason' in found ? found.reason : undefined;

/** Everything provisioned once for the suite: the issuer, its OIDC provider and a role. */
interface World {
  peer: RgwPeer;
  issuer: OidcIssuer;
  iam: RgwIam;
  roleArn: string;
  dir: string;
  /** aws CLI config: path-style addressing (RGW on an IP), no retries so every failure counts. */
  awsConfigFile: string;
}
let world: World | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  if (!('peer' in found)) return;
  const { peer } = found;
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-rgw-e2e-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  // RGW Pacific only accepts JWKS keys with an x5c chain, and fetches https:// only, verified
  // against the system CA store, where .ci/peers/ceph.sh put this certificate (research §5).
  const issuer = await OidcIssuer.start({
    tls: { certPem: peer.issuerCertPem, keyPem: peer.issuerKeyPem },
    x5c: true,
  });
  cleanups.push(() => issuer.close());
  const iam = new RgwIam(peer, dir);
  const thumbprint = new X509Certificate(peer.issuerCertPem).fingerprint.replaceAll(':', '');
  const providerArn = await iam.createOidcProvider(issuer.issuer, [AUDIENCE], [thumbprint]);
  cleanups.push(() => iam.deleteOidcProvider(providerArn));
  // Condition keys are the issuer without scheme, port included (arn:aws:iam:::oidc-provider/127.0.0.1:<port>).
  const host = new URL(issuer.issuer).host;
  const roleName = `sts-sidecar-e2e-${randomBytes(4).toString('hex')}`;
  const roleArn = await iam.createRole({
    name: roleName,
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: [providerArn] },
          Action: ['sts:AssumeRoleWithWebIdentity'],
          Condition: {
            StringEquals: {
              [`${host}:aud`]: AUDIENCE,
              [`${host}:sub`]: `system:serviceaccount:${POD.namespace}:${POD.serviceAccount}`,
            },
          },
        },
      ],
    },
    rolePolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] }],
    },
  });
  cleanups.push(() => iam.deleteRole(roleName));
  const awsConfigFile = join(dir, 'aws-config');
  await writeFile(awsConfigFile, '[default]\ns3 =\n  addressing_style = path\n');
  world = { peer, issuer, iam, roleArn, dir, awsConfigFile };
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

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CLIENT_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Client env: the sidecar's FULL_URI + TOKEN_FILE only, path-style S3, no SDK retries. */
function clientEnv(sidecar: SidecarProcess): NodeJS.ProcessEnv {
  return {
    ...sidecar.clientEnv(),
    AWS_CONFIG_FILE: need().awsConfigFile,
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
  };
}

/** S3 calls made and failed by one client, plus the access key IDs it signed with, in order. */
interface S3Tally {
  client: string;
  made: number;
  failed: number;
  accessKeys: string[];
  errors: string[];
}

// boto3 in one long-lived process: the way an app holds a client across a credential refresh.
// With 900 s credentials botocore is always inside its 15 min advisory window, so it asks the
// sidecar again before each call and switches keys as soon as the sidecar does.
const BOTO3_WORKLOAD = String.raw`
import json, os, sys, time
import boto3
endpoint, bucket, stop_file = sys.argv[1:4]
session = boto3.Session()
creds = session.get_credentials()
s3 = session.client("s3", endpoint_url=endpoint)
tally = {"client": "boto3 " + boto3.__version__, "made": 0, "failed": 0, "accessKeys": [], "errors": []}
def call(fn, **kw):
    tally["made"] += 1
    try:
        return fn(**kw)
    except Exception as e:
        tally["failed"] += 1
        tally["errors"].append((type(e).__name__ + ": " + str(e))[:300])
call(s3.create_bucket, Bucket=bucket)
i = 0
while i < 2 or not os.path.exists(stop_file):
    key, body = "obj-%d" % i, ("round %d" % i).encode()
    call(s3.put_object, Bucket=bucket, Key=key, Body=body)
    got = call(s3.get_object, Bucket=bucket, Key=key)
    if got is not None and got["Body"].read() != body:
        tally["failed"] += 1
        tally["errors"].append("GetObject returned other bytes for " + key)
    listed = call(s3.list_objects_v2, Bucket=bucket)
    if listed is not None and key not in [o["Key"] for o in listed.get("Contents", [])]:
        tally["failed"] += 1
        tally["errors"].append("ListObjectsV2 misses " + key)
    ak = creds.get_frozen_credentials().access_key
    if not tally["accessKeys"] or tally["accessKeys"][-1] != ak:
        tally["accessKeys"].append(ak)
    i += 1
    time.sleep(0.2)
print(json.dumps(tally))
`;

/** Starts the boto3 workload; resolves with its tally once `stopFile` exists and it finished a round. */
function boto3Workload(sidecar: SidecarProcess, bucket: string, stopFile: string): Promise<S3Tally> {
  return run('python3', ['-c', BOTO3_WORKLOAD, need().peer.endpoint, bucket, stopFile], {
    ...clientEnv(sidecar),
  }).then((r) => {
    try {
      return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as S3Tally;
    } catch {
      assert.fail(`boto3 workload printed no tally (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  });
}

/** One aws CLI round (CreateBucket once, then PutObject, GetObject, ListObjectsV2), each a new process. */
async function awsCliRound(
  sidecar: SidecarProcess,
  tally: S3Tally,
  bucket: string,
  i: number,
): Promise<void> {
  const env = clientEnv(sidecar);
  const s3api = async (...args: string[]): Promise<Run | undefined> => {
    tally.made++;
    const r = await run('aws', ['--endpoint-url', need().peer.endpoint, 's3api', ...args], env);
    if (r.code === 0) return r;
    tally.failed++;
    tally.errors.push(`${args[0]}: ${r.stderr.trim().slice(0, 300)}`);
    return undefined;
  };
  if (i === 0) await s3api('create-bucket', '--bucket', bucket);
  const dir = need().dir;
  const body = join(dir, `${bucket}-${i}.in`);
  const out = join(dir, `${bucket}-${i}.out`);
  await writeFile(body, `aws cli round ${i}`);
  await s3api('put-object', '--bucket', bucket, '--key', `obj-${i}`, '--body', body);
  if (await s3api('get-object', '--bucket', bucket, '--key', `obj-${i}`, out)) {
    if ((await readFile(out, 'utf8')) !== `aws cli round ${i}`) {
      tally.failed++;
      tally.errors.push(`get-object obj-${i} returned other bytes`);
    }
  }
  const listed = await s3api('list-objects-v2', '--bucket', bucket);
  if (listed && !listed.stdout.includes(`"obj-${i}"`)) {
    tally.failed++;
    tally.errors.push(`list-objects-v2 misses obj-${i}`);
  }
}

function diagnoseTally(t: TestContext, tally: S3Tally): void {
  t.diagnostic(
    `${tally.client}: ${tally.made} S3 calls made, ${tally.failed} failed; keys used: ${tally.accessKeys.join(' -> ') || 'n/a'}`,
  );
  for (const e of tally.errors) t.diagnostic(`  ${e}`);
}

const isSuccess = (l: LogLine) => l.event === 'exchange' && l.result === 'success';
const isFailure = (l: LogLine) => l.event === 'exchange' && l.result === 'failure';

async function getStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

test(
  'RGW end to end: exchange, boto3 + aws CLI S3 I/O, token rotation and credential refresh without a failed call',
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

    const suffix = randomBytes(3).toString('hex');
    const version = await run('aws', ['--version'], clientEnv(sidecar));
    const cli: S3Tally = {
      client: `${version.stdout}${version.stderr}`.trim().split(' ')[0] ?? 'aws-cli',
      made: 0,
      failed: 0,
      accessKeys: [],
      errors: [],
    };
    const stopFile = join(w.dir, `stop-${suffix}`);
    const boto3Done = boto3Workload(sidecar, `boto3-${suffix}`, stopFile);

    // The aws CLI keeps working in rounds while the token rotates and the credentials change.
    const bucket = `awscli-${suffix}`;
    await awsCliRound(sidecar, cli, bucket, 0);
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
    await awsCliRound(sidecar, cli, bucket, 1);
    // A plain refresh (same token, new credentials), forced by the 15 s maximum interval.
    const refreshed = await sidecar.next(
      (l) => isSuccess(l) && l.tokenExp === rotated.tokenExp && l.accessKeyId !== rotated.accessKeyId,
    );
    t.diagnostic(`refreshed with the same token: ${String(refreshed.accessKeyId)}`);
    await awsCliRound(sidecar, cli, bucket, 2);
    await writeFile(stopFile, '');
    const boto3 = await boto3Done;

    const exchanges = sidecar.lines.filter(isSuccess).map((l) => String(l.accessKeyId));
    t.diagnostic(`sidecar exchanges: ${exchanges.length} (${exchanges.join(', ')})`);
    diagnoseTally(t, boto3);
    diagnoseTally(t, cli);
    t.diagnostic(
      `total: ${boto3.made + cli.made} S3 calls made, ${boto3.failed + cli.failed} failed, against Ceph RGW ${w.peer.version}`,
    );
    assert.equal(boto3.failed + cli.failed, 0, 'no S3 call failed across the token rotation and refresh');
    assert.ok(boto3.made >= 8 && cli.made >= 10);
    assert.ok(
      boto3.accessKeys.length >= 2,
      'boto3 switched to the refreshed credentials in the same process',
    );
    assert.ok(
      boto3.accessKeys.every((k) => exchanges.includes(k)),
      'boto3 signed only with keys the sidecar obtained from RGW',
    );

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

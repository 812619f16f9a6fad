import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  findRgwPeer,
  postAssumeRoleWithWebIdentity,
  RgwIam,
  type RgwPeer,
  startRgwSidecar,
} from '../helpers/ceph-rgw.ts';
import { STS_SIDECAR_IMAGE } from '../helpers/e2e-images.ts';
import { findGoTool } from '../helpers/go-tools.ts';
import { CHART_DIR } from '../helpers/helm-chart.ts';
import {
  clusterCommand,
  findKubeCluster,
  getJson,
  helmOn,
  type KubeCluster,
  kubectl,
} from '../helpers/kube-cluster.ts';
import { KubeletTokenVolume } from '../helpers/kubelet-token-volume.ts';
import { netnsHttp } from '../helpers/netns-http.ts';
import { S3_CLIENTS, s3Target } from '../helpers/s3-clients.ts';
import { BUNDLE } from '../helpers/sidecar-process.ts';

// Issue #12, proved for real: Ceph RGW 16.2.15 (which reads only the first JWKS key and needs its
// x5c) accepts tokens a real kube-apiserver issued, through `sts-sidecar issuer` installed by the
// chart. The cluster is the RGW suite's own (.ci/peers/kube-rgw.sh): its tokens carry the issuer
// https://127.0.0.1:16445, which the host forwards to the publisher's NodePort, so radosgw (a host
// process) fetches discovery and JWKS from the publisher as a store outside a cluster does. This
// suite restarts that API server and rotates its signing key.

const execFileAsync = promisify(execFile);
const ISSUER_URL = 'https://127.0.0.1:16445';
const NODE_PORT = 30443;
const RELEASE = 'oidc';
const RELEASE_NS = 'sts-issuer';
const APP = { namespace: 'shop', serviceAccount: 'app' } as const;
const AUDIENCE = 'sts.rgw-kube.e2e';
/** How long a condition the publisher reaches by itself (refresh every second) may take. */
const SETTLE_MS = 60_000;

const foundCluster = await findKubeCluster('rgw');
const foundRgw = await findRgwPeer();
const helmTool = findGoTool('helm');
const helm = helmTool.path ?? '';
const skip =
  'reason' in foundCluster
    ? foundCluster.reason
    : 'reason' in foundRgw
      ? foundRgw.reason
      : helmTool.path === undefined
        ? helmTool.skipReason
        : undefined;

interface World {
  cluster: KubeCluster;
  peer: RgwPeer;
  iam: RgwIam;
  roleArn: string;
  dir: string;
}
let world: World | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

interface Jwk {
  kid: string;
  x5c?: string[];
}

/** GET over HTTPS from the host, trusting the issuer's certificate (.ci/peers/ceph.sh made it). */
function issuerGet(path: string, caPem: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${ISSUER_URL}${path}`, { ca: caPem, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 1024 * 1024) req.destroy(new Error('answer over 1 MiB'));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function publishedKeys(): Promise<Jwk[]> {
  const res = await issuerGet('/openid/v1/jwks', need().peer.issuerCertPem);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { keys: Jwk[] }).keys;
}

/**
 * Polls `probe` until it returns a value (the publisher refreshes every second, kube-proxy
 * programs the NodePort on its own schedule); fails with the last error after SETTLE_MS.
 */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + SETTLE_MS;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`not within ${SETTLE_MS} ms: ${what}; last: ${String(last)}`);
    // A poll interval, not a synchronisation: the loop ends on the condition, not the time.
    await pause(500);
  }
}

function need(): World {
  assert.ok(world, 'suite setup did not run');
  return world;
}

/** A token from the real API server for the app's ServiceAccount (TokenRequest, 10 min). */
async function apiServerToken(): Promise<string> {
  const out = await kubectl(need().cluster, [
    'create',
    'token',
    APP.serviceAccount,
    '-n',
    APP.namespace,
    '--audience',
    AUDIENCE,
    '--duration',
    '10m',
  ]);
  return out.trim();
}

const kidOf = (jwt: string): string =>
  (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

/** AssumeRoleWithWebIdentity by hand: RGW's raw status and body. */
async function exchange(token: string) {
  const w = need();
  return postAssumeRoleWithWebIdentity(w.peer.endpoint, {
    RoleArn: w.roleArn,
    RoleSessionName: 'rgw-kube-e2e',
    WebIdentityToken: token,
    DurationSeconds: '900',
  });
}

/** `helm upgrade` of the publisher with issuer.x5c set, waiting for the rollout. */
async function setX5c(on: boolean): Promise<void> {
  await helmOn(need().cluster, helm, [
    'upgrade',
    RELEASE,
    CHART_DIR,
    '-n',
    RELEASE_NS,
    '--reuse-values',
    '--set',
    `issuer.x5c=${on}`,
    '--wait',
    '--timeout',
    '3m',
  ]);
}

/** `sts-sidecar check --json` on the host, with the sidecar's own env and a token file. */
async function runCheck(tokenFile: string): Promise<{ code: number; report: Record<string, unknown> }> {
  const w = need();
  const result = await execFileAsync(process.execPath, [BUNDLE, 'check', '--json'], {
    env: {
      PATH: process.env.PATH,
      NODE_USE_SYSTEM_CA: '1',
      STS_SIDECAR_STS_ENDPOINT: w.peer.endpoint,
      STS_SIDECAR_FLAVOR: 'rgw',
      STS_SIDECAR_ROLE_ARN: w.roleArn,
      STS_SIDECAR_TOKEN_FILE: tokenFile,
      STS_SIDECAR_DURATION_SECONDS: '900',
    },
    timeout: 60_000,
    encoding: 'utf8',
  }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr,
    }),
  );
  return { code: result.code, report: JSON.parse(result.stdout) as Record<string, unknown> };
}

/** The publisher pods' addresses inside the cluster's namespace (their metrics, their own answers). */
async function publisherPods(): Promise<Array<{ name: string; ip: string }>> {
  const list = await getJson<{
    items: Array<{
      metadata: { name: string; deletionTimestamp?: string };
      status: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
    }>;
  }>(need().cluster, ['pods', '-n', RELEASE_NS, '-l', 'app.kubernetes.io/component=issuer']);
  // Not the replicas a rollout is replacing: only those in service.
  return list.items
    .filter(
      (p) =>
        p.metadata.deletionTimestamp === undefined &&
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP ?? '' }));
}

/**
 * The JWKS of every publisher replica in service, each asked directly inside the namespace: the
 * Service sends RGW's fetch to any of them, and each refreshes on its own schedule, so a test that
 * depends on what RGW gets waits until all of them agree (the certificate names the Service, not
 * the pod IP: not verified here).
 */
async function replicaKeys(): Promise<Jwk[][]> {
  const pods = await publisherPods();
  return Promise.all(
    pods.map(async (p) => {
      const res = await netnsHttp(need().cluster.netns, `https://${p.ip}:8443/openid/v1/jwks`, {
        insecure: true,
      });
      assert.equal(res.status, 200, res.body);
      return (JSON.parse(res.body) as { keys: Jwk[] }).keys;
    }),
  );
}

/** A counter of one publisher pod's /metrics (ops port 9189), read from inside the namespace. */
async function metric(podIp: string, series: string): Promise<number> {
  const res = await netnsHttp(need().cluster.netns, `http://${podIp}:9189/metrics`);
  const line = res.body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

before(async () => {
  if (skip !== undefined || !('cluster' in foundCluster) || !('peer' in foundRgw)) return;
  const { cluster } = foundCluster;
  const { peer } = foundRgw;
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-rgw-kube-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  // The publisher serves with the certificate RGW already trusts (system store, SAN 127.0.0.1).
  await kubectl(cluster, ['create', 'namespace', RELEASE_NS]);
  cleanups.push(() => kubectl(cluster, ['delete', 'namespace', RELEASE_NS, '--wait=false']));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(certFile, peer.issuerCertPem);
  await writeFile(keyFile, peer.issuerKeyPem, { mode: 0o600 });
  await kubectl(cluster, [
    'create',
    'secret',
    'tls',
    'oidc-tls',
    '-n',
    RELEASE_NS,
    '--cert',
    certFile,
    '--key',
    keyFile,
  ]);
  // Before the install: a failed install leaves cluster-scoped objects (the discovery binding)
  // that deleting the namespace does not remove.
  cleanups.push(() => helmOn(cluster, helm, ['uninstall', RELEASE, '-n', RELEASE_NS, '--wait']));
  const [repository, tag] = STS_SIDECAR_IMAGE.ref.split(':') as [string, string];
  await helmOn(cluster, helm, [
    'install',
    RELEASE,
    CHART_DIR,
    '-n',
    RELEASE_NS,
    '--set',
    [
      `image.repository=${repository}`,
      `image.tag=${tag}`,
      'image.pullPolicy=Never',
      'webhook.enabled=false',
      'issuer.enabled=true',
      'issuer.tls.mode=secret',
      'issuer.tls.secret.name=oidc-tls',
      'issuer.service.type=NodePort',
      `issuer.service.nodePort=${NODE_PORT}`,
      'issuer.refreshIntervalSeconds=1',
    ].join(','),
    '--wait',
    '--timeout',
    '3m',
  ]);
  const thumbprints = await until('the publisher answers on the issuer URL', async () => {
    const res = await issuerGet('/thumbprints', peer.issuerCertPem);
    return res.status === 200 ? (JSON.parse(res.body) as Array<{ thumbprint: string }>) : undefined;
  });
  const iam = new RgwIam(peer, dir);
  const providerArn = await iam.createOidcProvider(
    ISSUER_URL,
    [AUDIENCE],
    thumbprints.map((t) => t.thumbprint),
  );
  cleanups.push(() => iam.deleteOidcProvider(providerArn));
  const { roleArn, roleName } = await iam.createWebIdentityRole({
    providerArn,
    issuer: ISSUER_URL,
    audience: AUDIENCE,
    subject: `system:serviceaccount:${APP.namespace}:${APP.serviceAccount}`,
    namePrefix: 'sts-sidecar-rgw-kube',
  });
  cleanups.push(() => iam.deleteRole(roleName));
  await kubectl(cluster, ['create', 'namespace', APP.namespace]);
  cleanups.push(() => kubectl(cluster, ['delete', 'namespace', APP.namespace, '--wait=false']));
  await kubectl(cluster, ['create', 'serviceaccount', APP.serviceAccount, '-n', APP.namespace]);
  world = { cluster, peer, iam, roleArn, dir };
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

describe('Ceph RGW with a real cluster: the OIDC publisher (issue #12)', { skip, concurrency: false }, () => {
  test("RGW 16.2.15 accepts a real API-server token through the publisher; an SDK does S3 I/O with the sidecar's credentials; check passes", async (t) => {
    const w = need();
    const keys = await publishedKeys();
    assert.ok(
      keys.every((k) => k.x5c?.length === 1),
      'one certificate per key: the key itself, issued by the publisher CA',
    );
    const token = await apiServerToken();
    assert.equal(keys[0]!.kid, kidOf(token), 'the key that signs new tokens comes first');
    const volume = await KubeletTokenVolume.create(token);
    t.after(() => volume.cleanup());
    const sidecar = await startRgwSidecar({ peer: w.peer, roleArn: w.roleArn, volume });
    t.after(() => sidecar.close());
    const first = await sidecar.ready();
    assert.match(String(first.assumedRoleArn), /assumed-role/);
    const client = S3_CLIENTS.find((c) => !c.probe.skip);
    assert.ok(client, 'no S3 client installed: run bash .ci/install-test-clients.sh');
    const target = await s3Target(
      w.peer.endpoint,
      sidecar.clientEnv(),
      await mkdtemp(join(w.dir, 'client-')),
    );
    const session = client.start(target, `rgw-kube-${randomBytes(3).toString('hex')}`);
    const calls = await session.done;
    assert.equal(calls.length, 4, `${client.name}: CreateBucket, PutObject, GetObject, ListObjects`);
    for (const call of calls)
      assert.equal(call.accessKeyId, first.accessKeyId, `${client.name} signed with the sidecar's key`);
    const check = await runCheck(volume.path);
    assert.equal(check.code, 0, JSON.stringify(check.report));
    assert.equal(check.report.ok, true);
  });

  test("without x5c (the publisher passing the API server's JWKS through) RGW refuses the same token, and check names the missing x5c", async (t) => {
    const token = await apiServerToken();
    assert.equal((await exchange(token)).status, 200, 'accepted with x5c');
    await setX5c(false);
    t.after(() => setX5c(true));
    await until('every publisher replica serves keys without x5c', async () => {
      const all = await replicaKeys();
      return all.length > 0 && all.every((keys) => keys.every((k) => k.x5c === undefined)) ? true : undefined;
    });
    const refused = await exchange(token);
    assert.notEqual(refused.status, 200, 'RGW 16.2.15 refuses a JWKS without x5c');
    assert.match(refused.body, /AccessDenied|InvalidIdentityToken|Unknown/);
    const volume = await KubeletTokenVolume.create(token);
    t.after(() => volume.cleanup());
    const check = await runCheck(volume.path);
    assert.equal(check.code, 1);
    assert.equal((check.report.firstFailure as { code?: string }).code, 'CHECK_JWKS_NO_X5C');
  });

  test('the publisher survives an API server restart: cached documents while it is down, RGW still accepts, refreshed after', async () => {
    const w = need();
    // The x5c-off test's upgrade back may still be rolling out: wait until every replica in
    // service has x5c again, whichever one the Service picks.
    await until('every publisher replica serves x5c again', async () => {
      const all = await replicaKeys();
      return all.length >= 2 && all.every((keys) => keys.every((k) => k.x5c?.length === 1))
        ? true
        : undefined;
    });
    const pods = await publisherPods();
    const before = await publishedKeys();
    assert.ok(before.every((k) => k.x5c?.length === 1));
    const token = await apiServerToken();
    const failures = 'sts_sidecar_issuer_refreshes_total{result="api_error"}';
    const failedBefore = await metric(pods[0]!.ip, failures);
    await clusterCommand(w.cluster, 'stop-apiserver');
    try {
      await until('the publisher saw a failed refresh', async () =>
        (await metric(pods[0]!.ip, failures)) > failedBefore ? true : undefined,
      );
      assert.deepEqual(await publishedKeys(), before, 'the cached documents, unchanged');
      assert.equal((await exchange(token)).status, 200, 'RGW accepts while the API server is down');
    } finally {
      await clusterCommand(w.cluster, 'start-apiserver');
    }
    const successes = 'sts_sidecar_issuer_refreshes_total{result="success"}';
    const okAfterStart = await metric(pods[0]!.ip, successes);
    await until('the publisher refreshed from the restarted API server', async () =>
      (await metric(pods[0]!.ip, successes)) > okAfterStart ? true : undefined,
    );
    assert.equal((await exchange(await apiServerToken())).status, 200);
  });

  test('signing-key rotation: the new key is served first with x5c, RGW accepts new tokens, every replica answers the same bytes', async () => {
    const w = need();
    const before = await publishedKeys();
    await clusterCommand(w.cluster, 'rotate-signing-key');
    const token = await apiServerToken();
    const newKid = kidOf(token);
    assert.ok(!before.some((k) => k.kid === newKid), 'the API server signs with a new key');
    const keys = await until('every publisher replica serves the new key first', async () => {
      const all = await replicaKeys();
      const ready = all.every((k) => k.length === before.length + 1 && k[0]!.kid === newKid);
      return all.length >= 2 && ready ? all[0] : undefined;
    });
    assert.ok(
      keys.every((k) => k.x5c?.length === 1),
      'x5c on every key',
    );
    for (const old of before)
      assert.deepEqual(
        keys.find((k) => k.kid === old.kid),
        old,
        `key ${old.kid}: the same certificate as before the rotation (a stable thumbprint)`,
      );
    const accepted = await exchange(token);
    assert.equal(accepted.status, 200, accepted.body);
    // Both replicas, asked directly inside the cluster, serve the same JWKS (same CA key, same
    // certificates) — the thumbprint registered at RGW holds whichever replica answers.
    const bodies = await Promise.all(
      (await publisherPods()).map(
        async (p) =>
          (await netnsHttp(w.cluster.netns, `https://${p.ip}:8443/openid/v1/jwks`, { insecure: true })).body,
      ),
    );
    assert.ok(bodies.length >= 2, 'two replicas');
    assert.equal(new Set(bodies).size, 1, 'every replica serves the same JWKS');
  });
});

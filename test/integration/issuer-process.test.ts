// The built `sts-sidecar issuer` as processes, configured by env as the chart does: two replicas
// with one CA key serve identical thumbprints, and neither the CA key nor a probe token ever
// reaches the output or the metrics.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ISSUER_OPTIONS } from '../../src/config/issuer-options.ts';
import { FakeClusterIssuer, newSigningKey } from '../fakes/fake-cluster-issuer.ts';
import { FakeKubeApi } from '../fakes/fake-kube-api.ts';
import { IssuerProcess } from '../helpers/issuer-process.ts';
import { BUNDLE } from '../helpers/sidecar-process.ts';
import { createSelfSignedCert, type SelfSignedCert } from '../helpers/tls.ts';

interface World {
  dir: string;
  tls: SelfSignedCert;
  caKeyPem: string;
  cluster: FakeClusterIssuer;
  env: NodeJS.ProcessEnv;
}

async function world(t: TestContext): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'sts-issuer-proc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tls = await createSelfSignedCert({ dir });
  const apiCert = await createSelfSignedCert({ dir: await mkdtemp(join(dir, 'api-')) });
  const kube = new FakeKubeApi(apiCert);
  await kube.start();
  t.after(() => kube.close());
  const cluster = new FakeClusterIssuer(kube, { issuer: 'https://kubernetes.default.svc.cluster.local' });
  cluster.keys.push(newSigningKey());
  cluster.signingKid = cluster.keys[1]!.kid;
  const caKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs1',
    format: 'pem',
  }) as string;
  await writeFile(join(dir, 'ca.key'), caKeyPem, { mode: 0o600 });
  const env = {
    KUBECONFIG: await kube.writeKubeconfig(dir),
    STS_SIDECAR_ISSUER_TLS_CERT_FILE: tls.certFile,
    STS_SIDECAR_ISSUER_TLS_KEY_FILE: tls.keyFile,
    STS_SIDECAR_ISSUER_CA_KEY_FILE: join(dir, 'ca.key'),
    STS_SIDECAR_ISSUER_LISTEN_HOST: '127.0.0.1',
    STS_SIDECAR_ISSUER_LISTEN_PORT: '0',
    STS_SIDECAR_ISSUER_OPS_HOST: '127.0.0.1',
    STS_SIDECAR_ISSUER_OPS_PORT: '0',
    STS_SIDECAR_ISSUER_DRAIN_SECONDS: '0',
    STS_SIDECAR_ISSUER_SHUTDOWN_GRACE_SECONDS: '0',
    STS_SIDECAR_ISSUER_PROBE_NAMESPACE: 'sts-system',
    STS_SIDECAR_ISSUER_PROBE_SERVICE_ACCOUNT: 'sts-issuer',
    STS_SIDECAR_ISSUER_LOG_LEVEL: 'debug',
  };
  return { dir, tls, caKeyPem, cluster, env };
}

/** Every 24-character run of a secret: a partial leak counts too. */
const runsOf = (secret: string): string[] => {
  const flat = secret.replace(/-----[A-Z ]+-----|\s/g, '');
  const out: string[] = [];
  for (let i = 0; i + 24 <= flat.length; i += 12) out.push(flat.slice(i, i + 24));
  return out;
};

test(
  'two publishers with one CA key serve byte-identical JWKS and thumbprints; no secret in their output or metrics',
  { timeout: 60_000 },
  async (t) => {
    const w = await world(t);
    const replicas = [await IssuerProcess.start(w.env), await IssuerProcess.start(w.env)];
    t.after(async () => {
      for (const r of replicas) r.child.kill('SIGKILL');
    });
    for (const r of replicas) await r.waitFor((l) => l.event === 'keys_changed');
    const [a, b] = replicas as [IssuerProcess, IssuerProcess];
    const thumbprints = (await a.get('/thumbprints', w.tls.certPem)).body;
    assert.equal((await b.get('/thumbprints', w.tls.certPem)).body, thumbprints);
    assert.equal(
      (await b.get('/openid/v1/jwks', w.tls.certPem)).body,
      (await a.get('/openid/v1/jwks', w.tls.certPem)).body,
    );
    const listed = JSON.parse(thumbprints) as { kid: string; thumbprint: string; signing: boolean }[];
    assert.deepEqual(
      listed.map((k) => k.kid),
      [w.cluster.keys[1]!.kid, w.cluster.keys[0]!.kid],
      'the probed key first',
    );
    for (const r of replicas) {
      const line = await r.waitFor((l) => l.event === 'keys_changed');
      assert.deepEqual(line.keys, listed, 'the kid → thumbprint log line');
      assert.equal((await r.ops('/readyz')).status, 200);
    }

    assert.ok(w.cluster.tokenRequests.length >= 2, 'each replica probed');
    const metrics = (await a.ops('/metrics')).body + (await b.ops('/metrics')).body;
    assert.match(metrics, /sts_sidecar_issuer_refreshes_total\{result="success"\} 1/);
    assert.match(
      metrics,
      new RegExp(
        `sts_sidecar_issuer_key_info\\{kid="${listed[0]!.kid}",thumbprint="${listed[0]!.thumbprint}",signing="true"\\} 1`,
      ),
    );
    assert.match(metrics, /sts_sidecar_issuer_keys_served 2/);
    for (const r of replicas) assert.equal(await r.stop(), 0);
    const output = replicas.map((r) => r.output).join('\n');
    assert.match(output, /"event":"stopped"/, 'the output was captured');
    const secrets = [w.caKeyPem, ...w.cluster.tokenRequests.map((r) => r.token)];
    for (const secret of secrets)
      for (const run of runsOf(secret)) {
        assert.equal(output.includes(run), false, 'a secret reached the log');
        assert.equal(metrics.includes(run), false, 'a secret reached the metrics');
      }
  },
);

test('a CA key that is not RSA: exit 2 naming the file, without its content', async (t) => {
  const w = await world(t);
  const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  await writeFile(join(w.dir, 'ca.key'), ecKey);
  const r = spawnSync(process.execPath, [BUNDLE, 'issuer'], {
    env: { PATH: process.env.PATH, ...w.env },
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /ISSUER_CA_KEY_INVALID: .*ca\.key holds a ec key; the CA key must be RSA of at least 2048 bits/,
  );
  for (const run of runsOf(ecKey)) assert.equal(`${r.stdout}${r.stderr}`.includes(run), false);
});

test('issuer --help lists every option; the top-level help names the subcommand', () => {
  const help = spawnSync(process.execPath, [BUNDLE, 'issuer', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const o of ISSUER_OPTIONS) {
    assert.ok(help.stdout.includes(`--${o.flag}`), o.flag);
    assert.ok(help.stdout.includes(o.env), o.env);
  }
  const top = spawnSync(process.execPath, [BUNDLE, '--help'], { encoding: 'utf8' });
  assert.match(
    top.stdout,
    /sts-sidecar issuer +\[flags\] +serve the cluster's OIDC discovery and JWKS with x5c for stores/,
  );
});

test('bad configuration: exit 2 with every problem', () => {
  const r = spawnSync(
    process.execPath,
    [BUNDLE, 'issuer', '--ca-key-file=/nonexistent', '--max-stale-seconds=0'],
    {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /CONFIG_INVALID/);
  assert.match(r.stderr, /STS_SIDECAR_ISSUER_CA_KEY_FILE \/ --ca-key-file: cannot be read \(ENOENT\)/);
  assert.match(r.stderr, /--max-stale-seconds: must be between 1 and 604800/);
  assert.match(r.stderr, /Run sts-sidecar issuer --help\./);
});

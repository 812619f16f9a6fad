// Issue #12, part 3: `sts-sidecar check` (the built CLI) against a real Ceph RGW
// (.ci/peers/ceph.sh): the all-good path, a role whose trust policy refuses the token's sub,
// and an issuer without x5c, which check names before the store is asked, and which RGW
// before 18.2.8 / 19.2.3 then refuses for real.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { rgwNeedsX5c } from '../../src/check/rgw-versions.ts';
import { OidcIssuer, type SignTokenOptions } from '../fakes/oidc-issuer.ts';
import { findRgwPeer, RgwIam, type RgwPeer } from '../helpers/ceph-rgw.ts';
import { assertBrokenAt, runCheckCli, stepOf } from '../helpers/check-runner.ts';

const AUDIENCE = 'sts.example.test';
const POD = { namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' } as const;

const found = await findRgwPeer();
const skip = 'reason' in found ? found.reason : undefined;

/** One issuer registered at RGW as an OIDC provider, and a role that admits its pod tokens. */
interface Trusted {
  issuer: OidcIssuer;
  roleArn: string;
}

interface World {
  peer: RgwPeer;
  dir: string;
  /** Publishes x5c: what RGW 16.2.15 needs. */
  withX5c: Trusted;
  /** Publishes no x5c, like a Kubernetes API server. */
  bare: Trusted;
}
let world: World | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

async function trust(peer: RgwPeer, iam: RgwIam, x5c: boolean): Promise<Trusted> {
  // RGW fetches https only, verified against the system CA store, where .ci/peers/ceph.sh put
  // this certificate; check trusts the system store too, so no --issuer-ca-file is needed.
  const issuer = await OidcIssuer.start({
    tls: { certPem: peer.issuerCertPem, keyPem: peer.issuerKeyPem },
    x5c,
  });
  cleanups.push(() => issuer.close());
  const thumbprint = new X509Certificate(peer.issuerCertPem).fingerprint.replaceAll(':', '');
  const providerArn = await iam.createOidcProvider(issuer.issuer, [AUDIENCE], [thumbprint]);
  cleanups.push(() => iam.deleteOidcProvider(providerArn));
  const { roleArn, roleName } = await iam.createWebIdentityRole({
    providerArn,
    issuer: issuer.issuer,
    audience: AUDIENCE,
    subject: `system:serviceaccount:${POD.namespace}:${POD.serviceAccount}`,
    namePrefix: 'sts-sidecar-check',
    s3Actions: ['s3:ListAllMyBuckets'],
  });
  cleanups.push(() => iam.deleteRole(roleName));
  return { issuer, roleArn };
}

before(async () => {
  if (!('peer' in found)) return;
  const { peer } = found;
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-check-rgw-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const iam = new RgwIam(peer, dir);
  world = { peer, dir, withX5c: await trust(peer, iam, true), bare: await trust(peer, iam, false) };
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** The env the webhook would inject for `trusted`'s role, with `token` in the token file. */
async function podEnv(
  t: TestContext,
  trusted: Trusted,
  token: SignTokenOptions = {},
): Promise<NodeJS.ProcessEnv> {
  const w = world!;
  const tokenFile = join(await mkdtemp(join(w.dir, 'pod-')), 'token');
  await writeFile(tokenFile, trusted.issuer.signToken({ audience: AUDIENCE, ...POD, ...token }));
  t.after(() => rm(tokenFile, { force: true }));
  return {
    STS_SIDECAR_STS_ENDPOINT: w.peer.endpoint,
    STS_SIDECAR_FLAVOR: 'rgw',
    STS_SIDECAR_ROLE_ARN: trusted.roleArn,
    STS_SIDECAR_TOKEN_FILE: tokenFile,
    // RGW's minimum and its roles' default maximum is 3600; 900 is always within.
    STS_SIDECAR_DURATION_SECONDS: '900',
    POD_NAMESPACE: POD.namespace,
    POD_NAME: POD.podName,
  };
}

test(
  'real RGW, every link holds: exit 0, ok:true, RGW issued credentials',
  { skip, timeout: 60_000 },
  async (t) => {
    const run = await runCheckCli(['--json'], await podEnv(t, world!.withX5c));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.report?.ok, true);
    const exchange = stepOf(run, 'exchange');
    assert.equal(exchange.status, 'ok');
    assert.match(
      String(exchange.details.assumedRoleArn),
      /:assumed-role\/sts-sidecar-check-[0-9a-f]{8}\/shop\.cart-0$/,
    );
    t.diagnostic(`RGW ${world!.peer.version}: ${exchange.message}`);
  },
);

test(
  "role refused: the trust policy does not admit the token's sub → STS_ACCESS_DENIED",
  { skip, timeout: 60_000 },
  async (t) => {
    const env = await podEnv(t, world!.withX5c, { serviceAccount: 'intruder' });
    const failure = assertBrokenAt(await runCheckCli(['--json'], env), 'exchange', 'STS_ACCESS_DENIED');
    assert.match(failure.fix ?? '', /sub system:serviceaccount:shop:intruder/);
    assert.equal(failure.details.upstreamCode, 'AccessDenied');
  },
);

test(
  'no x5c: check names it before the store is asked; RGW confirms by refusing the same token',
  { skip, timeout: 60_000 },
  async (t) => {
    const env = await podEnv(t, world!.bare);
    const failure = assertBrokenAt(await runCheckCli(['--json'], env), 'x5c', 'CHECK_JWKS_NO_X5C');
    assert.match(failure.message, /no x5c on key/);
    // Claim a fixed RGW to get past the x5c step: the trial exchange then shows what this RGW does
    // with the token. The role and provider are the same shape as the all-good test's.
    const { version } = world!.peer;
    const forced = await runCheckCli(['--json', '--rgw-version', '19.2.3'], env);
    if (rgwNeedsX5c(version)) {
      assertBrokenAt(forced, 'exchange', 'STS_ACCESS_DENIED');
      t.diagnostic(`RGW ${version} refused the token without x5c, as check said it would`);
    } else {
      assert.equal(forced.code, 0, `RGW ${version} is past the fix: it must accept the token`);
    }
  },
);

// deploy/examples/rgw against a real radosgw (.ci/peers/ceph.sh): setup-rgw.sh, run as a user
// would, creates an OIDC provider and a role from trust-policy.json and role-policy.json, and the
// role admits the example's pod token (demo/s3-app, audience sts.example.internal) and nothing else.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OidcIssuer } from '../fakes/oidc-issuer.ts';
import { findRgwPeer, postAssumeRoleWithWebIdentity, RgwIam, rgwAdminCliEnv } from '../helpers/ceph-rgw.ts';
import { missingPeer } from '../helpers/required-peer.ts';

const execFileAsync = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../deploy/examples/rgw/setup-rgw.sh', import.meta.url));
/** What the example's ServiceAccount and overlay say (deploy/examples/app, rgw). */
const EXAMPLE = { namespace: 'demo', serviceAccount: 's3-app', audience: 'sts.example.internal' } as const;

const found = await findRgwPeer();
const awsCli = await execFileAsync('aws', ['--version']).then(
  () => undefined,
  () => missingPeer('aws CLI not installed: run bash .ci/install-test-clients.sh'),
);
const skip = 'reason' in found ? found.reason : awsCli;

test(
  'setup-rgw.sh: the role it creates admits the example pod, not another ServiceAccount or audience',
  { skip, timeout: 120_000 },
  async (t) => {
    if (!('peer' in found)) return;
    const { peer } = found;
    const home = await mkdtemp(join(tmpdir(), 'sts-sidecar-deploy-rgw-'));
    t.after(() => rm(home, { recursive: true, force: true }));
    // RGW 16.2 needs x5c and an https issuer it trusts (.ci/peers/ceph.sh put this cert in the system store).
    const issuer = await OidcIssuer.start({
      tls: { certPem: peer.issuerCertPem, keyPem: peer.issuerKeyPem },
      x5c: true,
    });
    t.after(() => issuer.close());
    const roleName = `s3-app-${randomBytes(4).toString('hex')}`;
    const iam = new RgwIam(peer, home);
    const host = new URL(issuer.issuer).host;
    t.after(async () => {
      await iam.deleteRole(roleName).catch(() => {});
      await iam.deleteOidcProvider(`arn:aws:iam:::oidc-provider/${host}`).catch(() => {});
    });

    const { stdout } = await execFileAsync('bash', [SCRIPT], {
      timeout: 60_000,
      env: {
        ...rgwAdminCliEnv(peer, home),
        RGW_ENDPOINT: peer.endpoint,
        ISSUER: issuer.issuer,
        THUMBPRINT: new X509Certificate(peer.issuerCertPem).fingerprint.replaceAll(':', ''),
        ROLE_NAME: roleName,
      },
    });
    const roleArn = stdout.trim();
    assert.equal(roleArn, `arn:aws:iam:::role/${roleName}`);

    const exchange = (token: string) =>
      postAssumeRoleWithWebIdentity(peer.endpoint, {
        RoleArn: roleArn,
        RoleSessionName: 'demo.s3-app-0',
        WebIdentityToken: token,
        DurationSeconds: '900',
      });
    const ok = await exchange(issuer.signToken({ ...EXAMPLE, podName: 's3-app-0' }));
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.body, /<AccessKeyId>/);
    const otherSa = await exchange(
      issuer.signToken({ ...EXAMPLE, serviceAccount: 'other', podName: 'other-0' }),
    );
    assert.equal(otherSa.status, 403, `another ServiceAccount is refused: ${otherSa.body}`);
    const otherAud = await exchange(
      issuer.signToken({ ...EXAMPLE, audience: 'sts.other.test', podName: 's3-app-0' }),
    );
    assert.equal(otherAud.status, 403, `another audience is refused: ${otherAud.body}`);
  },
);

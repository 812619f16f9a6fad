// Issue #12: Ceph RGW 16.2.15 (.ci/peers/ceph.sh) verifies cluster tokens through the issuer
// publisher, and refuses them from the API server's own JWKS (no x5c). The "API server" is the
// fake; the publisher serves HTTPS with the certificate RGW's system store trusts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { FakeClusterIssuer } from '../fakes/fake-cluster-issuer.ts';
import { newSigningKey } from '../fakes/fake-cluster-issuer.ts';
import { apiServerJwk } from '../fakes/kube-jwks.ts';
import { findRgwPeer, postAssumeRoleWithWebIdentity, RgwIam, type RgwPeer } from '../helpers/ceph-rgw.ts';
import { IssuerHarness } from '../helpers/issuer-harness.ts';

const AUDIENCE = 'sts.example.test';
const SUB = 'system:serviceaccount:shop:cart';
const found = await findRgwPeer();
const skip = 'reason' in found ? found.reason : undefined;

/** An OIDC provider for `issuerUrl` and a role that trusts its tokens for AUDIENCE/SUB; removed after. */
async function provision(
  t: TestContext,
  peer: RgwPeer,
  issuerUrl: string,
  thumbprints: string[],
): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'sts-issuer-rgw-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const iam = new RgwIam(peer, home);
  const providerArn = await iam.createOidcProvider(issuerUrl, [AUDIENCE], thumbprints);
  t.after(() => iam.deleteOidcProvider(providerArn));
  const host = new URL(issuerUrl).host;
  const name = `sts-issuer-it-${randomBytes(4).toString('hex')}`;
  const roleArn = await iam.createRole({
    name,
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: [providerArn] },
          Action: ['sts:AssumeRoleWithWebIdentity'],
          Condition: { StringEquals: { [`${host}:aud`]: AUDIENCE, [`${host}:sub`]: SUB } },
        },
      ],
    },
    rolePolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['*'] }],
    },
  });
  t.after(() => iam.deleteRole(name));
  return roleArn;
}

async function assume(
  peer: RgwPeer,
  roleArn: string,
  token: string,
): Promise<{ status: number; body: string }> {
  return postAssumeRoleWithWebIdentity(peer.endpoint, {
    RoleArn: roleArn,
    RoleSessionName: 'shop.cart-0',
    WebIdentityToken: token,
    DurationSeconds: '900',
  });
}

/** The API server's documents served as they are (no x5c), at their own HTTPS URL: no publisher. */
async function rawIssuer(t: TestContext, peer: RgwPeer, cluster: FakeClusterIssuer): Promise<string> {
  let url = '';
  const server = createServer({ cert: peer.issuerCertPem, key: peer.issuerKeyPem }, (req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration'
        ? { issuer: url, jwks_uri: `${url}/openid/v1/jwks` }
        : {
            keys: cluster.keys.map(apiServerJwk),
          };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() =>
    new Promise<void>((resolve) => server.close(() => resolve())).then(() => server.closeAllConnections()),
  );
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return url;
}

const accepted = (answer: { status: number; body: string }): boolean =>
  answer.status === 200 && answer.body.includes('<AccessKeyId>');

test(
  'RGW 16.2.15 accepts cluster tokens through the publisher (the probed signing key first), and refuses the raw JWKS',
  { skip, timeout: 120_000 },
  async (t) => {
    const { peer } = found as { peer: RgwPeer };
    const h = await IssuerHarness.start(t, {
      tls: { certPem: peer.issuerCertPem, keyPem: peer.issuerKeyPem },
    });
    await h.running.refresher.settled();
    h.cluster.issuer = h.issuerUrl; // the API server's --service-account-issuer is the publisher's URL
    await h.running.refresher.refresh();
    const thumbprints = (JSON.parse((await h.fetch('/thumbprints')).body) as { thumbprint: string }[]).map(
      (k) => k.thumbprint,
    );
    const roleArn = await provision(t, peer, h.issuerUrl, thumbprints);
    const [keyA] = h.cluster.keys as [ReturnType<typeof newSigningKey>];

    // One key (the API server default): tokens it signs are accepted.
    const one = await assume(peer, roleArn, h.cluster.signToken({ aud: [AUDIENCE], sub: SUB }));
    t.diagnostic(`one key: HTTP ${one.status}`);
    assert.ok(accepted(one), `RGW refused a token through the publisher: ${one.status} ${one.body}`);

    // A second key that signs now, listed after the old one by the API server: the probe puts it first.
    const keyB = newSigningKey();
    h.cluster.keys.push(keyB);
    h.cluster.signingKid = keyB.kid;
    await h.running.refresher.refresh();
    const order = (
      JSON.parse((await h.fetch('/openid/v1/jwks')).body) as { keys: { kid: string }[] }
    ).keys.map((k) => k.kid);
    assert.deepEqual(order, [keyB.kid, keyA.kid]);
    const byB = await assume(peer, roleArn, h.cluster.signToken({ aud: [AUDIENCE], sub: SUB }, keyB.kid));
    assert.ok(accepted(byB), `RGW refused a token of the signing key: ${byB.status} ${byB.body}`);
    // RGW reads only the first key: a token of the other key fails, which is why the order matters.
    const byA = await assume(peer, roleArn, h.cluster.signToken({ aud: [AUDIENCE], sub: SUB }, keyA.kid));
    t.diagnostic(`token of the second key: HTTP ${byA.status}`);
    assert.equal(accepted(byA), false, 'RGW 16.2.15 verified a key other than the first one');

    // Without the publisher: the same keys, as the API server serves them, at their own URL.
    const rawUrl = await rawIssuer(t, peer, h.cluster);
    const rawRole = await provision(t, peer, rawUrl, thumbprints);
    const logBefore = (await readFile(peer.logFile, 'utf8').catch(() => '')).length;
    const raw = await assume(
      peer,
      rawRole,
      h.cluster.signToken({ iss: rawUrl, aud: [AUDIENCE], sub: SUB }, keyB.kid),
    );
    t.diagnostic(`raw JWKS: HTTP ${raw.status}`);
    assert.equal(accepted(raw), false, 'RGW accepted a JWKS without x5c');
    assert.ok(raw.status >= 400 && raw.status < 500, `a refusal, not an outage: ${raw.status}`);
    // RGW writes its log after it answers, so this is a hint for a reader, not an assertion.
    const log = (await readFile(peer.logFile, 'utf8').catch(() => '')).slice(logBefore);
    t.diagnostic(`RGW log says "x5c not present" (so far): ${log.includes('x5c not present')}`);
  },
);

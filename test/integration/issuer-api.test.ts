// src/kube/issuer-api.ts over a real socket against the fake API server: the documents, the
// TokenRequest probe, and every fault the refresh loop must survive (down, 500, slow, oversized).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  createIssuerApi,
  type IssuerApi,
  MAX_DOCUMENT_BYTES,
  PROBE_AUDIENCE,
} from '../../src/kube/issuer-api.ts';
import { isSidecarError } from '../../src/shared/errors.ts';
import { FakeClusterIssuer, type IssuerFault, newSigningKey } from '../fakes/fake-cluster-issuer.ts';
import { FakeKubeApi } from '../fakes/fake-kube-api.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

async function setup(
  t: TestContext,
  probe = true,
): Promise<{ api: IssuerApi; issuer: FakeClusterIssuer; kube: FakeKubeApi }> {
  const cert = await createSelfSignedCert();
  const kube = new FakeKubeApi(cert);
  await kube.start();
  const issuer = new FakeClusterIssuer(kube, { issuer: 'https://kubernetes.default.svc.cluster.local' });
  t.after(async () => {
    await kube.close();
    await rm(cert.dir, { recursive: true, force: true });
  });
  const api = createIssuerApi({
    kubeconfig: await kube.writeKubeconfig(cert.dir),
    timeoutMs: 1_000,
    probe: probe ? { namespace: 'sts-system', serviceAccount: 'sts-issuer' } : undefined,
  });
  return { api, issuer, kube };
}

const rejectsWith = (code: string, message: RegExp) => (e: unknown) =>
  isSidecarError(e) && e.code === code && message.test(e.message);

test('reads discovery and the JWKS as the API server serves them', async (t) => {
  const { api, issuer } = await setup(t);
  issuer.keys.push(newSigningKey());
  const docs = await api.readDocuments();
  assert.equal(docs.discovery.issuer, 'https://kubernetes.default.svc.cluster.local');
  assert.deepEqual(
    docs.jwks.keys.map((k) => (k as { kid: string }).kid),
    issuer.keys.map((k) => k.kid),
  );
  assert.equal((docs.jwks.keys[0] as { x5c?: unknown }).x5c, undefined, 'the API server publishes no x5c');
});

test('the probe: a 600 s TokenRequest with the probe audience, for its own ServiceAccount; its header kid', async (t) => {
  const { api, issuer } = await setup(t);
  issuer.keys.push(newSigningKey());
  issuer.signingKid = issuer.keys[1]!.kid;
  assert.equal(await api.probeSigningKid(), issuer.keys[1]!.kid);
  assert.equal(issuer.tokenRequests.length, 1);
  const [r] = issuer.tokenRequests;
  assert.deepEqual([r!.namespace, r!.name], ['sts-system', 'sts-issuer']);
  assert.deepEqual(r!.body.spec, { audiences: [PROBE_AUDIENCE], expirationSeconds: 600 });
});

const documentFaults: Array<[IssuerFault, string, RegExp]> = [
  [
    'down',
    'ISSUER_API_UNAVAILABLE',
    /GET \/\.well-known\/openid-configuration failed \(ECONNRESET\).*system:service-account-issuer-discovery/,
  ],
  ['http500', 'ISSUER_API_UNAVAILABLE', /answered HTTP 500: injected failure/],
  ['slow', 'ISSUER_API_UNAVAILABLE', /got no answer within 1000 ms/],
  ['oversized', 'ISSUER_DOCUMENT_INVALID', new RegExp(`more than ${MAX_DOCUMENT_BYTES} bytes`)],
  ['notjson', 'ISSUER_DOCUMENT_INVALID', /not JSON/],
];
for (const [fault, code, message] of documentFaults)
  test(`documents, fault ${fault}: ${code}; the next read succeeds`, async (t) => {
    const { api, issuer } = await setup(t);
    issuer.failDocuments(fault, 1);
    await assert.rejects(api.readDocuments(), rejectsWith(code, message));
    assert.equal((await api.readDocuments()).jwks.keys.length, 1);
  });

test('documents of the wrong shape are refused', async (t) => {
  const { api, issuer, kube } = await setup(t);
  issuer.issuer = '';
  await assert.rejects(api.readDocuments(), rejectsWith('ISSUER_DOCUMENT_INVALID', /no "issuer"/));
  kube.routes.unshift((req, res, url) => {
    if (url.pathname !== '/openid/v1/jwks') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end('[1]');
    return true;
  });
  issuer.issuer = 'https://x.example';
  await assert.rejects(api.readDocuments(), rejectsWith('ISSUER_DOCUMENT_INVALID', /not an object/));
  kube.routes[0] = (req, res, url) => {
    if (url.pathname !== '/openid/v1/jwks') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":{}}');
    return true;
  };
  await assert.rejects(api.readDocuments(), rejectsWith('ISSUER_DOCUMENT_INVALID', /no "keys" array/));
  // A proxy in front of the API server answering plain text: the status is all there is to say.
  kube.routes[0] = (req, res, url) => {
    if (url.pathname !== '/openid/v1/jwks') return false;
    res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
    return true;
  };
  await assert.rejects(
    api.readDocuments(),
    rejectsWith('ISSUER_API_UNAVAILABLE', /answered HTTP 502\. Check/),
  );
});

test('a kubeconfig without a current cluster: ISSUER_API_UNAVAILABLE naming --kubeconfig', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sts-issuer-kc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'kubeconfig.json');
  await writeFile(
    file,
    JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }),
  );
  const api = createIssuerApi({ kubeconfig: file, timeoutMs: 1_000, probe: undefined });
  await assert.rejects(
    api.readDocuments(),
    rejectsWith('ISSUER_API_UNAVAILABLE', /no current cluster; set --kubeconfig/),
  );
});

const probeFaults: Array<[IssuerFault, RegExp]> = [
  [
    'http403',
    /answered HTTP 403: injected: cannot create resource "serviceaccounts\/token".*serviceaccounts\/token for that ServiceAccount/,
  ],
  ['down', /failed \(ECONNRESET\)/],
  ['slow', /no answer within 1000 ms/],
  ['oversized', /more than/],
  ['notjson', /no token with a "kid" header/],
];
for (const [fault, message] of probeFaults)
  test(`probe, fault ${fault}: ISSUER_PROBE_FAILED`, async (t) => {
    const { api, issuer } = await setup(t);
    issuer.failTokenRequests(fault, 1);
    await assert.rejects(api.probeSigningKid(), rejectsWith('ISSUER_PROBE_FAILED', message));
    assert.equal(await api.probeSigningKid(), issuer.signingKid);
  });

test('no probe ServiceAccount configured: ISSUER_PROBE_FAILED naming the flag, no request made', async (t) => {
  const { api, issuer } = await setup(t, false);
  await assert.rejects(api.probeSigningKid(), rejectsWith('ISSUER_PROBE_FAILED', /--probe-service-account/));
  assert.equal(issuer.requests.token, 0);
});

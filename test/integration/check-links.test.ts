// Issue #12, part 3: `sts-sidecar check` against a fake issuer and a fake STS over real sockets,
// one test per broken link. Each case runs the built CLI (what an operator runs) and the same
// command in-process (so src/ coverage sees it), and both must report the same chain.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertBrokenAt, runCheckBoth, stepOf } from '../helpers/check-runner.ts';
import { AUDIENCE, checkWorld as world, closedPort, podToken } from '../helpers/check-world.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

test('every link holds: exit 0, ok:true, eight steps in order', async (t) => {
  const w = await world(t);
  const run = await runCheckBoth([], w.env);
  assert.equal(run.code, 0, run.stdout);
  assert.equal(run.report?.ok, true);
  assert.equal(run.report?.firstFailure, null);
  assert.deepEqual(
    run.report?.steps.map((s) => `${s.step}:${s.status}`),
    ['token:ok', 'audience:skip', 'issuer:ok', 'jwks:ok', 'x5c:ok', 'sts:ok', 'clock:ok', 'exchange:ok'],
  );
  assert.match(stepOf(run, 'exchange').message, /valid until .* \(\d+ s\); dropped, not printed/);
  assert.equal(stepOf(run, 'jwks').details.signature, 'valid');
});

test('wrong audience: --audience names another client ID → CHECK_AUDIENCE_MISMATCH', async (t) => {
  const w = await world(t);
  const run = await runCheckBoth(['--audience', 'minio-client'], w.env);
  const failure = assertBrokenAt(run, 'audience', 'CHECK_AUDIENCE_MISMATCH');
  assert.match(failure.message, /aud is sts\.example\.test, but the store expects minio-client/);
  assert.match(failure.fix ?? '', /sts-sidecar\.io\/audience/);
  const good = await runCheckBoth(['--audience', AUDIENCE], w.env);
  assert.equal(stepOf(good, 'audience').status, 'ok');
});

test('unreachable issuer: the token names an issuer on a closed port → CHECK_ISSUER_UNREACHABLE', async (t) => {
  const w = await world(t);
  const iss = `http://127.0.0.1:${await closedPort()}`;
  await w.writeToken(podToken(w.issuer, { issuer: iss }));
  const failure = assertBrokenAt(await runCheckBoth([], w.env), 'issuer', 'CHECK_ISSUER_UNREACHABLE');
  assert.match(
    failure.message,
    new RegExp(`GET ${iss}/\\.well-known/openid-configuration from here: .*ECONNREFUSED`),
  );
  assert.equal(failure.details.error, 'ECONNREFUSED');
});

test("issuer mismatch: the discovery document's issuer differs from iss → CHECK_ISSUER_MISMATCH", async (t) => {
  const w = await world(t);
  // One trailing slash: the same server, but stores compare the strings exactly.
  await w.writeToken(podToken(w.issuer, { issuer: `${w.issuer.issuer}/` }));
  const failure = assertBrokenAt(await runCheckBoth([], w.env), 'issuer', 'CHECK_ISSUER_MISMATCH');
  assert.match(
    failure.message,
    /names issuer "http:\/\/127\.0\.0\.1:\d+", but the token's iss is "http:\/\/127\.0\.0\.1:\d+\/"/,
  );
});

test('missing kid: the issuer rotated to a key that did not sign the token → CHECK_JWKS_NO_KID', async (t) => {
  const w = await world(t);
  const kid = w.issuer.currentKid;
  await w.issuer.rotateSigningKey({ retainPrevious: false });
  const failure = assertBrokenAt(await runCheckBoth([], w.env), 'jwks', 'CHECK_JWKS_NO_KID');
  assert.match(failure.message, new RegExp(`has no key ${kid} \\(it has ${w.issuer.currentKid}\\)`));
  // Without a kid in the header at all, the same code names the other cause.
  await w.writeToken(podToken(w.issuer, { omitKid: true }));
  const noKid = assertBrokenAt(await runCheckBoth([], w.env), 'jwks', 'CHECK_JWKS_NO_KID');
  assert.match(noKid.message, /header has no kid/);
});

test('a key under the right kid that did not sign → CHECK_TOKEN_SIGNATURE_INVALID', async (t) => {
  const w = await world(t);
  await w.writeToken(podToken(w.issuer, { signWith: 'other-key' }));
  const failure = assertBrokenAt(await runCheckBoth([], w.env), 'jwks', 'CHECK_TOKEN_SIGNATURE_INVALID');
  assert.match(failure.message, /does not verify the token's RS256 signature/);
});

test('no x5c with flavor rgw → CHECK_JWKS_NO_X5C; --rgw-version of a fixed RGW passes it', async (t) => {
  const w = await world(t, { issuer: { x5c: false } });
  const failure = assertBrokenAt(await runCheckBoth([], w.env), 'x5c', 'CHECK_JWKS_NO_X5C');
  assert.match(
    failure.message,
    /has no x5c on key .*; Ceph RGW before 18\.2\.8 \(Reef\) \/ 19\.2\.3 \(Squid\) refuses it/,
  );
  assert.match(
    failure.fix ?? '',
    /sts-sidecar issuer.*issuer\.enabled.*--service-account-issuer.*--rgw-version/,
  );
  const old = assertBrokenAt(
    await runCheckBoth(['--rgw-version', '18.2.7'], w.env),
    'x5c',
    'CHECK_JWKS_NO_X5C',
  );
  assert.match(old.message, /\(--rgw-version 18\.2\.7\)/);
  const fixed = await runCheckBoth(['--rgw-version', '19.2.3'], w.env);
  assert.equal(fixed.code, 0, fixed.stdout);
  assert.match(stepOf(fixed, 'x5c').message, /RGW 19\.2\.3 verifies it without/);
});

test('no x5c is fine for MinIO: the x5c step is skipped', async (t) => {
  const w = await world(t, { issuer: { x5c: false }, sts: { mode: 'minio', roles: [] } });
  const run = await runCheckBoth([], w.env);
  assert.equal(run.code, 0, run.stdout);
  assert.match(stepOf(run, 'x5c').message, /only Ceph RGW needs x5c \(flavor minio\)/);
});

test('untrusted STS TLS: a self-signed https STS without --ca-file → CHECK_STS_TLS_UNTRUSTED; with it, ok', async (t) => {
  const cert = await createSelfSignedCert();
  t.after(() => rm(cert.dir, { recursive: true, force: true }));
  const w = await world(t, { sts: { tls: { certPem: cert.certPem, keyPem: cert.keyPem } } });
  const failure = assertBrokenAt(await runCheckBoth([], w.env), 'sts', 'CHECK_STS_TLS_UNTRUSTED');
  assert.match(failure.message, /failed with Node's built-in CAs \(no --ca-file\)/);
  assert.match(failure.fix ?? '', /--ca-file/);
  const trusted = await runCheckBoth(['--ca-file', cert.certFile], w.env);
  assert.equal(trusted.code, 0, trusted.stdout);
  assert.match(stepOf(trusted, 'sts').message, /its certificate trusted/);
});

test('untrusted issuer TLS: a self-signed https issuer → CHECK_ISSUER_TLS_UNTRUSTED; --issuer-ca-file fixes it', async (t) => {
  const cert = await createSelfSignedCert();
  t.after(() => rm(cert.dir, { recursive: true, force: true }));
  const w = await world(t, {
    issuer: { tls: { certPem: cert.certPem, keyPem: cert.keyPem } },
    sts: { issuerCa: cert.certPem },
  });
  const failure = assertBrokenAt(await runCheckBoth([], w.env), 'issuer', 'CHECK_ISSUER_TLS_UNTRUSTED');
  assert.match(failure.fix ?? '', /--issuer-ca-file/);
  const trusted = await runCheckBoth(['--issuer-ca-file', cert.certFile], w.env);
  assert.equal(trusted.code, 0, trusted.stdout);
});

test('unreachable STS: nothing listens at --sts-endpoint → CHECK_STS_UNREACHABLE', async (t) => {
  const w = await world(t);
  const env = { ...w.env, STS_SIDECAR_STS_ENDPOINT: `http://127.0.0.1:${await closedPort()}` };
  const failure = assertBrokenAt(await runCheckBoth([], env), 'sts', 'CHECK_STS_UNREACHABLE');
  assert.match(failure.message, /no HTTP answer from .*ECONNREFUSED/);
});

test('skewed clock: the store 20 min ahead → CHECK_CLOCK_SKEW; 20 min behind names it too', async (t) => {
  const w = await world(t, { sts: { clockSkewMs: 20 * 60_000 } });
  const ahead = assertBrokenAt(await runCheckBoth([], w.env), 'clock', 'CHECK_CLOCK_SKEW');
  assert.match(
    ahead.message,
    /the store's clock is 1\d{3} s ahead of this node's .*more than --max-clock-skew-seconds 300/,
  );
  w.sts.setClockSkew(-20 * 60_000);
  const behind = assertBrokenAt(await runCheckBoth([], w.env), 'clock', 'CHECK_CLOCK_SKEW');
  assert.match(behind.message, /s behind this node's/);
});

test('a 2 min skew only warns (exit 0), and fails under --max-clock-skew-seconds 60', async (t) => {
  const w = await world(t, { sts: { clockSkewMs: 2 * 60_000 } });
  const run = await runCheckBoth([], w.env);
  assert.equal(run.code, 0, run.stdout);
  const clock = stepOf(run, 'clock');
  assert.equal(clock.status, 'warn');
  assert.equal(clock.code, 'CHECK_CLOCK_SKEW');
  assert.match(clock.fix ?? '', /NTP/);
  assertBrokenAt(await runCheckBoth(['--max-clock-skew-seconds', '60'], w.env), 'clock', 'CHECK_CLOCK_SKEW');
});

test('role refused: the store denies the role → the exchange fails with the sidecar own code', async (t) => {
  const w = await world(t);
  const env = { ...w.env, STS_SIDECAR_ROLE_ARN: 'arn:aws:iam:::role/not-this-one' };
  const failure = assertBrokenAt(await runCheckBoth([], env), 'exchange', 'STS_ACCESS_DENIED');
  assert.match(failure.message, /HTTP 403 AccessDenied/);
  assert.match(
    failure.fix ?? '',
    /trust policy.*This token has iss http:\/\/127\.0\.0\.1:\d+, aud sts\.example\.test, sub system:serviceaccount:shop:cart/,
  );
  assert.equal(failure.details.upstreamCode, 'AccessDenied');
  assert.equal(failure.details.httpStatus, 403);
});

test('token links: a missing file and an expired token, with the sidecar own codes', async (t) => {
  const w = await world(t);
  const missing = { ...w.env, STS_SIDECAR_TOKEN_FILE: join(w.dir, 'nope') };
  const gone = assertBrokenAt(await runCheckBoth([], missing), 'token', 'TOKEN_FILE_MISSING');
  assert.match(gone.fix ?? '', /serviceAccountToken volume/);
  await w.writeToken(podToken(w.issuer, { now: new Date(Date.now() - 7_200_000) }));
  assertBrokenAt(await runCheckBoth([], w.env), 'token', 'TOKEN_EXPIRED');
});

test('--skip-exchange: every other step runs, no AssumeRoleWithWebIdentity reaches the store', async (t) => {
  const w = await world(t);
  const run = await runCheckBoth(['--skip-exchange'], w.env);
  assert.equal(run.code, 0);
  assert.equal(stepOf(run, 'exchange').message, 'not run: --skip-exchange');
  assert.deepEqual(
    w.sts.requests.map((r) => r.reason),
    ['method', 'method'],
    'only the two GET probes (CLI and in-process)',
  );
});

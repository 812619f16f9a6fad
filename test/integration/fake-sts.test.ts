// Proves test/fakes/fake-sts.ts is as strict as Ceph RGW and MinIO, through the real
// @aws-sdk/client-sts, and records what the SDK reports for every store error and fault:
// that table is the input for the exchanger's error classifier (src/sts/exchanger.ts).
import assert from 'node:assert/strict';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { type TestContext, test } from 'node:test';
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  type AssumeRoleWithWebIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import { FakeSts, type FakeStsOptions, type StsFault, type StsMode } from '../fakes/fake-sts.ts';
import { OidcIssuer, type OidcIssuerOptions } from '../fakes/oidc-issuer.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

const AUDIENCE = 'sts.example.test';
const ROLE = 'arn:aws:iam::tenant1:role/app';
const LONG_ROLE = 'arn:aws:iam::tenant1:role/batch/long';
const MODES: StsMode[] = ['rgw', 'minio'];

interface SdkError extends Error {
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  Code?: string;
  code?: string;
}

interface Env {
  issuer: OidcIssuer;
  sts: FakeSts;
  client: STSClient;
  /** Sends AssumeRoleWithWebIdentity with a valid token, role and session name unless overridden. */
  call: (
    input?: Partial<AssumeRoleWithWebIdentityCommandInput>,
    signal?: AbortSignal,
  ) => Promise<AssumeRoleWithWebIdentityCommandOutput>;
}

async function setup(
  t: TestContext,
  mode: StsMode,
  opts: {
    sts?: Partial<FakeStsOptions>;
    issuer?: OidcIssuerOptions;
    client?: Partial<ConstructorParameters<typeof STSClient>[0]>;
  } = {},
): Promise<Env> {
  const issuer = await OidcIssuer.start(opts.issuer);
  t.after(() => issuer.close());
  const sts = await FakeSts.start({
    mode,
    trustedIssuers: [issuer.issuer],
    audience: AUDIENCE,
    roles: [{ arn: ROLE }, { arn: LONG_ROLE, maxSessionDurationSeconds: 7200 }],
    ...opts.sts,
  });
  t.after(() => sts.close());
  const client = new STSClient({ endpoint: sts.url, region: 'us-east-1', maxAttempts: 1, ...opts.client });
  t.after(() => client.destroy());
  const call: Env['call'] = (input = {}, signal) =>
    client.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: ROLE,
        RoleSessionName: 'app-0',
        WebIdentityToken: issuer.signToken({
          audience: AUDIENCE,
          namespace: 'team-a',
          serviceAccount: 'reader',
        }),
        ...input,
      }),
      signal ? { abortSignal: signal } : {},
    );
  return { issuer, sts, client, call };
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  return assert.fail('expected the call to be rejected');
}

/** POSTs a raw form body, bypassing the SDK, to see the exact wire format. */
async function rawPost(url: string, form: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  return { status: res.status, body: await res.text() };
}

test('tls helper: SAN, one-day validity, SHA-1 thumbprint of the DER cert', async (t) => {
  const cert = await createSelfSignedCert({ commonName: 'oidc.test' });
  t.after(() => rm(cert.dir, { recursive: true, force: true }));
  const x509 = new X509Certificate(cert.certPem);
  assert.equal(cert.sha1Thumbprint, createHash('sha1').update(x509.raw).digest('hex').toUpperCase());
  assert.match(cert.sha1Thumbprint, /^[0-9A-F]{40}$/);
  assert.match(x509.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(x509.subjectAltName ?? '', /DNS:localhost/);
  assert.match(x509.subject, /CN=oidc\.test/);
  const lifetimeMs = Date.parse(x509.validTo) - Date.parse(x509.validFrom);
  assert.equal(lifetimeMs, 24 * 3600 * 1000);
});

test('oidc issuer: token shaped like a projected ServiceAccount token', async (t) => {
  const issuer = await OidcIssuer.start();
  t.after(() => issuer.close());
  const now = new Date('2030-01-01T00:00:00Z');
  const token = issuer.signToken({
    namespace: 'ns1',
    serviceAccount: 'sa1',
    podName: 'pod-1',
    audience: 'aud1',
    now,
  });
  const [h, p] = token
    .split('.')
    .slice(0, 2)
    .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
  assert.deepEqual(h, { alg: 'RS256', kid: issuer.currentKid, typ: 'JWT' });
  assert.equal(p.iss, issuer.issuer);
  assert.equal(p.sub, 'system:serviceaccount:ns1:sa1');
  assert.deepEqual(p.aud, ['aud1']);
  assert.equal(p.iat, Date.parse('2030-01-01T00:00:00Z') / 1000);
  assert.equal(p.nbf, p.iat);
  assert.equal(p.exp, p.iat + 3600);
  assert.equal(p['kubernetes.io'].namespace, 'ns1');
  assert.equal(p['kubernetes.io'].serviceaccount.name, 'sa1');
  assert.equal(p['kubernetes.io'].pod.name, 'pod-1');
  assert.match(p['kubernetes.io'].pod.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as {
    issuer: string;
    jwks_uri: string;
    id_token_signing_alg_values_supported: string[];
  };
  assert.equal(discovery.issuer, issuer.issuer);
  assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256']);
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
  assert.deepEqual(Object.keys(jwks.keys[0] ?? {}).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
});

test('oidc issuer: x5c holds a certificate for the published key', async (t) => {
  const issuer = await OidcIssuer.start({ x5c: true });
  t.after(() => issuer.close());
  const { keys } = (await (await fetch(issuer.jwksUri)).json()) as {
    keys: Array<{ n: string; e: string; x5c: string[] }>;
  };
  const key = keys[0]!;
  const cert = new X509Certificate(Buffer.from(key.x5c[0]!, 'base64'));
  const certJwk = cert.publicKey.export({ format: 'jwk' });
  assert.equal(certJwk.n, key.n);
  assert.equal(
    createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }).asymmetricKeyType,
    'rsa',
  );
});

for (const mode of MODES) {
  test(`${mode}: success through the SDK`, async (t) => {
    const { sts, call } = await setup(t, mode);
    const before = Date.now();
    const out = await call();
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.SubjectFromWebIdentityToken, 'system:serviceaccount:team-a:reader');
    const issued = sts.issued!;
    assert.equal(out.Credentials?.AccessKeyId, issued.accessKeyId);
    assert.match(issued.accessKeyId, /^[A-Z0-9]{20}$/);
    assert.equal(out.Credentials?.SecretAccessKey, issued.secretAccessKey);
    assert.equal(issued.secretAccessKey.length, 40);
    assert.equal(out.Credentials?.SessionToken, issued.sessionToken);
    assert.ok(issued.sessionToken.length >= 600);
    assert.ok(out.Credentials?.Expiration instanceof Date);
    // The SDK rounds RGW's nanoseconds to the nearest millisecond (…00.2476… → .248); the fake keeps
    // the sub-millisecond part below .5 ms so `issued.expiration` equals what the SDK returns.
    assert.equal(out.Credentials.Expiration.getTime(), issued.expiration.getTime());
    assert.equal(
      Date.parse(issued.expirationText.replace(/(\.\d{3})\d+Z$/, '$1Z')),
      issued.expiration.getTime(),
    );
    // Both stores default to 3600 s here: RGW's default duration, MinIO's token exp (signToken default).
    assert.ok(Math.abs(out.Credentials.Expiration.getTime() - (before + 3600_000)) < 5000);
    // Both stores send `AssumeRoleId`, so the SDK never fills AWS's `AssumedRoleId`.
    assert.equal(out.AssumedRoleUser?.AssumedRoleId, undefined);
    if (mode === 'rgw') {
      assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::tenant1:assumed-role/app/app-0');
      assert.equal(out.Audience, AUDIENCE);
      assert.match(out.Provider ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(out.PackedPolicySize, 0);
    } else {
      assert.equal(out.AssumedRoleUser?.Arn, '');
      assert.equal(out.Audience, undefined);
    }
    const [rec] = sts.requests;
    assert.equal(rec?.outcome, 'ok');
    assert.equal(rec?.params.Version, '2011-06-15');
    assert.equal(rec?.tokenClaims?.sub, 'system:serviceaccount:team-a:reader');
    assert.deepEqual(rec?.issued, issued);
  });

  test(`${mode}: raw success XML has the store's shape and timestamp precision`, async (t) => {
    const { issuer, sts } = await setup(t, mode);
    const { status, body } = await rawPost(sts.url, {
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: ROLE,
      RoleSessionName: 'raw',
      WebIdentityToken: issuer.signToken({ audience: AUDIENCE }),
    });
    assert.equal(status, 200);
    const order = [...body.matchAll(/<(\w+)>/g)].map((m) => m[1]).join(',');
    if (mode === 'rgw') {
      assert.match(body, /<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z<\/Expiration>/);
      assert.equal(
        order,
        'AssumeRoleWithWebIdentityResult,SubjectFromWebIdentityToken,Audience,AssumedRoleUser,Arn,AssumeRoleId,' +
          'Credentials,AccessKeyId,Expiration,SecretAccessKey,SessionToken,Provider,PackedPolicySize',
      );
    } else {
      assert.match(body, /<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/Expiration>/);
      assert.equal(
        order,
        'AssumeRoleWithWebIdentityResult,AssumedRoleUser,Arn,AssumeRoleId,Credentials,AccessKeyId,SecretAccessKey,' +
          'Expiration,SessionToken,SubjectFromWebIdentityToken,ResponseMetadata,RequestId',
      );
    }
  });

  test(`${mode}: request without Version is rejected`, async (t) => {
    const { issuer, sts } = await setup(t, mode);
    const { status, body } = await rawPost(sts.url, {
      Action: 'AssumeRoleWithWebIdentity',
      RoleArn: ROLE,
      RoleSessionName: 'raw',
      WebIdentityToken: issuer.signToken({ audience: AUDIENCE }),
    });
    assert.equal(status, 400);
    assert.match(body, mode === 'rgw' ? /<Code>InvalidArgument<\/Code>/ : /<Code>MissingParameter<\/Code>/);
    assert.equal(sts.requests[0]?.reason, 'version');
  });

  // RGW answers every authentication failure with 403 AccessDenied in an S3-style <Error> root, which
  // the SDK's awsQuery parser cannot read: name "Unknown", message "UnknownError" (RGW sends an
  // empty Message), no Code. MinIO answers 400 InvalidParameterValue in <ErrorResponse>.
  const tokenCases: Array<{ name: string; reason: string; token: (i: OidcIssuer) => string }> = [
    {
      name: 'bad signature',
      reason: 'bad-signature',
      token: (i) => i.signToken({ audience: AUDIENCE, signWith: 'other-key' }),
    },
    {
      name: 'wrong audience',
      reason: 'wrong-audience',
      token: (i) => i.signToken({ audience: 'someone-else' }),
    },
    {
      name: 'expired token',
      reason: 'expired',
      token: (i) => i.signToken({ audience: AUDIENCE, now: new Date(Date.now() - 7200_000) }),
    },
    {
      name: 'not yet valid',
      reason: 'not-yet-valid',
      token: (i) => i.signToken({ audience: AUDIENCE, now: new Date(Date.now() + 600_000) }),
    },
    {
      name: 'wrong issuer',
      reason: 'untrusted-issuer',
      token: (i) => i.signToken({ audience: AUDIENCE, issuer: 'https://evil.example.test' }),
    },
    {
      name: 'missing kid',
      reason: 'missing-kid',
      token: (i) => i.signToken({ audience: AUDIENCE, omitKid: true }),
    },
    {
      name: 'empty sub',
      reason: 'missing-sub',
      token: (i) => i.signToken({ audience: AUDIENCE, claims: { sub: '' } }),
    },
    { name: 'not a JWT', reason: 'malformed', token: () => 'not-a-jwt' },
  ];
  for (const c of tokenCases) {
    test(`${mode}: rejects ${c.name}`, async (t) => {
      const { issuer, sts, call } = await setup(t, mode);
      const err = await failure(call({ WebIdentityToken: c.token(issuer) }));
      assert.equal(sts.requests[0]?.reason, c.reason);
      assert.equal(sts.issued, undefined);
      assert.equal(err.$fault, 'client');
      if (mode === 'rgw') {
        assert.equal(err.name, 'Unknown');
        assert.equal(err.$metadata?.httpStatusCode, 403);
        assert.equal(sts.requests[0]?.outcome, 'AccessDenied');
      } else {
        assert.equal(err.name, 'InvalidParameterValue');
        assert.equal(err.$metadata?.httpStatusCode, 400);
      }
    });
  }

  test(`${mode}: JWKS cached per issuer, refetched for an unknown kid`, async (t) => {
    const { issuer, sts, call } = await setup(t, mode);
    await call();
    await call();
    assert.equal(sts.jwksFetches, 1);
    const oldToken = issuer.signToken({ audience: AUDIENCE });
    await issuer.rotateSigningKey({ retainPrevious: false });
    await call();
    assert.equal(sts.jwksFetches, 2);
    await failure(call({ WebIdentityToken: oldToken }));
    assert.equal(sts.requests[3]?.reason, 'unknown-kid');
    assert.equal(sts.jwksFetches, 3);
  });

  test(`${mode}: credentialLifetimeSeconds shortens what is issued`, async (t) => {
    const { sts, call } = await setup(t, mode, { sts: { credentialLifetimeSeconds: 5 } });
    const before = Date.now();
    const out = await call({ DurationSeconds: 3600 });
    const ms = out.Credentials!.Expiration!.getTime() - before;
    assert.ok(ms > 3000 && ms <= 6000, `expected ~5 s, got ${ms} ms`);
    await failure(call({ DurationSeconds: 100 }));
    assert.equal(sts.requests[1]?.reason, 'duration-out-of-range');
  });

  test(`${mode}: DurationSeconds below 900 is an error, not clamped`, async (t) => {
    const { sts, call } = await setup(t, mode);
    const err = await failure(call({ DurationSeconds: 899 }));
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.equal(err.name, mode === 'rgw' ? 'Unknown' : 'InvalidParameterValue');
    assert.equal(sts.requests[0]?.reason, 'duration-out-of-range');
  });

  test(`${mode}: bad policy JSON`, async (t) => {
    const { sts, call } = await setup(t, mode);
    const err = await failure(call({ Policy: '{"Version": ' }));
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.equal(
      sts.requests[0]?.outcome,
      mode === 'rgw' ? 'MalformedPolicyDocument' : 'InvalidParameterValue',
    );
    assert.equal(sts.requests[0]?.reason, 'policy-malformed');
  });

  test(`${mode}: policy over 2048 characters`, async (t) => {
    const { sts, call } = await setup(t, mode);
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [], Pad: 'x'.repeat(2100) });
    await failure(call({ Policy: policy }));
    assert.equal(sts.requests[0]?.outcome, mode === 'rgw' ? 'PackedPolicyTooLarge' : 'InvalidParameterValue');
    assert.equal(sts.requests[0]?.reason, 'policy-too-large');
  });
}

test('rgw: RoleArn and RoleSessionName are required and checked', async (t) => {
  const { sts, call } = await setup(t, 'rgw');
  const cases: Array<[Partial<AssumeRoleWithWebIdentityCommandInput>, number, string]> = [
    [{ RoleArn: undefined }, 403, 'missing-role-arn'],
    [{ RoleArn: 'arn:aws:iam::tenant1:role/nope' }, 403, 'unknown-role'],
    [{ RoleSessionName: undefined }, 403, 'missing-session-name'],
    [{ RoleSessionName: 'a' }, 400, 'session-name'],
    [{ RoleSessionName: 'has space' }, 400, 'session-name'],
  ];
  for (const [i, [input, status, reason]] of cases.entries()) {
    const err = await failure(call(input));
    assert.equal(err.$metadata?.httpStatusCode, status, reason);
    assert.equal(err.name, 'Unknown');
    assert.equal(sts.requests[i]?.reason, reason);
  }
});

test("rgw: DurationSeconds above the role's max is rejected; within it is honoured", async (t) => {
  const { sts, call } = await setup(t, 'rgw');
  const err = await failure(call({ DurationSeconds: 7200 }));
  assert.equal(err.$metadata?.httpStatusCode, 400);
  assert.equal(sts.requests[0]?.reason, 'duration-out-of-range');
  const before = Date.now();
  const out = await call({ RoleArn: LONG_ROLE, DurationSeconds: 7200 });
  assert.ok(Math.abs(out.Credentials!.Expiration!.getTime() - (before + 7200_000)) < 5000);
  assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::tenant1:assumed-role/batch/long/app-0');
});

test('minio: RoleArn optional, unknown RoleArn rejected, lifetime follows the JWT without DurationSeconds', async (t) => {
  const { issuer, sts, call } = await setup(t, 'minio');
  const token = issuer.signToken({ audience: AUDIENCE, lifetimeSeconds: 1234 });
  const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
  const out = await call({ RoleArn: undefined, WebIdentityToken: token });
  assert.equal(out.Credentials?.Expiration?.getTime(), exp * 1000);
  const before = Date.now();
  const longer = await call({ DurationSeconds: 31_536_000 });
  assert.ok(Math.abs(longer.Credentials!.Expiration!.getTime() - (before + 31_536_000_000)) < 5000);
  const err = await failure(call({ RoleArn: 'arn:minio:iam:::role/nope' }));
  assert.equal(err.name, 'InvalidParameterValue');
  assert.equal(sts.requests[2]?.reason, 'unknown-role');
  await failure(call({ DurationSeconds: 31_536_001 }));
  assert.equal(sts.requests[3]?.reason, 'duration-out-of-range');
  await failure(call({ Policy: '{"Statement": []}' }));
  assert.equal(sts.requests[4]?.reason, 'policy-malformed');
});

// What the SDK (client-sts 3.1169, node-http-handler 4.14) reports per fault. Notable:
// - non-XML bodies (plain text, HTML, cut-off XML) → name "Error", no $fault, message starting
//   "@aws-sdk XML parse error", $metadata.httpStatusCode = the HTTP status (200 for truncated);
// - a 200 HTML page is NOT an error: the SDK returns Credentials = {} — validate the output;
// - a reset socket → name "TimeoutError" with code "ECONNRESET" and no $metadata status;
// - RGW's <Error> envelope loses the code: name "Unknown".
const faultCases: Array<{
  fault: StsFault;
  expect: Record<StsMode, { name: string; fault?: string; status?: number; code?: string }>;
}> = [
  {
    fault: 'http500',
    expect: { rgw: { name: 'Error', status: 500 }, minio: { name: 'Error', status: 500 } },
  },
  {
    fault: 'http503',
    expect: { rgw: { name: 'Error', status: 503 }, minio: { name: 'Error', status: 503 } },
  },
  {
    fault: 'throttle',
    expect: {
      rgw: { name: 'Unknown', fault: 'server', status: 503 },
      minio: { name: 'ThrottlingException', fault: 'client', status: 429 },
    },
  },
  {
    fault: 'reset',
    expect: {
      rgw: { name: 'TimeoutError', code: 'ECONNRESET' },
      minio: { name: 'TimeoutError', code: 'ECONNRESET' },
    },
  },
  { fault: 'html', expect: { rgw: { name: 'Error', status: 502 }, minio: { name: 'Error', status: 502 } } },
  {
    fault: 'truncated',
    expect: { rgw: { name: 'Error', status: 200 }, minio: { name: 'Error', status: 200 } },
  },
  {
    fault: 'echo-token',
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'InvalidIdentityTokenException', fault: 'client', status: 400 },
    },
  },
  {
    fault: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'Throttling', fault: 'client', status: 400 },
    },
  },
  {
    // MinIO's code for an expired web identity token (cmd/sts-errors.go); not mapped to the modelled error.
    fault: { code: 'ExpiredToken', status: 400 },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'ExpiredToken', fault: 'client', status: 400 },
    },
  },
  {
    // AWS's code; the SDK maps it to its modelled ExpiredTokenException.
    fault: { code: 'ExpiredTokenException', status: 400 },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'ExpiredTokenException', fault: 'client', status: 400 },
    },
  },
  {
    fault: { code: 'AccessDenied', status: 403 },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 403 },
      minio: { name: 'AccessDenied', fault: 'client', status: 403 },
    },
  },
  {
    fault: { code: 'InternalError', status: 500 },
    expect: {
      rgw: { name: 'Unknown', fault: 'server', status: 500 },
      minio: { name: 'InternalError', fault: 'server', status: 500 },
    },
  },
];

for (const mode of MODES) {
  for (const { fault, expect } of faultCases) {
    const label = typeof fault === 'string' ? fault : `${fault.code} ${fault.status}`;
    test(`${mode}: fault ${label}`, async (t) => {
      const { issuer, sts, call } = await setup(t, mode);
      const token = issuer.signToken({ audience: AUDIENCE });
      sts.injectFault(fault);
      const err = await failure(call({ WebIdentityToken: token }));
      const want = expect[mode];
      assert.equal(err.name, want.name);
      assert.equal(err.$fault, want.fault);
      assert.equal(err.$metadata?.httpStatusCode, want.status);
      if (want.code) assert.equal(err.code, want.code);
      if (fault === 'echo-token') assert.ok(err.message.includes(token), 'the fake must echo the token');
      if (typeof fault === 'string') assert.equal(sts.requests[0]?.outcome, fault);
      if (fault === 'truncated') assert.equal(sts.issued, undefined);
      // The fault is consumed: the next request succeeds.
      await call();
      assert.equal(sts.requests[1]?.outcome, 'ok');
    });
  }

  test(`${mode}: fault html200 is a "success" without credentials`, async (t) => {
    const { sts, call } = await setup(t, mode);
    sts.injectFault('html200');
    const out = await call();
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.Credentials, undefined);
    assert.deepEqual(Object.keys(out), ['$metadata']);
  });

  test(`${mode}: fault expired returns an Expiration in the past`, async (t) => {
    const { sts, call } = await setup(t, mode);
    sts.injectFault('expired');
    const out = await call();
    assert.ok(out.Credentials!.Expiration!.getTime() < Date.now());
    assert.equal(out.Credentials?.AccessKeyId, sts.issued?.accessKeyId);
    assert.equal(sts.requests[0]?.outcome, 'expired');
  });

  test(`${mode}: fault hang is answered by nothing; abort after the fake saw it`, async (t) => {
    const { sts, call } = await setup(t, mode);
    sts.injectFault('hang');
    const controller = new AbortController();
    const pending = failure(call({}, controller.signal));
    await sts.waitForRequests(1);
    controller.abort();
    const err = await pending;
    assert.equal(err.name, 'AbortError');
    assert.equal(sts.requests[0]?.outcome, 'hang');
  });
}

test('hang with requestTimeout: only throwOnRequestTimeout turns it into an error', async (t) => {
  // Without throwOnRequestTimeout, node-http-handler 4.14 only logs a warning and keeps waiting.
  const { sts, call } = await setup(t, 'minio', {
    client: { requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } },
  });
  sts.injectFault('hang');
  const err = await failure(call());
  assert.equal(err.name, 'TimeoutError');
  assert.equal(err.code, 'ETIMEDOUT');
});

test('faults are consumed FIFO, one per request', async (t) => {
  const { sts, call } = await setup(t, 'minio');
  sts.injectFault('http500', { times: 2 });
  sts.injectFault({ code: 'InternalError', status: 500 });
  for (let i = 0; i < 3; i++) await failure(call());
  await call();
  assert.deepEqual(
    sts.requests.map((r) => r.outcome),
    ['http500', 'http500', 'InternalError', 'ok'],
  );
});

test('https: issuer and STS with self-signed certs, trusted via CA', async (t) => {
  const issuerCert = await createSelfSignedCert();
  const stsCert = await createSelfSignedCert();
  t.after(() => rm(issuerCert.dir, { recursive: true, force: true }));
  t.after(() => rm(stsCert.dir, { recursive: true, force: true }));
  const { sts, call } = await setup(t, 'rgw', {
    issuer: { tls: issuerCert },
    sts: { tls: stsCert, issuerCa: issuerCert.certPem },
    client: { requestHandler: { httpsAgent: new Agent({ ca: stsCert.certPem }) } },
  });
  assert.match(sts.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const out = await call();
  assert.equal(out.Credentials?.AccessKeyId, sts.issued?.accessKeyId);
  assert.match(out.Provider ?? '', /^https:\/\//);
});

test('https: STS without the issuer CA cannot fetch the JWKS', async (t) => {
  const issuerCert = await createSelfSignedCert();
  t.after(() => rm(issuerCert.dir, { recursive: true, force: true }));
  const { sts, call } = await setup(t, 'rgw', { issuer: { tls: issuerCert } });
  const err = await failure(call());
  assert.equal(err.$metadata?.httpStatusCode, 403);
  assert.equal(sts.requests[0]?.reason, 'jwks-unavailable');
});

test('https: client without the STS CA fails before any request is recorded', async (t) => {
  const stsCert = await createSelfSignedCert();
  t.after(() => rm(stsCert.dir, { recursive: true, force: true }));
  const { sts, call } = await setup(t, 'minio', { sts: { tls: stsCert } });
  const err = await failure(call());
  assert.equal(err.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.equal(err.$metadata?.httpStatusCode, undefined);
  assert.equal(sts.requests.length, 0);
});

test('now option: token checks and expirations follow the injected clock', async (t) => {
  const fakeNow = Date.now() + 2 * 3600_000;
  const { issuer, sts, call } = await setup(t, 'rgw', { sts: { now: () => fakeNow } });
  await failure(call());
  assert.equal(sts.requests[0]?.reason, 'expired');
  const out = await call({
    WebIdentityToken: issuer.signToken({ audience: AUDIENCE, now: new Date(fakeNow) }),
  });
  assert.equal(out.Credentials?.Expiration?.getTime(), fakeNow + 3600_000);
});

test('maxConcurrent counts requests in flight; clearFaults drops queued faults', async (t) => {
  const { sts, call } = await setup(t, 'minio');
  sts.injectFault('hang', { times: 2 });
  const controller = new AbortController();
  const pending = [failure(call({}, controller.signal)), failure(call({}, controller.signal))];
  await sts.waitForRequests(2);
  assert.equal(sts.maxConcurrent, 2);
  controller.abort();
  await Promise.all(pending);
  sts.injectFault('http500', { times: 3 });
  sts.clearFaults();
  await call();
  assert.equal(sts.requests[2]?.outcome, 'ok');
});

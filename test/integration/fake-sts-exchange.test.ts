// Proves test/fakes/fake-sts.ts is as strict as Ceph RGW and MinIO, through the real
// @aws-sdk/client-sts: success shapes, token and parameter validation per mode, then what only
// RGW or only MinIO checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AssumeRoleWithWebIdentityCommandInput } from '@aws-sdk/client-sts';
import type { OidcIssuer } from '../fakes/oidc-issuer.ts';
import { AUDIENCE, failure, LONG_ROLE, MODES, rawPost, ROLE, setup } from '../helpers/fake-sts-setup.ts';

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

// Shared setup for the test/fakes/fake-sts.ts tests (test/integration/fake-sts-*.test.ts): an
// OIDC issuer, a FakeSts that trusts it and a real @aws-sdk/client-sts client pointed at the fake.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  type AssumeRoleWithWebIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import { FakeSts, type FakeStsOptions, type StsMode } from '../fakes/fake-sts.ts';
import { OidcIssuer, type OidcIssuerOptions } from '../fakes/oidc-issuer.ts';

export const AUDIENCE = 'sts.example.test';
export const ROLE = 'arn:aws:iam::tenant1:role/app';
export const LONG_ROLE = 'arn:aws:iam::tenant1:role/batch/long';
export const MODES: StsMode[] = ['rgw', 'minio'];

export interface SdkError extends Error {
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  Code?: string;
  code?: string;
}

export interface Env {
  issuer: OidcIssuer;
  sts: FakeSts;
  client: STSClient;
  /** Sends AssumeRoleWithWebIdentity with a valid token, role and session name unless overridden. */
  call: (
    input?: Partial<AssumeRoleWithWebIdentityCommandInput>,
    signal?: AbortSignal,
  ) => Promise<AssumeRoleWithWebIdentityCommandOutput>;
}

export async function setup(
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

export async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  return assert.fail('expected the call to be rejected');
}

/** POSTs a raw form body, bypassing the SDK, to see the exact wire format. */
export async function rawPost(
  url: string,
  form: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  return { status: res.status, body: await res.text() };
}

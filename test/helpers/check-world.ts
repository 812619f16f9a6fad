// The set-up of the `sts-sidecar check` tests against fakes: an OIDC issuer, a fake STS that
// trusts it, and a pod token file, all closed after the test.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { FakeSts, type FakeStsOptions } from '../fakes/fake-sts.ts';
import { OidcIssuer, type OidcIssuerOptions, type SignTokenOptions } from '../fakes/oidc-issuer.ts';

export const AUDIENCE = 'sts.example.test';
export const ROLE_ARN = 'arn:aws:iam:::role/app';
export const POD = { namespace: 'shop', serviceAccount: 'cart', podName: 'cart-0' } as const;

export interface CheckWorld {
  issuer: OidcIssuer;
  sts: FakeSts;
  dir: string;
  tokenFile: string;
  /** Writes `token` (default: a good pod token) to the token file. */
  writeToken(token?: string): Promise<void>;
  env: NodeJS.ProcessEnv;
}

/** An issuer, a fake STS trusting it, and a pod token file; all closed after the test. */
export async function checkWorld(
  t: TestContext,
  opts: { issuer?: OidcIssuerOptions; sts?: Partial<FakeStsOptions> } = {},
): Promise<CheckWorld> {
  const issuer = await OidcIssuer.start({ x5c: true, ...opts.issuer });
  t.after(() => issuer.close());
  const sts = await FakeSts.start({
    mode: 'rgw',
    trustedIssuers: [issuer.issuer],
    audience: AUDIENCE,
    roles: [{ arn: ROLE_ARN }],
    ...opts.sts,
  });
  t.after(() => sts.close());
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-check-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'token');
  const w: CheckWorld = {
    issuer,
    sts,
    dir,
    tokenFile,
    writeToken: (token = podToken(issuer)) => writeFile(tokenFile, token),
    env: {
      STS_SIDECAR_STS_ENDPOINT: sts.url,
      STS_SIDECAR_FLAVOR: sts.mode,
      ...(sts.mode === 'rgw' ? { STS_SIDECAR_ROLE_ARN: ROLE_ARN } : {}),
      STS_SIDECAR_TOKEN_FILE: tokenFile,
      POD_NAMESPACE: POD.namespace,
      POD_NAME: POD.podName,
    },
  };
  await w.writeToken();
  return w;
}

export function podToken(issuer: OidcIssuer, overrides: SignTokenOptions = {}): string {
  return issuer.signToken({ audience: AUDIENCE, ...POD, ...overrides });
}

/** A loopback port nothing listens on (bound, read, released). */
export async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

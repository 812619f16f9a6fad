import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubeletTokenVolume } from './kubelet-token-volume.ts';
import { missingPeer } from './required-peer.ts';
import { SidecarProcess } from './sidecar-process.ts';

const execFileAsync = promisify(execFile);

/** The command that brings the peer up; skip messages name it. */
export const CEPH_START_HINT = 'sudo bash .ci/peers/ceph.sh install && sudo bash .ci/peers/ceph.sh start';

/** Where .ci/peers/ceph.sh keeps its cluster; the same default (`$TMPDIR/sts-sidecar-ceph`). */
export const CEPH_DIR = process.env.STS_SIDECAR_CEPH_DIR ?? join(tmpdir(), 'sts-sidecar-ceph');

/** A running radosgw, as .ci/peers/ceph.sh `start` describes it in `state.env`. */
export interface RgwPeer {
  /** `http://127.0.0.1:<port>`: S3, STS and IAM on one listener. */
  endpoint: string;
  /** Keys of the `sts-admin` user (caps `oidc-provider=*;roles=*;user-policy=*`). */
  adminAccessKey: string;
  adminSecretKey: string;
  /** TLS key pair the test issuer must serve with: its certificate is in the system CA store RGW trusts. */
  issuerCertPem: string;
  issuerKeyPem: string;
  /** radosgw's log file (debug_rgw 20): why a web identity was refused. */
  logFile: string;
  /** `radosgw --version`, e.g. 16.2.15. */
  version: string;
}

/** The peer, or why there is none (missing state file, radosgw not answering). */
export async function findRgwPeer(): Promise<{ peer: RgwPeer } | { reason: string }> {
  const stateFile = join(CEPH_DIR, 'state.env');
  let text: string;
  try {
    text = await readFile(stateFile, 'utf8');
  } catch {
    return { reason: missingPeer(`Ceph RGW not running (no ${stateFile}): run ${CEPH_START_HINT}`) };
  }
  const vars = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const endpoint = vars.STS_SIDECAR_RGW_ENDPOINT ?? '';
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(3000) });
  } catch (error) {
    return {
      reason: missingPeer(
        `Ceph RGW not running (${endpoint || stateFile}: ${(error as Error).message}): run ${CEPH_START_HINT}`,
      ),
    };
  }
  return {
    peer: {
      endpoint,
      adminAccessKey: vars.STS_SIDECAR_RGW_ADMIN_ACCESS_KEY ?? '',
      adminSecretKey: vars.STS_SIDECAR_RGW_ADMIN_SECRET_KEY ?? '',
      issuerCertPem: await readFile(vars.STS_SIDECAR_RGW_ISSUER_CERT ?? '', 'utf8'),
      issuerKeyPem: await readFile(vars.STS_SIDECAR_RGW_ISSUER_KEY ?? '', 'utf8'),
      logFile: vars.STS_SIDECAR_RGW_LOG ?? '',
      version: vars.STS_SIDECAR_RGW_VERSION ?? 'unknown',
    },
  };
}

/** Options for {@link RgwIam.createRole}. */
export interface CreateRoleOptions {
  name: string;
  /** Trust policy document (JSON-serialisable). */
  trustPolicy: unknown;
  /** Inline S3 policy put on the role as `s3-access`. */
  rolePolicy: unknown;
}

/** Options for {@link RgwIam.createWebIdentityRole}. */
export interface WebIdentityRoleOptions {
  /** From {@link RgwIam.createOidcProvider}. */
  providerArn: string;
  /** The issuer URL as tokens carry it: its host (port included) prefixes the condition keys. */
  issuer: string;
  audience: string;
  /** `system:serviceaccount:<ns>:<sa>` the role trusts. */
  subject: string;
  /** Role name prefix; a random suffix keeps parallel suites apart. */
  namePrefix: string;
  /** The role's S3 policy statement actions; default every S3 action on every bucket. */
  s3Actions?: string[];
}

/**
 * The environment of an `aws` CLI process that acts as RGW's admin (IAM calls): only the admin's
 * keys and a region, with config files, instance metadata and the caller's own settings shut out
 * by an empty HOME.
 */
export function rgwAdminCliEnv(peer: RgwPeer, home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: peer.adminAccessKey,
    AWS_SECRET_ACCESS_KEY: peer.adminSecretKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * RGW's IAM API (OIDC providers, roles) through the aws CLI, signed with the peer's admin keys.
 * The CLI stands in for an operator; nothing of the sidecar is involved.
 */
export class RgwIam {
  readonly #peer: RgwPeer;
  readonly #env: NodeJS.ProcessEnv;

  constructor(peer: RgwPeer, home: string) {
    this.#peer = peer;
    this.#env = rgwAdminCliEnv(peer, home);
  }

  /** Runs `aws iam <args>` and parses its JSON output (empty output → `{}`). */
  async iam(...args: string[]): Promise<Record<string, unknown>> {
    try {
      const { stdout } = await execFileAsync(
        'aws',
        ['--endpoint-url', this.#peer.endpoint, '--output', 'json', 'iam', ...args],
        { env: this.#env, timeout: 30_000 },
      );
      return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`aws iam ${args[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: error });
    }
  }

  /** CreateOpenIDConnectProvider; returns the provider ARN (`arn:aws:iam:::oidc-provider/<host:port>`). */
  async createOidcProvider(url: string, clientIds: string[], thumbprints: string[]): Promise<string> {
    const out = await this.iam(
      'create-open-id-connect-provider',
      '--url',
      url,
      '--client-id-list',
      ...clientIds,
      '--thumbprint-list',
      ...thumbprints,
    );
    return String(out.OpenIDConnectProviderArn);
  }

  async deleteOidcProvider(arn: string): Promise<void> {
    await this.iam('delete-open-id-connect-provider', '--open-id-connect-provider-arn', arn);
  }

  /** CreateRole + PutRolePolicy; returns the role ARN. */
  async createRole(opts: CreateRoleOptions): Promise<string> {
    const out = await this.iam(
      'create-role',
      '--role-name',
      opts.name,
      '--assume-role-policy-document',
      JSON.stringify(opts.trustPolicy),
    );
    await this.iam(
      'put-role-policy',
      '--role-name',
      opts.name,
      '--policy-name',
      's3-access',
      '--policy-document',
      JSON.stringify(opts.rolePolicy),
    );
    return String((out.Role as { Arn?: unknown } | undefined)?.Arn);
  }

  /**
   * A role one ServiceAccount may assume with a token of `audience` from the provider, the trust
   * policy an operator writes for the sidecar (condition keys are the issuer without its scheme,
   * e.g. `127.0.0.1:16445:sub`). Returns its ARN and name (for {@link deleteRole}).
   */
  async createWebIdentityRole(opts: WebIdentityRoleOptions): Promise<{ roleArn: string; roleName: string }> {
    const host = new URL(opts.issuer).host;
    const roleName = `${opts.namePrefix}-${randomBytes(4).toString('hex')}`;
    const roleArn = await this.createRole({
      name: roleName,
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: [opts.providerArn] },
            Action: ['sts:AssumeRoleWithWebIdentity'],
            Condition: {
              StringEquals: { [`${host}:aud`]: opts.audience, [`${host}:sub`]: opts.subject },
            },
          },
        ],
      },
      rolePolicy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: opts.s3Actions ?? ['s3:*'], Resource: ['arn:aws:s3:::*'] }],
      },
    });
    return { roleArn, roleName };
  }

  async deleteRole(name: string): Promise<void> {
    await this.iam('delete-role-policy', '--role-name', name, '--policy-name', 's3-access');
    await this.iam('delete-role', '--role-name', name);
  }
}

/** An STS answer exactly as RGW sent it. */
export interface RawStsAnswer {
  status: number;
  body: string;
}

/**
 * POSTs AssumeRoleWithWebIdentity by hand (no SDK), so the test sees RGW's raw status and XML.
 * `params` are added to Action and Version; unset values are left out.
 */
export async function postAssumeRoleWithWebIdentity(
  endpoint: string,
  params: Record<string, string | undefined>,
): Promise<RawStsAnswer> {
  const form = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15' });
  for (const [k, v] of Object.entries(params)) if (v !== undefined) form.set(k, v);
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.text() };
}

/** Options for {@link startRgwSidecar}. */
export interface RgwSidecarOptions {
  peer: RgwPeer;
  roleArn: string;
  /** The pod's token volume (kubelet layout); the test rotates it. */
  volume: KubeletTokenVolume;
  /** More env, e.g. STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The built sidecar as a child process pointed at the real radosgw, with only the env a user
 * sets. It reuses {@link SidecarProcess} for spawning and log reading; the fake issuer and STS
 * that helper also starts are left unused, because every STS_SIDECAR_* value that points at them
 * is overridden here.
 */
export function startRgwSidecar(opts: RgwSidecarOptions): Promise<SidecarProcess> {
  return SidecarProcess.start({
    env: {
      STS_SIDECAR_STS_ENDPOINT: opts.peer.endpoint,
      STS_SIDECAR_FLAVOR: 'rgw',
      STS_SIDECAR_ROLE_ARN: opts.roleArn,
      STS_SIDECAR_TOKEN_FILE: opts.volume.path,
      // RGW's minimum (docs/design/upstream-facts.md, "Store limits": duration min 900).
      STS_SIDECAR_DURATION_SECONDS: '900',
      ...opts.env,
    },
  });
}

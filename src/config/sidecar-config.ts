import type { LogLevel } from '../shared/log.ts';
import { readPemBundle } from './config-files.ts';
import { loadOptions } from './option-loader.ts';
import { validateSessionPolicy } from './session-policy.ts';
import {
  type AuthTokenSource,
  ENV_POD_NAME,
  ENV_POD_NAMESPACE,
  SIDECAR_OPTIONS,
  type SidecarOptionKey,
} from './sidecar-options.ts';
import type { Flavor } from './stores.ts';

/** The validated, frozen configuration of the sidecar. Built once at start. */
export interface SidecarConfig {
  readonly stsEndpoint: string;
  readonly flavor: Flavor;
  /** Sent as RoleArn only when set. */
  readonly roleArn: string | undefined;
  readonly roleSessionName: string;
  readonly durationSeconds: number;
  readonly sessionPolicy: string | undefined;
  readonly tokenFile: string;
  readonly caFile: string | undefined;
  /** Contents of caFile, read once at start. */
  readonly caPem: string | undefined;
  readonly stsTimeoutMs: number;
  readonly region: string;
  /** Upper bound on the time between refreshes, in ms; undefined = lifetime rule only. */
  readonly maxRefreshIntervalMs: number | undefined;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly credentialsPath: string;
  /** The operator asked for a non-loopback listen address (warned about at start). */
  readonly nonLoopbackListen: boolean;
  readonly authTokenFile: string;
  readonly authTokenSource: AuthTokenSource;
  readonly opsHost: string;
  readonly opsPort: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
}

const FALLBACK_SESSION_NAME = 'sts-sidecar';

/**
 * Builds the configuration from flags and environment. Precedence, per option:
 *  1. the command-line flag,
 *  2. the environment variable,
 *  3. the default (or the value derived from the downward API, for the session name).
 * Each option's own rules (kind, range, values, per-store limits) are its row in
 * sidecar-options.ts, applied by loadOptions(); the rules between options are here. Every
 * problem is collected, then thrown together as one {@link ConfigError}.
 */
export function loadSidecarConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SidecarConfig {
  const o = loadOptions(SIDECAR_OPTIONS, argv, env, 'Run with --help for the list of flags.');
  const str = (key: SidecarOptionKey) => o.value(key) as string | undefined;
  const int = (key: SidecarOptionKey) => o.value(key) as number | undefined;

  const stsEndpoint = str('stsEndpoint');
  const flavor = str('flavor') as Flavor | undefined;
  const roleArn = o.text('roleArn');
  if (roleArn === undefined && (flavor === 'rgw' || flavor === 'aws'))
    o.problem(
      'roleArn',
      `is required with --flavor ${flavor}: set the ARN of the role whose trust policy admits this token.`,
    );
  const roleSessionName = str('roleSessionName') ?? deriveSessionName(env);

  const sessionPolicy = o.text('sessionPolicy');
  if (sessionPolicy !== undefined) validateSessionPolicy(sessionPolicy, (t) => o.problem('sessionPolicy', t));

  const caFile = o.text('caFile');
  const caPem =
    caFile === undefined
      ? undefined
      : readPemBundle(caFile, 'Mount the CA bundle and point --ca-file at it.', (t) =>
          o.problem('caFile', t),
        );
  if (caFile !== undefined && stsEndpoint?.startsWith('http:'))
    o.problem(
      'caFile',
      'is set but --sts-endpoint is http://; use an https:// endpoint or drop the CA file.',
    );

  const listenHost = o.text('listenHost')!;
  const nonLoopbackListen = !o.failed('listenHost') && !isLoopback(listenHost);
  if (nonLoopbackListen && o.value('allowNonLoopback') !== true)
    o.problem(
      'listenHost',
      `${listenHost} is not a loopback address: credentials would be reachable from outside the pod. Use 127.0.0.1, or set --allow-non-loopback true if you really mean it.`,
    );
  const listenPort = int('listenPort');
  const opsPort = int('opsPort');
  if (listenPort !== undefined && listenPort !== 0 && listenPort === opsPort)
    o.problem('opsPort', 'must differ from --listen-port.');

  o.throwIfInvalid();
  const maxRefreshSeconds = int('maxRefreshIntervalSeconds');
  return Object.freeze({
    stsEndpoint: stsEndpoint!,
    flavor: flavor!,
    roleArn,
    roleSessionName,
    durationSeconds: int('durationSeconds')!,
    sessionPolicy,
    tokenFile: str('tokenFile')!,
    caFile,
    caPem,
    stsTimeoutMs: int('stsTimeoutSeconds')! * 1000,
    region: str('region')!,
    maxRefreshIntervalMs: maxRefreshSeconds === undefined ? undefined : maxRefreshSeconds * 1000,
    listenHost,
    listenPort: listenPort!,
    credentialsPath: str('credentialsPath')!,
    nonLoopbackListen,
    authTokenFile: str('authTokenFile')!,
    authTokenSource: str('authTokenSource') as AuthTokenSource,
    opsHost: str('opsHost')!,
    opsPort: opsPort!,
    shutdownGraceMs: int('shutdownGraceSeconds')! * 1000,
    logLevel: str('logLevel') as LogLevel,
  });
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

/**
 * `<namespace>.<pod>` from the downward API, mapped into RGW's RoleSessionName alphabet
 * (docs/design/upstream-facts.md, "Store limits") and cut to 64, so the store's logs name the pod.
 */
export function deriveSessionName(env: NodeJS.ProcessEnv): string {
  const parts = [env[ENV_POD_NAMESPACE], env[ENV_POD_NAME]].filter((p): p is string => !!p);
  const mapped = parts
    .join('.')
    .replace(/[^A-Za-z0-9_=,.@-]/g, '-')
    .slice(0, 64);
  return mapped.length >= 2 ? mapped : FALLBACK_SESSION_NAME;
}

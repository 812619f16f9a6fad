import { validateSessionPolicy } from './session-policy.ts';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError, type ConfigIssue } from '../shared/errors.ts';
import { LOG_LEVELS, type LogLevel } from '../shared/log.ts';
import {
  AUTH_TOKEN_SOURCES,
  type AuthTokenSource,
  ENV_POD_NAME,
  ENV_POD_NAMESPACE,
  FLAVORS,
  type Flavor,
  SIDECAR_OPTIONS,
  type SidecarOptionKey,
  type SidecarOptionSpec,
} from './sidecar-options.ts';

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

// RGW's limits (ceph src/rgw/rgw_sts.h/.cc, research/anchors.md section 5); MinIO's from its
// internal/config/identity/openid/jwt.go (section 6).
const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS: Record<Flavor, number> = { rgw: 43_200, aws: 43_200, minio: 31_536_000 };
const SESSION_NAME_PATTERN = /^[A-Za-z0-9_=,.@-]{2,64}$/;
const FALLBACK_SESSION_NAME = 'sts-sidecar';

const specByKey = new Map(SIDECAR_OPTIONS.map((spec) => [spec.key, spec]));

function spec(key: SidecarOptionKey): SidecarOptionSpec {
  return specByKey.get(key)!;
}

/**
 * Builds the configuration from flags and environment. Precedence, per option:
 *  1. the command-line flag,
 *  2. the environment variable,
 *  3. the default (or the value derived from the downward API, for the session name).
 * Every problem is collected, then thrown together as one {@link ConfigError}.
 */
export function loadSidecarConfig(argv: readonly string[], env: NodeJS.ProcessEnv): SidecarConfig {
  const issues: ConfigIssue[] = [];
  const flags = parseFlags(argv, issues);
  const raw = (key: SidecarOptionKey): string | undefined => {
    const s = spec(key);
    const value = flags[s.flag] ?? env[s.env];
    return value === undefined || value === '' ? s.defaultValue : value;
  };
  const problem = (key: SidecarOptionKey, text: string): void => {
    const s = spec(key);
    issues.push({ env: s.env, flag: `--${s.flag}`, problem: text });
  };

  const stsEndpoint = validateEndpoint(raw('stsEndpoint'), (t) => problem('stsEndpoint', t));

  const flavorRaw = raw('flavor');
  let flavor: Flavor | undefined;
  if (flavorRaw === undefined) problem('flavor', `is required: set it to one of ${FLAVORS.join(', ')}.`);
  else if (!(FLAVORS as readonly string[]).includes(flavorRaw))
    problem('flavor', `"${flavorRaw}" is not one of ${FLAVORS.join(', ')}.`);
  else flavor = flavorRaw as Flavor;

  const roleArn = raw('roleArn');
  if (roleArn !== undefined && !/^arn:[^:]+:[^:]*:[^:]*:[^:]*:.+$/.test(roleArn))
    problem(
      'roleArn',
      'is not an ARN: expected arn:<partition>:iam::<account>:role/<name>, e.g. arn:aws:iam:::role/app.',
    );
  if (roleArn === undefined && (flavor === 'rgw' || flavor === 'aws'))
    problem(
      'roleArn',
      `is required with --flavor ${flavor}: set the ARN of the role whose trust policy admits this token.`,
    );

  const roleSessionName = raw('roleSessionName') ?? deriveSessionName(env);
  if (!SESSION_NAME_PATTERN.test(roleSessionName))
    problem('roleSessionName', 'must be 2-64 characters from [A-Za-z0-9_=,.@-].');

  const durationSeconds = parseInteger(raw('durationSeconds'), (t) => problem('durationSeconds', t));
  const maxDuration = MAX_DURATION_SECONDS[flavor ?? 'rgw'];
  if (
    durationSeconds !== undefined &&
    (durationSeconds < MIN_DURATION_SECONDS || durationSeconds > maxDuration)
  )
    problem('durationSeconds', `must be between ${MIN_DURATION_SECONDS} and ${maxDuration} for this flavor.`);

  const sessionPolicy = raw('sessionPolicy');
  if (sessionPolicy !== undefined) validateSessionPolicy(sessionPolicy, (t) => problem('sessionPolicy', t));

  const caFile = raw('caFile');
  const caPem = caFile === undefined ? undefined : readCaBundle(caFile, (t) => problem('caFile', t));
  if (caFile !== undefined && stsEndpoint?.startsWith('http:'))
    problem('caFile', 'is set but --sts-endpoint is http://; use an https:// endpoint or drop the CA file.');

  const timeoutSeconds = parseInteger(raw('stsTimeoutSeconds'), (t) => problem('stsTimeoutSeconds', t));
  if (timeoutSeconds !== undefined && (timeoutSeconds < 1 || timeoutSeconds > 120))
    problem('stsTimeoutSeconds', 'must be between 1 and 120 seconds.');

  const region = raw('region')!;
  if (!/^[a-z0-9-]{1,64}$/.test(region)) problem('region', 'must be lower-case letters, digits and dashes.');

  const maxRefreshRaw = raw('maxRefreshIntervalSeconds');
  const maxRefreshSeconds =
    maxRefreshRaw === undefined
      ? undefined
      : parseInteger(maxRefreshRaw, (t) => problem('maxRefreshIntervalSeconds', t));
  if (maxRefreshSeconds !== undefined && (maxRefreshSeconds < 1 || maxRefreshSeconds > 43_200))
    problem('maxRefreshIntervalSeconds', 'must be between 1 and 43200 seconds.');

  const listenHost = raw('listenHost')!;
  const allowNonLoopback = raw('allowNonLoopback');
  if (allowNonLoopback !== 'true' && allowNonLoopback !== 'false')
    problem('allowNonLoopback', 'must be true or false.');
  if (isIP(listenHost) === 0) problem('listenHost', `"${listenHost}" is not an IP address; use 127.0.0.1.`);
  const nonLoopbackListen = isIP(listenHost) !== 0 && !isLoopback(listenHost);
  if (nonLoopbackListen && allowNonLoopback !== 'true')
    problem(
      'listenHost',
      `${listenHost} is not a loopback address: credentials would be reachable from outside the pod. Use 127.0.0.1, or set --allow-non-loopback true if you really mean it.`,
    );
  const listenPort = parsePort(raw('listenPort'), (t) => problem('listenPort', t));
  const credentialsPath = raw('credentialsPath')!;
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(credentialsPath))
    problem('credentialsPath', 'must start with / and hold only URL path characters.');
  const authTokenSource = raw('authTokenSource')!;
  if (!(AUTH_TOKEN_SOURCES as readonly string[]).includes(authTokenSource))
    problem('authTokenSource', `"${authTokenSource}" is not one of ${AUTH_TOKEN_SOURCES.join(', ')}.`);
  const opsHost = raw('opsHost')!;
  if (isIP(opsHost) === 0)
    problem('opsHost', `"${opsHost}" is not an IP address; use 0.0.0.0 or the pod IP.`);
  const opsPort = parsePort(raw('opsPort'), (t) => problem('opsPort', t));
  if (listenPort !== undefined && listenPort !== 0 && listenPort === opsPort)
    problem('opsPort', 'must differ from --listen-port.');
  const graceSeconds = parseInteger(raw('shutdownGraceSeconds'), (t) => problem('shutdownGraceSeconds', t));
  if (graceSeconds !== undefined && graceSeconds > 600)
    problem('shutdownGraceSeconds', 'must be at most 600.');

  const logLevel = raw('logLevel')!;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    problem('logLevel', `"${logLevel}" is not one of ${LOG_LEVELS.join(', ')}.`);

  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    stsEndpoint: stsEndpoint!,
    flavor: flavor!,
    roleArn,
    roleSessionName,
    durationSeconds: durationSeconds!,
    sessionPolicy,
    tokenFile: raw('tokenFile')!,
    caFile,
    caPem,
    stsTimeoutMs: timeoutSeconds! * 1000,
    region,
    maxRefreshIntervalMs: maxRefreshSeconds === undefined ? undefined : maxRefreshSeconds * 1000,
    listenHost,
    listenPort: listenPort!,
    credentialsPath,
    nonLoopbackListen,
    authTokenFile: raw('authTokenFile')!,
    authTokenSource: authTokenSource as AuthTokenSource,
    opsHost,
    opsPort: opsPort!,
    shutdownGraceMs: graceSeconds! * 1000,
    logLevel: logLevel as LogLevel,
  });
}

function parseFlags(argv: readonly string[], issues: ConfigIssue[]): Record<string, string | undefined> {
  const options = Object.fromEntries(SIDECAR_OPTIONS.map((s) => [s.flag, { type: 'string' as const }]));
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as Record<string, string | undefined>;
  } catch (error) {
    // parseArgs names the offending flag; it never holds a secret value we would echo back.
    const text = error instanceof Error ? error.message : String(error);
    issues.push({
      env: '-',
      flag: '(command line)',
      problem: `${text}. Run with --help for the list of flags.`,
    });
    return {};
  }
}

function validateEndpoint(value: string | undefined, report: (text: string) => void): string | undefined {
  if (value === undefined) {
    report('is required: the URL of the store, e.g. https://rgw.example.internal:443.');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    report('is not a URL: expected http(s)://host[:port].');
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') report('must start with https:// or http://.');
  else if (url.username !== '' || url.password !== '')
    report('must not carry user:password; STS needs no credentials in the URL.');
  else return url.toString();
  return undefined;
}

function parseInteger(value: string | undefined, report: (text: string) => void): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) {
    report(`"${value ?? ''}" is not a whole number.`);
    return undefined;
  }
  return Number(value);
}

function parsePort(value: string | undefined, report: (text: string) => void): number | undefined {
  const port = parseInteger(value, report);
  if (port !== undefined && port !== 0 && (port < 1024 || port > 65_535)) {
    report('must be 0 or between 1024 and 65535 (the sidecar runs as non-root).');
    return undefined;
  }
  return port;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

function readCaBundle(file: string, report: (text: string) => void): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    report(`cannot be read (${code}): ${file}. Mount the CA bundle and point --ca-file at it.`);
    return undefined;
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    report(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
    return undefined;
  }
  return pem;
}

/**
 * `<namespace>.<pod>` from the downward API, mapped into RGW's RoleSessionName alphabet
 * (ceph src/rgw/rgw_sts.cc) and cut to 64, so the store's logs name the pod.
 */
export function deriveSessionName(env: NodeJS.ProcessEnv): string {
  const parts = [env[ENV_POD_NAMESPACE], env[ENV_POD_NAME]].filter((p): p is string => !!p);
  const mapped = parts
    .join('.')
    .replace(/[^A-Za-z0-9_=,.@-]/g, '-')
    .slice(0, 64);
  return mapped.length >= 2 ? mapped : FALLBACK_SESSION_NAME;
}

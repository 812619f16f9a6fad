import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError, type ConfigIssue } from '../shared/errors.ts';
import { LOG_LEVELS, type LogLevel } from '../shared/log.ts';
import { FLAVORS } from './sidecar-options.ts';
import { parseQuantity, parseWhole, validateUrl } from './validators.ts';
import { IMAGE_PULL_POLICIES, WEBHOOK_OPTIONS, type WebhookOptionKey } from './webhook-options.ts';

/** What the sidecar container is built from, beyond the plan (webhook flags). */
export interface SidecarImage {
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Pod fsGroup added when the pod has none, so the 0440 auth-token file is readable by every
   * container: the in-memory emptyDir becomes group-owned by it with the setgid bit, the file
   * inherits the group, and every container of the pod has it as a supplementary group.
   */
  readonly fsGroup: number;
}

/**
 * The webhook's own defaults for the annotations (flags of `sts-sidecar webhook`). `undefined`
 * means "no default": the pod or its ServiceAccount must set it, where it is required.
 */
export interface InjectionDefaults {
  readonly stsEndpoint: string | undefined;
  readonly flavor: string | undefined;
  readonly roleArn: string | undefined;
  readonly audience: string | undefined;
  readonly tokenExpirationSeconds: string;
  readonly durationSeconds: string;
  readonly s3Endpoint: string | undefined;
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

/** The validated, frozen configuration of the webhook. */
export interface WebhookConfig {
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly opsHost: string;
  readonly opsPort: number;
  readonly sidecar: SidecarImage;
  /** Annotation defaults, as strings, validated here once so a bad flag fails at start. */
  readonly defaults: InjectionDefaults;
  readonly serviceAccountLookupGraceMs: number;
  readonly kubeconfig: string | undefined;
  /** After SIGTERM: keep serving (readiness 503) this long, then close. */
  readonly drainMs: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
}

const specByKey = new Map(WEBHOOK_OPTIONS.map((s) => [s.key, s]));

/**
 * Builds the webhook configuration. Per option: the flag, else the environment variable, else
 * the default from webhook-options.ts. Every problem is thrown at once as a {@link ConfigError}.
 * The TLS files are read once here so a missing secret fails at start, not at the first request.
 */
export function loadWebhookConfig(argv: readonly string[], env: NodeJS.ProcessEnv): WebhookConfig {
  const issues: ConfigIssue[] = [];
  const options = Object.fromEntries(WEBHOOK_OPTIONS.map((s) => [s.flag, { type: 'string' as const }]));
  let flags: Record<string, string | undefined> = {};
  try {
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | undefined
    >;
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    issues.push({ env: '-', flag: '(command line)', problem: `${text}. Run sts-sidecar webhook --help.` });
  }
  const raw = (key: WebhookOptionKey): string | undefined => {
    const s = specByKey.get(key)!;
    const value = flags[s.flag] ?? env[s.env];
    return value === undefined || value === '' ? s.defaultValue : value;
  };
  const problem = (key: WebhookOptionKey) => (text: string) => {
    const s = specByKey.get(key)!;
    issues.push({ env: s.env, flag: `--${s.flag}`, problem: text });
  };

  const tlsCertFile = raw('tlsCertFile')!;
  const tlsKeyFile = raw('tlsKeyFile')!;
  for (const [key, file] of [
    ['tlsCertFile', tlsCertFile],
    ['tlsKeyFile', tlsKeyFile],
  ] as const) {
    try {
      readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      problem(key)(`cannot be read (${code}): ${file}. Mount the webhook's TLS secret (cert-manager) there.`);
    }
  }
  const host = (key: 'listenHost' | 'opsHost'): string => {
    const h = raw(key)!;
    if (isIP(h) === 0) problem(key)(`"${h}" is not an IP address; use 0.0.0.0.`);
    return h;
  };
  const port = (key: 'listenPort' | 'opsPort'): number | undefined => {
    const text = raw(key);
    return text === '0' ? 0 : parseWhole(text, 1024, 65_535, problem(key));
  };
  const listenHost = host('listenHost');
  const listenPort = port('listenPort');
  const opsHost = host('opsHost');
  const opsPort = port('opsPort');
  if (listenPort !== undefined && listenPort !== 0 && listenPort === opsPort)
    problem('opsPort')('must differ from --listen-port.');

  const image = raw('sidecarImage');
  if (image === undefined || /\s/.test(image))
    problem('sidecarImage')(
      'is required: the sts-sidecar image to inject, e.g. registry.example/sts-sidecar:0.1.0.',
    );
  const pullPolicy = raw('imagePullPolicy')!;
  if (!(IMAGE_PULL_POLICIES as readonly string[]).includes(pullPolicy))
    problem('imagePullPolicy')(`"${pullPolicy}" is not one of ${IMAGE_PULL_POLICIES.join(', ')}.`);
  const fsGroup = parseWhole(raw('fsGroup'), 1, 2_147_483_647, problem('fsGroup'));

  const stsEndpoint = raw('stsEndpoint');
  if (stsEndpoint !== undefined) validateUrl(stsEndpoint, problem('stsEndpoint'));
  const flavor = raw('flavor');
  if (flavor !== undefined && !(FLAVORS as readonly string[]).includes(flavor))
    problem('flavor')(`"${flavor}" is not one of ${FLAVORS.join(', ')}.`);
  const roleArn = raw('roleArn');
  if (roleArn !== undefined && !/^arn:[^:]+:[^:]*:[^:]*:[^:]*:.+$/.test(roleArn))
    problem('roleArn')('is not an ARN: expected e.g. arn:aws:iam:::role/app.');
  const s3Endpoint = raw('s3Endpoint');
  if (s3Endpoint !== undefined) validateUrl(s3Endpoint, problem('s3Endpoint'));
  parseWhole(raw('tokenExpirationSeconds'), 600, 86_400, problem('tokenExpirationSeconds'));
  parseWhole(raw('durationSeconds'), 900, 31_536_000, problem('durationSeconds'));
  for (const key of [
    'sidecarCpuRequest',
    'sidecarMemoryRequest',
    'sidecarCpuLimit',
    'sidecarMemoryLimit',
  ] as const)
    if (parseQuantity(raw(key)) === undefined)
      problem(key)(`"${raw(key)}" is not a Kubernetes quantity such as 100m, 1, 128Mi.`);

  const graceMs = parseWhole(
    raw('serviceAccountLookupGraceMs'),
    0,
    5_000,
    problem('serviceAccountLookupGraceMs'),
  );
  const drainSeconds = parseWhole(raw('drainSeconds'), 0, 60, problem('drainSeconds'));
  const shutdownSeconds = parseWhole(raw('shutdownGraceSeconds'), 0, 60, problem('shutdownGraceSeconds'));
  const logLevel = raw('logLevel')!;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    problem('logLevel')(`"${logLevel}" is not one of ${LOG_LEVELS.join(', ')}.`);

  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    tlsCertFile,
    tlsKeyFile,
    listenHost,
    listenPort: listenPort!,
    opsHost,
    opsPort: opsPort!,
    sidecar: Object.freeze({
      image: image!,
      imagePullPolicy: pullPolicy as SidecarImage['imagePullPolicy'],
      fsGroup: fsGroup!,
    }),
    defaults: Object.freeze({
      stsEndpoint,
      flavor,
      roleArn,
      audience: raw('audience'),
      tokenExpirationSeconds: raw('tokenExpirationSeconds')!,
      durationSeconds: raw('durationSeconds')!,
      s3Endpoint,
      cpuRequest: raw('sidecarCpuRequest')!,
      memoryRequest: raw('sidecarMemoryRequest')!,
      cpuLimit: raw('sidecarCpuLimit')!,
      memoryLimit: raw('sidecarMemoryLimit')!,
    }),
    serviceAccountLookupGraceMs: graceMs!,
    kubeconfig: raw('kubeconfig'),
    drainMs: drainSeconds! * 1000,
    shutdownGraceMs: shutdownSeconds! * 1000,
    logLevel: logLevel as LogLevel,
  });
}

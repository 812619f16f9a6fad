import { MAX_PEM_FILE_BYTES } from '../shared/read-bounded-file.ts';
import { unreadable } from './config-files.ts';
import type { LogLevel } from '../shared/log.ts';
import { loadOptions } from './option-loader.ts';
import { WEBHOOK_OPTIONS, type WebhookOptionKey } from './webhook-options.ts';

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

/**
 * Builds the webhook configuration. Per option: the flag, else the environment variable, else
 * the default; each option's own rules are its row in webhook-options.ts, applied by
 * loadOptions() (the duration default is checked against --flavor's store limits when set).
 * Every problem is thrown at once as a {@link ConfigError}. The TLS files are read once here so
 * a missing secret fails at start, not at the first request.
 */
export function loadWebhookConfig(argv: readonly string[], env: NodeJS.ProcessEnv): WebhookConfig {
  const o = loadOptions(WEBHOOK_OPTIONS, argv, env, 'Run sts-sidecar webhook --help.');
  const str = (key: WebhookOptionKey) => o.value(key) as string | undefined;
  const int = (key: WebhookOptionKey) => o.value(key) as number | undefined;

  const tlsCertFile = str('tlsCertFile')!;
  const tlsKeyFile = str('tlsKeyFile')!;
  for (const [key, file] of [
    ['tlsCertFile', tlsCertFile],
    ['tlsKeyFile', tlsKeyFile],
  ] as const) {
    const code = unreadable(file, MAX_PEM_FILE_BYTES);
    if (code !== undefined)
      o.problem(
        key,
        `cannot be read (${code}): ${file}. Mount the webhook's TLS secret (cert-manager) there.`,
      );
  }
  const listenPort = int('listenPort');
  const opsPort = int('opsPort');
  if (listenPort !== undefined && listenPort !== 0 && listenPort === opsPort)
    o.problem('opsPort', 'must differ from --listen-port.');

  o.throwIfInvalid();
  return Object.freeze({
    tlsCertFile,
    tlsKeyFile,
    listenHost: str('listenHost')!,
    listenPort: listenPort!,
    opsHost: str('opsHost')!,
    opsPort: opsPort!,
    sidecar: Object.freeze({
      image: str('sidecarImage')!,
      imagePullPolicy: str('imagePullPolicy') as SidecarImage['imagePullPolicy'],
      fsGroup: int('fsGroup')!,
    }),
    // As text: the plan parses them again together with the pod's annotations.
    defaults: Object.freeze({
      stsEndpoint: o.text('stsEndpoint'),
      flavor: str('flavor'),
      roleArn: str('roleArn'),
      audience: str('audience'),
      tokenExpirationSeconds: o.text('tokenExpirationSeconds')!,
      durationSeconds: o.text('durationSeconds')!,
      s3Endpoint: o.text('s3Endpoint'),
      cpuRequest: str('sidecarCpuRequest')!,
      memoryRequest: str('sidecarMemoryRequest')!,
      cpuLimit: str('sidecarCpuLimit')!,
      memoryLimit: str('sidecarMemoryLimit')!,
    }),
    serviceAccountLookupGraceMs: int('serviceAccountLookupGraceMs')!,
    kubeconfig: str('kubeconfig'),
    drainMs: int('drainSeconds')! * 1000,
    shutdownGraceMs: int('shutdownGraceSeconds')! * 1000,
    logLevel: str('logLevel') as LogLevel,
  });
}

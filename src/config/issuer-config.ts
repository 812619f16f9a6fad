import { readFileAtMostSync } from '../shared/read-bounded-file.ts';
import { MAX_PEM_FILE_BYTES } from '../shared/read-bounded-file.ts';
import { MAX_KUBECONFIG_BYTES, unreadable } from './config-files.ts';
import type { LogLevel } from '../shared/log.ts';
import { ISSUER_OPTIONS, type IssuerOptionKey } from './issuer-options.ts';
import { loadOptions } from './option-loader.ts';

/** Where a pod finds its own namespace (the service-account volume, mounted when automounted). */
export const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The validated, frozen configuration of the issuer publisher. */
export interface IssuerConfig {
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly caKeyFile: string;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly opsHost: string;
  readonly opsPort: number;
  /** --issuer-url, normalised; undefined = serve whatever issuer the API server reports. */
  readonly issuerUrl: string | undefined;
  /** Whether every served key carries an x5c certificate. */
  readonly x5c: boolean;
  readonly refreshIntervalMs: number;
  readonly maxStaleMs: number;
  readonly apiTimeoutMs: number;
  /** The TokenRequest target; undefined when --probe-service-account is not set. */
  readonly probe: { readonly namespace: string; readonly serviceAccount: string } | undefined;
  readonly kubeconfig: string | undefined;
  readonly drainMs: number;
  readonly shutdownGraceMs: number;
  readonly logLevel: LogLevel;
}

/**
 * Builds the issuer configuration. Per option: the flag, else the environment variable, else the
 * default (issuer-options.ts, applied by loadOptions()); then the rules between options:
 *  1. the TLS files, the CA key file and --kubeconfig (when set) must be readable, so a missing
 *     Secret fails at start;
 *  2. --max-stale-seconds is at least --refresh-interval-seconds (else every pod would flap
 *     unready between two successful refreshes);
 *  3. --probe-namespace defaults to the pod's namespace file, and is required with
 *     --probe-service-account when there is none (outside a pod).
 * Every problem is thrown at once as a ConfigError.
 */
export function loadIssuerConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  namespaceFile = IN_CLUSTER_NAMESPACE_FILE,
): IssuerConfig {
  const o = loadOptions(ISSUER_OPTIONS, argv, env, 'Run sts-sidecar issuer --help.');
  const str = (key: IssuerOptionKey) => o.value(key) as string | undefined;
  const int = (key: IssuerOptionKey) => o.value(key) as number | undefined;

  for (const [key, what] of [
    ['tlsCertFile', "the issuer's TLS Secret"],
    ['tlsKeyFile', "the issuer's TLS Secret"],
    ['caKeyFile', "the issuer's CA key Secret"],
  ] as const) {
    const file = str(key)!;
    const code = unreadable(file, MAX_PEM_FILE_BYTES);
    if (code !== undefined) o.problem(key, `cannot be read (${code}): ${file}. Mount ${what} there.`);
  }
  const kubeconfig = str('kubeconfig');
  const kubeconfigCode = kubeconfig === undefined ? undefined : unreadable(kubeconfig, MAX_KUBECONFIG_BYTES);
  if (kubeconfigCode !== undefined)
    o.problem(
      'kubeconfig',
      `cannot be read (${kubeconfigCode}): ${kubeconfig}. Unset it in a pod (the in-cluster account is used).`,
    );
  const listenPort = int('listenPort');
  const opsPort = int('opsPort');
  if (listenPort !== undefined && listenPort !== 0 && listenPort === opsPort)
    o.problem('opsPort', 'must differ from --listen-port.');
  const refresh = int('refreshIntervalSeconds');
  const maxStale = int('maxStaleSeconds');
  if (refresh !== undefined && maxStale !== undefined && maxStale < refresh)
    o.problem(
      'maxStaleSeconds',
      `must be at least --refresh-interval-seconds (${refresh}); got ${maxStale}.`,
    );

  const serviceAccount = str('probeServiceAccount');
  let namespace = str('probeNamespace');
  if (namespace === undefined && !o.failed('probeNamespace')) namespace = podNamespace(namespaceFile);
  if (serviceAccount !== undefined && namespace === undefined && !o.failed('probeNamespace'))
    o.problem(
      'probeNamespace',
      `is required with --probe-service-account outside a pod (no ${namespaceFile}).`,
    );

  o.throwIfInvalid();
  return Object.freeze({
    tlsCertFile: str('tlsCertFile')!,
    tlsKeyFile: str('tlsKeyFile')!,
    caKeyFile: str('caKeyFile')!,
    listenHost: str('listenHost')!,
    listenPort: listenPort!,
    opsHost: str('opsHost')!,
    opsPort: opsPort!,
    issuerUrl: str('issuerUrl'),
    x5c: o.value('x5c') as boolean,
    refreshIntervalMs: refresh! * 1000,
    maxStaleMs: maxStale! * 1000,
    apiTimeoutMs: int('apiTimeoutSeconds')! * 1000,
    probe:
      serviceAccount === undefined ? undefined : Object.freeze({ namespace: namespace!, serviceAccount }),
    kubeconfig,
    drainMs: int('drainSeconds')! * 1000,
    shutdownGraceMs: int('shutdownGraceSeconds')! * 1000,
    logLevel: str('logLevel') as LogLevel,
  });
}

/** The pod's namespace from the service-account volume, or undefined outside a pod. */
function podNamespace(file: string): string | undefined {
  try {
    // A namespace name is at most 63 characters; the cap only guards against a wrong mount.
    const text = readFileAtMostSync(file, 256).trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

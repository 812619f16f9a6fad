import { ConfigError, type ConfigIssue } from '../shared/errors.ts';
import { readPemBundle } from './config-files.ts';
import { CHECK_ONLY_OPTIONS, CHECK_SWITCH_FLAGS, type CheckOptionKey } from './check-options.ts';
import { loadOptions } from './option-loader.ts';
import { loadSidecarConfig, type SidecarConfig } from './sidecar-config.ts';

/** The validated, frozen configuration of `sts-sidecar check`. */
export interface CheckConfig {
  /** Exactly what the sidecar would run with: the same loader, the same rules. */
  readonly sidecar: SidecarConfig;
  readonly json: boolean;
  readonly skipExchange: boolean;
  /** The client ID expected in `aud`; undefined = report the token's aud, compare nothing. */
  readonly audience: string | undefined;
  readonly issuerCaFile: string | undefined;
  /** Contents of issuerCaFile. */
  readonly issuerCaPem: string | undefined;
  readonly maxClockSkewSeconds: number;
  /** Flavor rgw: the store's Ceph version; undefined = unknown (assume it needs `x5c`). */
  readonly rgwVersion: string | undefined;
}

const HELP_HINT = 'Run sts-sidecar check --help for the list of flags.';

/**
 * Builds the check's configuration. The command line is split in two: check's own flags, and
 * the rest, which goes through the sidecar's own loader (loadSidecarConfig), so check accepts
 * and validates exactly what the sidecar would, serving options included (a bad listen port is
 * a sidecar that cannot start: check says so). Precedence per option is the sidecar's: flag,
 * then env var, then default. Problems of both halves come back together in one ConfigError.
 */
export function loadCheckConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CheckConfig {
  const { sidecarArgv, checkArgv } = splitArgv(argv);
  const issues: ConfigIssue[] = [];
  let sidecar: SidecarConfig | undefined;
  try {
    sidecar = loadSidecarConfig(sidecarArgv, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  const o = loadOptions(CHECK_ONLY_OPTIONS, checkArgv, env, HELP_HINT);
  const str = (key: CheckOptionKey) => o.value(key) as string | undefined;

  const issuerCaFile = o.text('issuerCaFile');
  const issuerCaPem =
    issuerCaFile === undefined
      ? undefined
      : readPemBundle(issuerCaFile, 'Point it at a PEM bundle of CA certificates.', (t) =>
          o.problem('issuerCaFile', t),
        );
  const rgwVersion = str('rgwVersion');
  if (rgwVersion !== undefined && sidecar !== undefined && sidecar.flavor !== 'rgw')
    o.problem('rgwVersion', `applies to --flavor rgw only (the flavor is ${sidecar.flavor}); drop it.`);

  try {
    o.throwIfInvalid();
  } catch (error) {
    issues.push(...(error as ConfigError).issues);
  }
  if (issues.length > 0 || sidecar === undefined) throw new ConfigError(issues);
  return Object.freeze({
    sidecar,
    json: o.value('json') === true,
    skipExchange: o.value('skipExchange') === true,
    audience: str('audience'),
    issuerCaFile,
    issuerCaPem,
    maxClockSkewSeconds: o.value('maxClockSkewSeconds') as number,
    rgwVersion,
  });
}

/**
 * Moves check's own flags out of argv. A switch (`--json`) takes no value, so it becomes
 * `--json=true`; `--json true|false` and `--json=false` work too. Every other check flag takes
 * the next argument (or its `=value`), as node:util parseArgs would.
 */
export function splitArgv(argv: readonly string[]): { sidecarArgv: string[]; checkArgv: string[] } {
  const own = new Set(CHECK_ONLY_OPTIONS.map((r) => r.flag));
  const sidecarArgv: string[] = [];
  const checkArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([^=]+)(=.*)?$/.exec(arg);
    const flag = match?.[1];
    if (flag === undefined || !own.has(flag)) {
      sidecarArgv.push(arg);
      continue;
    }
    if (match![2] !== undefined) checkArgv.push(arg);
    else if (!CHECK_SWITCH_FLAGS.has(flag)) {
      checkArgv.push(arg);
      if (i + 1 < argv.length) checkArgv.push(argv[++i]!);
    } else if (argv[i + 1] === 'true' || argv[i + 1] === 'false') checkArgv.push(`${arg}=${argv[++i]}`);
    else checkArgv.push(`${arg}=true`);
  }
  return { sidecarArgv, checkArgv };
}

import type { Logger, LogLevel } from './log.ts';

/** A started subcommand: what SIGTERM/SIGINT stops. */
export interface RunningSubcommand {
  /** Idempotent (shared/lifecycle.ts `idempotent`): a second signal waits for the first stop. */
  shutdown(reason: string): Promise<void>;
}

/**
 * What a subcommand (`sidecar`, `webhook`, the next one) gives the CLI; the run loop around it
 * (src/run-subcommand.ts) is the same for all. Each product folder exports one.
 */
export interface SubcommandSpec<Config extends { logLevel: LogLevel }> {
  /** Prefix of every stderr message, e.g. `sts-sidecar webhook`. */
  name: string;
  /** Printed after a configuration error, e.g. `Run sts-sidecar --help for every option.` */
  helpHint: string;
  /** Parses and validates flags + env; throws one ConfigError listing every problem. */
  load(argv: readonly string[], env: NodeJS.ProcessEnv): Config;
  /** Brings the component up; a SidecarError with retry 'fatal' means it cannot start. */
  start(config: Config, logger: Logger): Promise<RunningSubcommand>;
}

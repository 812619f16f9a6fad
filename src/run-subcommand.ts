import type { LogLevel } from './config/sidecar-options.ts';
import { ConfigError, isSidecarError } from './errors.ts';
import { createLogger, type Logger } from './log.ts';

const EXIT_OK = 0;
const EXIT_USAGE = 2;

/** What `sidecar` and `webhook` differ in; the run loop around them is the same. */
export interface SubcommandSpec<Config extends { logLevel: LogLevel }> {
  /** Prefix of every stderr message, e.g. `sts-sidecar webhook`. */
  name: string;
  /** Printed after a configuration error, e.g. `Run sts-sidecar --help for every option.` */
  helpHint: string;
  /** Parses and validates flags + env; throws one ConfigError listing every problem. */
  load(argv: readonly string[], env: NodeJS.ProcessEnv): Config;
  /** Brings the component up; a SidecarError with retry 'fatal' means it cannot start. */
  start(config: Config, logger: Logger): Promise<{ shutdown(reason: string): Promise<void> }>;
}

/**
 * Validates once, starts, runs until SIGTERM/SIGINT, shuts down. A bad configuration or a fatal
 * start-up error exits 2 with the code and its fix on stderr and no stack trace; anything else
 * is unexpected and propagates (exit 1, in cli.ts).
 */
export async function runSubcommand<Config extends { logLevel: LogLevel }>(
  spec: SubcommandSpec<Config>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  let config: Config;
  try {
    config = spec.load(argv, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${spec.name}: ${error.code}: ${error.message}\n${spec.helpHint}\n`);
    return EXIT_USAGE;
  }
  const logger = createLogger({ level: config.logLevel });
  let running: Awaited<ReturnType<SubcommandSpec<Config>['start']>>;
  try {
    running = await spec.start(config, logger);
  } catch (error) {
    if (!isSidecarError(error) || error.retry !== 'fatal') throw error;
    logger.fatal({ event: 'start_failed', err: error }, 'cannot start');
    process.stderr.write(`${spec.name}: ${error.code}: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await running.shutdown(signal);
  return EXIT_OK;
}

import { ConfigError, isSidecarError } from './shared/errors.ts';
import { createLogger, type LogLevel } from './shared/log.ts';
import type { RunningSubcommand, SubcommandSpec } from './shared/subcommand.ts';

const EXIT_OK = 0;
const EXIT_USAGE = 2;

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
  let running: RunningSubcommand;
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

import { type DestinationStream, type Logger, pino } from 'pino';
import { isSidecarError } from './errors.ts';

export type { Logger } from 'pino';

/** pino's levels, as the --log-level options of every subcommand accept them. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Field names that may hold a secret anywhere in a log object. Code should never log these in
 * the first place; redaction is the safety net, configured here and nowhere else.
 */
const SECRET_FIELDS = [
  'token',
  'webIdentityToken',
  'WebIdentityToken',
  'secretAccessKey',
  'SecretAccessKey',
  'sessionToken',
  'SessionToken',
  'Token',
  'authToken',
  'authorization',
  'Authorization',
  'credentials',
  'Credentials',
];
const REDACT_PATHS = [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)];

export interface LoggerOptions {
  level: LogLevel;
  /** Where NDJSON goes; stdout (synchronously) by default. Tests pass a capture stream. */
  destination?: DestinationStream;
}

/** The process logger: pino NDJSON, secrets redacted, errors reduced to code + message. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { name: 'sts-sidecar' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: { err: serializeError },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * Logs only what an operator needs from an error. A raw SDK error carries the HTTP response
 * and request, which must not reach the logs, so it is never serialised whole.
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (isSidecarError(error)) return { code: error.code, message: error.message, ...error.details };
  if (error instanceof Error) return { type: error.name, message: error.message };
  return { message: String(error) };
}

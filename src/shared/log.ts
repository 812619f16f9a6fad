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

/** How many causes deep {@link serializeError} follows a chain. */
const MAX_CAUSE_DEPTH = 3;
/** Stack frames kept for a foreign cause: enough to find a bug, short enough for one log line. */
const MAX_STACK_FRAMES = 5;

/**
 * Logs only what an operator needs from an error, cause included. Our own errors (SidecarError)
 * keep code, message and details: their messages are written to be safe. A foreign error (an SDK
 * or fs error, a bug) keeps only its type, its errno-style code and a few stack frames, never its
 * message: a raw SDK error carries the HTTP response and request, and an unexpected message could
 * carry anything, secrets included (the STS message that matters is already scrubbed into ours).
 */
export function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = isSidecarError(error)
    ? { code: error.code, message: error.message, ...error.details }
    : error instanceof Error
      ? depth === 0
        ? { type: error.name, message: error.message }
        : foreignCause(error)
      : { message: depth === 0 ? String(error) : typeof error };
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(cause, depth + 1);
  return out;
}

function foreignCause(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, MAX_STACK_FRAMES)
    .map((line) => line.trim());
  return {
    type: error.name,
    ...(typeof code === 'string' ? { errno: code } : {}),
    ...(frames.length > 0 ? { stack: frames } : {}),
  };
}

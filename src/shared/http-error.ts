import type { ServerResponse } from 'node:http';
import { entryOf, type ErrorCode } from './errors.ts';

/**
 * The one JSON body of every HTTP error this program answers (credentials endpoint, ops
 * listeners, admission server), with a code from the error catalogue: `Code`/`Message` as the JS
 * and Python SDKs read them, and `code`/`message` as both AWS Java SDKs read them (otherwise they
 * report `Error Code: null`; issue #13, item 8).
 */
export interface ErrorBody {
  Code: ErrorCode;
  Message: string;
  code: ErrorCode;
  message: string;
}

export function toErrorBody(code: ErrorCode, message: string): ErrorBody {
  return { Code: code, Message: message, code, message };
}

/** The status a code is answered with, from the catalogue; 500 for a code that has none. */
export function httpStatusOf(code: ErrorCode): number {
  return entryOf(code).httpStatus ?? 500;
}

/** Headers of every JSON answer: never cached (a credentials body is a secret). */
export const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

/**
 * Answers `code` with its catalogue status and the {@link ErrorBody}. The message must be safe
 * to show to the caller: say what is wrong and how to fix it, never echo a secret.
 */
export function sendError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(toErrorBody(code, message));
  res
    .writeHead(httpStatusOf(code), {
      ...JSON_HEADERS,
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    })
    .end(body);
}

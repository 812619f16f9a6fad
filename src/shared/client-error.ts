import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from './errors.ts';
import { httpStatusOf, toErrorBody } from './http-error.ts';
import { setSafeTimeout } from './timers.ts';

/**
 * After the answer, the connection is half-closed and read until the client closes it (closing
 * with unread input would reset the connection and could lose the answer); a client that never
 * closes is cut off after this long.
 */
const LINGER_MS = 5_000;

/**
 * The answer to a request node:http could not parse, by its parser's error code: oversized
 * headers, a request not complete within headersTimeout/requestTimeout, oversized chunk
 * extensions, anything else malformed. Node answers these itself with an empty plain-text
 * response (lib/_http_server.js v24.21.0, `socketOnError`); these are the same statuses.
 */
export function clientErrorCode(parserCode: string | undefined): ErrorCode {
  switch (parserCode) {
    case 'HPE_HEADER_OVERFLOW':
      return 'HTTP_HEADERS_TOO_LARGE';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'HTTP_REQUEST_TIMEOUT';
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 'HTTP_BODY_TOO_LARGE';
    default:
      return 'HTTP_BAD_REQUEST';
  }
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  HTTP_HEADERS_TOO_LARGE: 'The request headers are larger than this listener reads.',
  HTTP_REQUEST_TIMEOUT: 'The request was not complete in time; the connection is closed.',
  HTTP_BODY_TOO_LARGE: 'A chunk extension is larger than this listener reads.',
  HTTP_BAD_REQUEST: 'The request is not valid HTTP/1.1.',
};

/** The raw HTTP/1.1 response for `code`: the JSON error body, then the connection closes. */
export function clientErrorResponse(code: ErrorCode): string {
  const status = httpStatusOf(code);
  const body = JSON.stringify(toErrorBody(code, MESSAGES[code] ?? 'The request is not valid.'));
  // The reason phrase is optional (RFC 9112, section 4); clients read the status code.
  return (
    `HTTP/1.1 ${status} \r\ncontent-type: application/json\r\ncache-control: no-store\r\n` +
    `connection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * Answers requests the HTTP parser refuses with the JSON error body every other error of this
 * program has (shared/http-error.ts), instead of Node's empty plain-text answer, and closes the
 * connection. `onAnswer` sees each status (for a requests counter). Every handler of ours writes
 * its response in one `end()`, so no half-written response can precede this one on the socket.
 */
export function answerClientErrors(
  server: HttpServer | HttpsServer,
  onAnswer: (status: number) => void = () => undefined,
): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset or a socket already ended has no one to read an answer.
    if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
    const code = clientErrorCode(error.code);
    onAnswer(httpStatusOf(code));
    socket.end(clientErrorResponse(code));
    const linger = setSafeTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(linger));
  });
}

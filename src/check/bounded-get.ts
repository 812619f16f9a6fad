import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isTlsErrorCode } from '../sts/classify-sts-error.ts';

/** Options for {@link boundedGet}. */
export interface BoundedGetOptions {
  /** CAs trusted for https: they replace Node's default list. Undefined = Node's default CAs. */
  ca: readonly string[] | string | undefined;
  /** Deadline for the whole request, connection and body included, in ms. */
  timeoutMs: number;
  /** Largest body read, in bytes; a longer one is an error. 0 = read the status and headers only. */
  maxBodyBytes: number;
  /** Wall clock in ms since the epoch, for the send and receive times. */
  now: () => number;
  /** The Accept header; default application/json. */
  accept?: string;
}

/** An HTTP answer, whatever its status. */
export interface BoundedGetResponse {
  readonly status: number;
  /** The Date header as sent, if any. */
  readonly date: string | undefined;
  readonly body: string;
  /** Our clock just before the request went out and when the headers came back. */
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
}

/** Why no answer came: a TLS handshake or certificate error, the deadline, the socket, or a body too large. */
export type GetFailureKind = 'tls' | 'timeout' | 'network' | 'too-large';

/** A GET that got no usable answer; `code` is the socket or TLS error code when there is one. */
export class GetFailure extends Error {
  readonly kind: GetFailureKind;
  readonly code: string | undefined;

  constructor(kind: GetFailureKind, message: string, code?: string) {
    super(message);
    this.name = 'GetFailure';
    this.kind = kind;
    this.code = code;
  }
}

/**
 * One GET without redirects, keep-alive or retries, bounded in time and size: the check talks to
 * endpoints that may be broken or hostile (issue #13: every read from a socket is bounded), and
 * must end by itself. A fresh connection each time (`agent: false`), so no socket outlives it.
 *
 * @throws GetFailure when there is no HTTP answer, or its body is longer than `maxBodyBytes`.
 */
export function boundedGet(url: string, options: BoundedGetOptions): Promise<BoundedGetResponse> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const https = url.startsWith('https:');
  const failure = (error: unknown): GetFailure => {
    if (error instanceof GetFailure) return error;
    if (signal.aborted)
      return new GetFailure('timeout', `no answer within ${options.timeoutMs / 1000} s`, 'ETIMEDOUT');
    const code = (error as NodeJS.ErrnoException).code;
    const text = error instanceof Error ? error.message : String(error);
    return new GetFailure(code !== undefined && isTlsErrorCode(code) ? 'tls' : 'network', text, code);
  };
  return new Promise((resolve, reject) => {
    const sentAtMs = options.now();
    const onResponse = (res: IncomingMessage): void => {
      const receivedAtMs = options.now();
      const answer = (body: string): BoundedGetResponse => ({
        status: res.statusCode ?? 0,
        date: res.headers.date,
        body,
        sentAtMs,
        receivedAtMs,
      });
      if (options.maxBodyBytes === 0) {
        res.destroy();
        return resolve(answer(''));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= options.maxBodyBytes) return void chunks.push(chunk);
        res.destroy();
        reject(new GetFailure('too-large', `the body is larger than ${options.maxBodyBytes} bytes`));
      });
      res.on('end', () => resolve(answer(Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (error) => reject(failure(error)));
    };
    const request = https ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        agent: false,
        signal,
        headers: { accept: options.accept ?? 'application/json' },
        ...(https && options.ca !== undefined ? { ca: options.ca as string | string[] } : {}),
      },
      onResponse,
    );
    req.on('error', (error) => reject(failure(error)));
    req.end();
  });
}

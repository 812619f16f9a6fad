import { Readable } from 'node:stream';
import type { STSClient } from '@aws-sdk/client-sts';
import { StsErrorResponse } from './sts-error-body.ts';

/**
 * Largest successful STS reply we read. A real one is 1-3 KiB (a MinIO session token with a
 * 2048-character session policy stays under 8 KiB); 64 KiB leaves room for any store and keeps a
 * broken or hostile endpoint from growing the heap: a 5 MB 200 reply once took the sidecar to
 * ~790 MiB RSS, as the SDK buffers, decodes and parses it whole (issue #13, item 2).
 */
export const MAX_SUCCESS_BODY_BYTES = 64 * 1024;

/** HTTP Date has whole seconds (RFC 9110 section 5.6.7). */
const DATE_RESOLUTION_MS = 1_000;

/** Error name for an oversized 2xx body; classified as STS_BAD_RESPONSE. */
export const RESPONSE_TOO_LARGE = 'ResponseTooLarge';

interface RawResponse {
  statusCode: number;
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

export interface ResponseGuardOptions {
  /** Our wall clock, ms since the epoch. */
  now: () => number;
  /**
   * Called for every reply with a usable Date header with the most the store's clock can be
   * ahead of ours (ms): Date is stamped between our send and our receipt and truncated to the
   * second, so lead <= Date + 1 s - sentAt. An upper bound, so expiry checks built on it stay
   * safe by the store's clock.
   */
  onStoreClockAhead: (aheadMs: number) => void;
}

/**
 * Sits just inside the SDK's deserializer, before any body is parsed:
 * - reads the reply's HTTP Date header, the only clock of the store we can see, so expiry
 *   checks can allow for its lead (issue #13, item 6);
 * - reads a 2xx body itself, up to {@link MAX_SUCCESS_BODY_BYTES}, and refuses anything longer
 *   before the SDK buffers it (error bodies have their own cap in sts-error-body.ts).
 */
export function addResponseGuardMiddleware(client: STSClient, options: ResponseGuardOptions): void {
  const middleware =
    (next: (args: unknown) => Promise<{ response: RawResponse }>) =>
    async (args: unknown): Promise<{ response: RawResponse }> => {
      const sentAt = options.now();
      const result = await next(args);
      const { response } = result;
      const date = Date.parse(response.headers?.date ?? '');
      if (Number.isFinite(date)) options.onStoreClockAhead(date + DATE_RESOLUTION_MS - sentAt);
      if (response.statusCode < 200 || response.statusCode >= 300) return result;
      const announced = Number(response.headers?.['content-length']);
      if (announced > MAX_SUCCESS_BODY_BYTES) throw tooLarge(response, `announces ${announced} bytes`);
      const body = await readAtMost(response.body, MAX_SUCCESS_BODY_BYTES);
      if (body === undefined) throw tooLarge(response, `sends more than ${MAX_SUCCESS_BODY_BYTES} bytes`);
      response.body = Readable.from([body]);
      return result;
    };
  // `as never`: the SDK's middleware types live in a transitive package we do not import.
  client.middlewareStack.addRelativeTo(middleware as never, {
    name: 'stsSidecarResponseGuard',
    relation: 'after',
    toMiddleware: 'deserializerMiddleware',
  });
}

function tooLarge(response: RawResponse, what: string): StsErrorResponse {
  destroy(response.body);
  return new StsErrorResponse(
    RESPONSE_TOO_LARGE,
    `the ${response.statusCode} reply ${what}, above the ${MAX_SUCCESS_BODY_BYTES}-byte cap for an AssumeRoleWithWebIdentity response`,
    response.statusCode,
  );
}

/** The whole body, or undefined (and the stream destroyed) once it passes `limit` bytes. */
async function readAtMost(body: unknown, limit: number): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buffer.length;
    if (size > limit) {
      destroy(body);
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function destroy(body: unknown): void {
  (body as { destroy?: () => void } | undefined)?.destroy?.();
}

import type { ErrorCode } from '../shared/errors.ts';
import { NON_XML_ERROR } from './sts-error-body.ts';

/** What we learned from one failed STS call, before it becomes a SidecarError. */
export interface StsFailure {
  readonly code: ErrorCode;
  /** The store's own error code (e.g. AccessDenied) or the socket error code, when there is one. */
  readonly upstreamCode: string | undefined;
  readonly httpStatus: number | undefined;
  /** The store's message, unscrubbed: the caller removes secrets before it goes anywhere. */
  readonly upstreamMessage: string | undefined;
}

// Error codes the stores send, by what they mean for us. Names appear both bare (as RGW and
// MinIO send them) and with the SDK's "Exception" suffix for the modelled AWS errors.
const REJECTED_TOKEN = new Set([
  'InvalidIdentityToken',
  'ExpiredToken',
  'IDPRejectedClaim',
  'InvalidClientTokenId',
]);
const MINIO_TOKEN_MESSAGE =
  /JWT|[Tt]oken is (expired|not valid)|crypto\/rsa|kid value|policy claim|`azp`|`aud`|`sub`/;
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'SlowDown',
  'TooManyRequests',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
]);
// IDPCommunicationError: the store could not reach the issuer's JWKS; the next try may work.
const UPSTREAM_TRANSIENT = new Set([
  'IDPCommunicationError',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'RequestTimeoutException']);
const TIMEOUT_SOCKET_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const UNREACHABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ERR_SOCKET_CLOSED',
]);

function stripException(name: string): string {
  return name.endsWith('Exception') ? name.slice(0, -'Exception'.length) : name;
}

/**
 * Classifies any error thrown by an STS call, once, so the scheduler only ever looks at our
 * code. Precedence: timeouts, socket errors (no HTTP answer), the store's error code, then the
 * HTTP status. Unknown 4xx codes count as a bad request (retrying the same request cannot help);
 * a failure with neither an answer nor a socket error is INTERNAL_ERROR.
 */
export function classifyStsError(error: unknown): StsFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $response?: { statusCode?: unknown };
    Code?: unknown;
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const socketCode = typeof e.code === 'string' ? e.code : undefined;
  const statusRaw = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const httpStatus = typeof statusRaw === 'number' ? statusRaw : undefined;
  const upstreamMessage = typeof e.message === 'string' ? e.message : undefined;
  const failure = (code: ErrorCode, upstreamCode: string | undefined): StsFailure => ({
    code,
    upstreamCode,
    httpStatus,
    upstreamMessage,
  });

  // No HTTP answer at all. The socket code decides: node-http-handler names a reset
  // connection "TimeoutError" too, with code ECONNRESET.
  if (httpStatus === undefined && socketCode !== undefined) {
    if (UNREACHABLE_SOCKET_CODES.has(socketCode) || isTlsErrorCode(socketCode))
      return failure('STS_UNREACHABLE', socketCode);
    if (TIMEOUT_SOCKET_CODES.has(socketCode)) return failure('STS_TIMEOUT', socketCode);
  }
  if (TIMEOUT_NAMES.has(name) && httpStatus === undefined) return failure('STS_TIMEOUT', socketCode ?? name);

  const upstream = stripException(name);
  // MinIO answers every web-identity refusal with InvalidParameterValue; only the message says
  // the token itself was refused (test/e2e/minio.e2e.test.ts records the exact texts).
  if (upstream === 'InvalidParameterValue' && MINIO_TOKEN_MESSAGE.test(upstreamMessage ?? ''))
    return failure('STS_REJECTED_TOKEN', upstream);
  if (REJECTED_TOKEN.has(upstream)) return failure('STS_REJECTED_TOKEN', upstream);
  if (ACCESS_DENIED.has(name) || ACCESS_DENIED.has(upstream)) return failure('STS_ACCESS_DENIED', upstream);
  if (THROTTLED.has(name) || THROTTLED.has(upstream) || httpStatus === 429)
    return failure('STS_THROTTLED', upstream);
  if (UPSTREAM_TRANSIENT.has(upstream)) return failure('STS_SERVER_ERROR', upstream);

  if (httpStatus !== undefined) {
    if (httpStatus >= 500) return failure('STS_SERVER_ERROR', upstream || undefined);
    // A 2xx that failed anyway: the SDK could not make sense of the body.
    if (httpStatus < 300) return failure('STS_BAD_RESPONSE', upstream || undefined);
    if (httpStatus >= 400 && isKnownCode(upstream)) return failure('STS_INVALID_REQUEST', upstream);
    // A 4xx without an error code the SDK could read (HTML from a proxy, an empty body).
    return failure('STS_BAD_RESPONSE', upstream || undefined);
  }
  if (socketCode !== undefined) return failure('STS_UNREACHABLE', socketCode);
  // No HTTP answer, no socket error, no timeout: the failure happened in our code or the SDK's,
  // not at the store, so it must not fire the store's alerts and runbook.
  return failure('INTERNAL_ERROR', upstream || undefined);
}

/** True when the SDK extracted a real error code from the body, rather than a placeholder. */
function isKnownCode(code: string): boolean {
  return (
    code !== '' && code !== 'Unknown' && code !== 'UnknownError' && code !== 'Error' && code !== NON_XML_ERROR
  );
}

/** True for the socket error codes of a failed TLS handshake or certificate check (Node / OpenSSL). */
export function isTlsErrorCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN'
  );
}

/**
 * Every error this program raises on purpose is a {@link SidecarError} with a stable `code`.
 * Callers branch on `code`, never on message text. Messages say what is wrong and how to fix
 * it, and never contain a secret (token, secret key, session token, endpoint auth token).
 *
 * The table of docs/errors.md is generated from {@link ERROR_CATALOGUE}; a test checks it.
 */

/** How the refresh scheduler reacts to a failure; decided once, here, per code. */
export type RetryClass =
  /** Retry soon with exponential backoff; the old credentials stay in service meanwhile. */
  | 'transient'
  /** Retrying the same request cannot help; wait for a new token file (or a long backoff). */
  | 'permanent'
  /** Not retried at all: the process cannot run as configured. */
  | 'fatal';

export interface CatalogueEntry {
  retry: RetryClass;
  /** One line for the table of docs/errors.md: when it happens and what to do. */
  meaning: string;
  /**
   * The fix, one sentence, appended to messages built from a foreign error (an STS answer) that
   * cannot say it themselves. Messages we write from scratch name their fix directly.
   */
  hint?: string;
  /** The HTTP status when this code is answered on the wire (see shared/http-error.ts). */
  httpStatus?: number;
}

/** The closed set of error codes. Metric labels use these codes and nothing else. */
export const ERROR_CATALOGUE = {
  CONFIG_INVALID: {
    retry: 'fatal',
    meaning: 'One or more options are invalid; every bad option is listed with its fix. Exit code 2.',
  },
  TOKEN_FILE_MISSING: {
    retry: 'permanent',
    meaning: 'The projected token file does not exist. Check the projected volume and --token-file.',
  },
  TOKEN_FILE_EMPTY: {
    retry: 'permanent',
    meaning: 'The token file is empty (the kubelet has not written it yet, or the wrong file is mounted).',
  },
  TOKEN_FILE_UNREADABLE: {
    retry: 'permanent',
    meaning: 'The token file exists but cannot be read (permissions, or it is a directory).',
  },
  TOKEN_NOT_JWT: {
    retry: 'permanent',
    meaning: 'The token file does not hold a JWT (three base64url parts with a JSON header and payload).',
  },
  TOKEN_EXPIRED: {
    retry: 'permanent',
    meaning: 'The token in the file is past its `exp`; the kubelet should rotate it. Waits for a new file.',
  },
  STS_REJECTED_TOKEN: {
    retry: 'permanent',
    meaning:
      'STS refused the web identity token (InvalidIdentityToken, ExpiredTokenException, IDPRejectedClaim): check issuer, audience and the OIDC provider.',
    hint: "Check that the store's OIDC provider trusts the token's issuer and audience (ClientID) and can fetch its JWKS.",
  },
  STS_ACCESS_DENIED: {
    retry: 'permanent',
    meaning: "STS answered AccessDenied: the role's trust policy does not admit this token's iss/aud/sub.",
    hint: "Check the role's trust policy conditions on the token's iss, aud and sub.",
  },
  STS_INVALID_REQUEST: {
    retry: 'permanent',
    meaning:
      'STS refused the request parameters (ValidationError, InvalidParameterValue, MalformedPolicyDocument, PackedPolicyTooLarge, other 4xx).',
    hint: 'Check --role-arn, --duration-seconds (the role may allow less) and --session-policy.',
  },
  STS_THROTTLED: {
    retry: 'transient',
    meaning: 'STS asked us to slow down (Throttling, SlowDown, 429). Retried with backoff.',
  },
  STS_SERVER_ERROR: {
    retry: 'transient',
    meaning: 'STS answered with a 5xx. Retried with backoff; the old credentials stay in service.',
  },
  STS_UNREACHABLE: {
    retry: 'transient',
    meaning: 'No connection to STS (refused, reset, DNS, TLS). Check --sts-endpoint and --ca-file.',
    hint: 'Check --sts-endpoint, the network path and, for https, --ca-file.',
  },
  STS_TIMEOUT: {
    retry: 'transient',
    meaning: 'STS did not answer within --sts-timeout-seconds. Retried with backoff.',
    hint: 'Raise --sts-timeout-seconds if the store is slow.',
  },
  STS_BAD_RESPONSE: {
    retry: 'transient',
    meaning:
      'STS answered something that is not a valid AssumeRoleWithWebIdentity response (HTML, truncated XML, missing fields).',
  },
  STS_EXPIRED_CREDENTIALS: {
    retry: 'transient',
    meaning:
      'STS returned credentials that are already expired or expire within 60 s (clock skew?). They are never served.',
  },
  AUTH_TOKEN_FILE_UNWRITABLE: {
    retry: 'fatal',
    meaning:
      'The endpoint auth token cannot be written to --auth-token-file (mount a writable in-memory emptyDir there). Exit code 2.',
  },
  AUTH_TOKEN_FILE_INVALID: {
    retry: 'fatal',
    meaning:
      'With --auth-token-source file, the token file is missing, too short or holds a line break. Exit code 2.',
  },
  LISTEN_FAILED: {
    retry: 'fatal',
    meaning:
      'A listener could not bind (port in use, address not on this host). Change --listen-port / --ops-port. Exit code 2.',
  },
  NO_VALID_CREDENTIALS: {
    retry: 'transient',
    meaning: 'No credentials with at least 60 s left are held right now; the endpoint answers 503.',
    httpStatus: 503,
  },
  WEBHOOK_ANNOTATION_INVALID: {
    retry: 'permanent',
    meaning:
      'Webhook: an `sts-sidecar.io/*` annotation on the pod or its ServiceAccount is invalid or a required one is missing; the pod is rejected with every problem and its fix.',
  },
  ADMISSION_REVIEW_INVALID: {
    retry: 'permanent',
    meaning:
      'Webhook: the request body is not an admission.k8s.io/v1 AdmissionReview with a request.uid; answered 400.',
    httpStatus: 400,
  },
  WEBHOOK_TLS_INVALID: {
    retry: 'fatal',
    meaning:
      'Webhook: --tls-cert-file / --tls-key-file cannot be read or do not form a key pair. Exit code 2 at start; on reload the previous certificate stays in use.',
  },
  KUBE_API_UNAVAILABLE: {
    retry: 'transient',
    meaning:
      "Webhook: the pod's ServiceAccount could not be read from the API server; the pod is rejected and its controller retries.",
  },
  ISSUER_API_UNAVAILABLE: {
    retry: 'transient',
    meaning:
      "Issuer: the API server's discovery document or JWKS could not be fetched (unreachable, timeout, error status); the last good documents stay served until --max-stale-seconds.",
    hint: 'Check the API server, and that the issuer ServiceAccount is bound to the ClusterRole system:service-account-issuer-discovery.',
  },
  ISSUER_DOCUMENT_INVALID: {
    retry: 'transient',
    meaning:
      'Issuer: the API server answered a discovery document or JWKS we cannot publish (not JSON, too large, an issuer that is not an http(s) URL, no keys, a key node:crypto cannot import); the last good documents stay served.',
    hint: 'Compare with kubectl get --raw /.well-known/openid-configuration and /openid/v1/jwks.',
  },
  ISSUER_PROBE_FAILED: {
    retry: 'transient',
    meaning:
      'Issuer: the JWKS has several keys and the TokenRequest that tells which one signs failed; the last good documents stay served, as a wrong first key would make RGW refuse every token.',
    hint: 'Check --probe-service-account / --probe-namespace and the Role allowing create on serviceaccounts/token for that ServiceAccount.',
  },
  ISSUER_URL_MISMATCH: {
    retry: 'transient',
    meaning:
      "Issuer: the API server's `issuer` differs from --issuer-url, so stores would fetch discovery elsewhere; the publisher stays unready until they agree.",
    hint: "Set --issuer-url to the API server's --service-account-issuer, or change that flag.",
  },
  ISSUER_CA_KEY_INVALID: {
    retry: 'fatal',
    meaning:
      'Issuer: --ca-key-file cannot be read or is not an unencrypted PEM RSA private key of at least 2048 bits. Exit code 2.',
    hint: 'Mount the CA key Secret (the chart generates one) at --ca-key-file.',
  },
  ISSUER_TLS_INVALID: {
    retry: 'fatal',
    meaning:
      'Issuer: --tls-cert-file / --tls-key-file cannot be read or do not form a key pair. Exit code 2 at start; on reload the previous certificate stays in use.',
    hint: "Mount the issuer's TLS Secret (tls.crt, tls.key) there.",
  },
  ISSUER_NOT_READY: {
    retry: 'transient',
    meaning: 'HTTP 503 from the issuer: no documents have been loaded from the API server yet; stores retry.',
    httpStatus: 503,
  },
  INTERNAL_ERROR: {
    retry: 'transient',
    meaning:
      'A bug: something failed that no other code describes. The sidecar retries the exchange with backoff; an HTTP listener answers 500. The log line keeps the cause; please report it.',
    hint: 'This is a bug in sts-sidecar; the log line has the cause.',
    httpStatus: 500,
  },
  HTTP_NOT_FOUND: {
    retry: 'permanent',
    meaning: 'HTTP 404: the path is not served by this listener; the message names the right one.',
    httpStatus: 404,
  },
  HTTP_METHOD_NOT_ALLOWED: {
    retry: 'permanent',
    meaning: 'HTTP 405: wrong method; the `allow` header names the right one.',
    httpStatus: 405,
  },
  HTTP_BODY_NOT_ALLOWED: {
    retry: 'permanent',
    meaning: 'HTTP 400 from the credentials endpoint: a credentials request carries no body.',
    httpStatus: 400,
  },
  HTTP_BODY_TOO_LARGE: {
    retry: 'permanent',
    meaning:
      'HTTP 413: the request body (admission server) or a chunk extension (any listener) is larger than the listener reads.',
    httpStatus: 413,
  },
  HTTP_UNAUTHORIZED: {
    retry: 'permanent',
    meaning:
      'HTTP 401 from the credentials endpoint: the Authorization header is missing or wrong; send the contents of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.',
    httpStatus: 401,
  },
  HTTP_PROXIED_REQUEST_REFUSED: {
    retry: 'permanent',
    meaning:
      'HTTP 403 from the credentials endpoint: the request came through a proxy (X-Forwarded-For or Forwarded); credentials are served to local clients only.',
    httpStatus: 403,
  },
  HTTP_BAD_REQUEST: {
    retry: 'permanent',
    meaning: 'HTTP 400 from any listener: the request is not valid HTTP/1.1; the connection is closed.',
    httpStatus: 400,
  },
  HTTP_REQUEST_TIMEOUT: {
    retry: 'permanent',
    meaning:
      'HTTP 408 from any listener: the request did not arrive within its headers or request timeout (credentials and ops listeners: 5 s and 10 s; admission server: 10 s and 30 s); the connection is closed.',
    httpStatus: 408,
  },
  HTTP_HEADERS_TOO_LARGE: {
    retry: 'permanent',
    meaning:
      'HTTP 431 from any listener: the request headers are larger than it reads (8 KiB on the credentials endpoint, 16 KiB, the Node default, elsewhere); the connection is closed.',
    httpStatus: 431,
  },
  HTTP_NOT_READY: {
    retry: 'transient',
    meaning:
      'HTTP 503 from /readyz: not ready, and the message says why (the sidecar holds no servable credentials; the webhook is starting or draining).',
    httpStatus: 503,
  },
  // `sts-sidecar check` (src/check/): one code per broken link it names. The sidecar never
  // raises these; `retry` says whether running the check again, unchanged, may pass.
  CHECK_AUDIENCE_MISMATCH: {
    retry: 'permanent',
    meaning:
      "check: the token's `aud` does not contain --audience, the client ID registered at the store; set the token audience (sts-sidecar.io/audience) to it.",
    hint: 'Give the projected token that audience (annotation sts-sidecar.io/audience or the webhook --audience), or register its aud as a client ID at the store.',
  },
  CHECK_ISSUER_UNREACHABLE: {
    retry: 'transient',
    meaning:
      "check: the issuer's discovery document or JWKS cannot be fetched from here (no connection, timeout, an HTTP error such as 401: stores fetch it anonymously).",
    hint: 'Make <iss>/.well-known/openid-configuration and its jwks_uri reachable without credentials (Kubernetes: bind system:service-account-issuer-discovery to system:unauthenticated), from the pod and from the store.',
  },
  CHECK_ISSUER_TLS_UNTRUSTED: {
    retry: 'permanent',
    meaning:
      "check: the issuer's HTTPS certificate is not trusted by the system CAs plus --issuer-ca-file; the store must trust its CA too.",
    hint: 'Pass the CA that signed the issuer certificate with --issuer-ca-file; the store must trust it too (RGW: the system CA store; MinIO: certs/CAs).',
  },
  CHECK_ISSUER_MISMATCH: {
    retry: 'permanent',
    meaning:
      "check: the token has no `iss`, or the discovery document's `issuer` differs from it (stores compare them exactly); fix the API server's --service-account-issuer.",
    hint: "Set the API server's --service-account-issuer to the URL that serves the discovery document, and register that exact URL at the store.",
  },
  CHECK_ISSUER_DOCUMENT_INVALID: {
    retry: 'permanent',
    meaning:
      'check: the discovery document or the JWKS is not what OIDC discovery requires (not JSON, no jwks_uri, no keys, a key that is no public key).',
    hint: '<iss>/.well-known/openid-configuration must be JSON with issuer and jwks_uri, and jwks_uri a JSON {"keys": […]}.',
  },
  CHECK_JWKS_NO_KID: {
    retry: 'permanent',
    meaning:
      "check: the token's header has no `kid`, or the issuer's JWKS has no key with it (a signing key not published, e.g. after a rotation).",
    hint: 'The JWKS the store fetches must publish the key that signs the tokens: after a key rotation, publish the new key (and keep the old one until its tokens expire).',
  },
  CHECK_TOKEN_SIGNATURE_INVALID: {
    retry: 'permanent',
    meaning:
      "check: the JWKS key with the token's `kid` does not verify the token's signature; the issuer publishes the wrong key under that kid.",
    hint: 'The JWKS publishes another key under this kid: make the issuer publish the key that actually signs (e.g. after a signing-key change, restart the component that serves the JWKS).',
  },
  CHECK_JWKS_NO_X5C: {
    retry: 'permanent',
    meaning:
      'check, flavor rgw: the signing key in the JWKS has no `x5c`, which Ceph RGW before 18.2.8 (Reef) / 19.2.3 (Squid) refuses: deploy `sts-sidecar issuer` (chart value issuer.enabled), or pass --rgw-version for a newer RGW.',
    hint: "Deploy `sts-sidecar issuer` (chart value issuer.enabled) and point the API server's --service-account-issuer at it, or upgrade RGW to 18.2.8 / 19.2.3 or later and pass --rgw-version.",
  },
  CHECK_STS_UNREACHABLE: {
    retry: 'transient',
    meaning:
      'check: no HTTP answer from --sts-endpoint (refused, reset, DNS, timeout). Check the URL and the network path.',
    hint: 'Check --sts-endpoint, DNS, network policies and proxies between the pod and the store.',
  },
  CHECK_STS_TLS_UNTRUSTED: {
    retry: 'permanent',
    meaning:
      "check: the STS endpoint's HTTPS certificate is not trusted with --ca-file (or Node's CAs without it); point --ca-file at the store's CA.",
    hint: 'Point --ca-file (STS_SIDECAR_CA_FILE) at the CA bundle that signed the store certificate, and check that its name matches the --sts-endpoint host.',
  },
  CHECK_CLOCK_SKEW: {
    retry: 'permanent',
    meaning:
      "check: this node's clock and the store's (its HTTP Date header) differ by more than --max-clock-skew-seconds (300 s by default; a warning above 60 s). Fix NTP.",
    hint: 'Synchronise the clocks of the nodes and the store (NTP/chrony); S3 requests signed with a clock 15 min off are refused.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** The fix-it sentence of a code, or '' when its messages name their fix themselves. */
export function hintOf(code: ErrorCode): string {
  return entryOf(code).hint ?? '';
}

/** A code's catalogue entry, with the optional fields visible. */
export function entryOf(code: ErrorCode): CatalogueEntry {
  return ERROR_CATALOGUE[code];
}

/** The retry class of a code, from the catalogue. */
export function retryClassOf(code: ErrorCode): RetryClass {
  return ERROR_CATALOGUE[code].retry;
}

export interface SidecarErrorOptions {
  cause?: unknown;
  /** Extra non-secret fields for log lines (e.g. the upstream STS error code). */
  details?: Record<string, string | number | boolean | undefined>;
}

/** Base of every error we raise on purpose. Constructors have no side effects. */
export class SidecarError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, string | number | boolean | undefined>>;

  constructor(code: ErrorCode, message: string, options: SidecarErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidecarError';
    this.code = code;
    this.details = Object.freeze({ ...options.details });
  }

  get retry(): RetryClass {
    return retryClassOf(this.code);
  }
}

/** One invalid option: which one (env var and flag) and how to fix it. */
export interface ConfigIssue {
  /** Env var name, e.g. STS_SIDECAR_ROLE_ARN. */
  env: string;
  /** Flag, e.g. --role-arn. */
  flag: string;
  /** What is wrong and how to fix it, one sentence. Never echoes a secret value. */
  problem: string;
}

/** All bad options at once, so an operator fixes them in one round trip. */
export class ConfigError extends SidecarError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.env} / ${i.flag}: ${i.problem}`);
    super('CONFIG_INVALID', `invalid configuration (${issues.length} problem(s)):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** One invalid or missing annotation: which key, where it came from, how to fix it. */
export interface AnnotationIssue {
  /** The annotation (or label) key, e.g. sts-sidecar.io/role-arn. */
  annotation: string;
  /** Where the value came from: pod, service account or webhook default. */
  source: string;
  /** What is wrong and how to fix it, one sentence. */
  problem: string;
}

/** Every annotation problem of one pod at once; becomes the admission denial message. */
export class AnnotationError extends SidecarError {
  readonly issues: readonly AnnotationIssue[];

  constructor(issues: readonly AnnotationIssue[]) {
    const lines = issues.map((i) => `${i.annotation} (${i.source}): ${i.problem.replace(/\.$/, '')}`);
    super('WEBHOOK_ANNOTATION_INVALID', `sts-sidecar: cannot inject: ${lines.join('; ')}.`);
    this.name = 'AnnotationError';
    this.issues = Object.freeze([...issues]);
  }
}

export function isSidecarError(value: unknown): value is SidecarError {
  return value instanceof SidecarError;
}

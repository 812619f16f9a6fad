import { createHash, createPublicKey, type KeyObject, randomBytes, randomInt, verify } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import {
  createServer as createHttpServer,
  get as httpGet,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Which store the fake imitates: error envelope, codes, check order and success XML differ. */
export type StsMode = 'rgw' | 'minio';

/**
 * A failure injected into one request (FIFO, one per request):
 * - `http500` / `http503`: that status with a plain-text body, as a proxy in front of the store sends;
 * - `throttle`: the store's own throttling error (RGW 503 `SlowDown`, MinIO 429 `ThrottlingException`);
 * - `hang`: read the request, never answer until {@link FakeSts.close};
 * - `reset`: destroy the socket after reading the request;
 * - `html`: 502 with an nginx-style HTML page; `html200`: 200 with an HTML page;
 * - `truncated`: 200 with the success XML cut in half (valid HTTP framing);
 * - `expired`: normal validation, then a 200 whose `Expiration` is 60 s in the past;
 * - `echo-token`: 400 `InvalidIdentityToken` whose Message contains the raw WebIdentityToken;
 * - `huge200`: a valid success reply padded to 5 MB (an unknown element the SDK would skip);
 * - `{code, status, message}`: any error in the store's error envelope.
 */
export type StsFault =
  | 'http500'
  | 'http503'
  | 'throttle'
  | 'hang'
  | 'reset'
  | 'html'
  | 'html200'
  | 'truncated'
  | 'expired'
  | 'echo-token'
  | 'huge200'
  | { code: string; status: number; message?: string };

/** A role the fake knows (RGW: `radosgw-admin role create`; MinIO: a role-policy provider's RoleArn). */
export interface FakeStsRole {
  arn: string;
  /** RGW `max_session_duration`; DurationSeconds above it is rejected, not clamped. Default 3600 s. */
  maxSessionDurationSeconds?: number;
}

/** Options for {@link FakeSts.start}. */
export interface FakeStsOptions {
  mode: StsMode;
  /** `iss` values accepted, exactly as in the token (RGW: registered OIDC providers). */
  trustedIssuers: string[];
  /** Client ID that `aud` (or `azp`) must contain. */
  audience: string;
  /** Known roles. Default none (RGW then rejects every request; MinIO needs none when RoleArn is omitted). */
  roles?: FakeStsRole[];
  /** PEM CA bundle used when fetching an https issuer's discovery document and JWKS. */
  issuerCa?: string | string[];
  /** Serve over HTTPS with this key pair. Default plain HTTP. */
  tls?: { certPem: string; keyPem: string };
  /** Lifetime actually issued, in seconds, after DurationSeconds passed validation. Default: as the store would. */
  credentialLifetimeSeconds?: number;
  /** Clock (ms since the epoch) for token time checks and issued expirations. Default `Date.now`. */
  now?: () => number;
  /**
   * How far the store's clock runs ahead of `now` (ms; negative: behind). Token checks, issued
   * expirations and the HTTP Date header all use the store's clock. Settable later with
   * {@link FakeSts.setClockSkew}. Default 0.
   */
  clockSkewMs?: number;
}

/** Temporary credentials the fake handed out. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** The instant, truncated to milliseconds. */
  expiration: Date;
  /** `Expiration` exactly as sent (RGW: 9 fractional digits; MinIO: whole seconds). */
  expirationText: string;
}

/** One request as the fake saw it. */
export interface StsRequestRecord {
  /** Form parameters, including the raw WebIdentityToken. */
  params: Record<string, string>;
  /** Token payload, decoded without verification, when it parses. */
  tokenClaims?: Record<string, unknown>;
  /** `ok`, the error code sent, or the fault name (`hang`, `reset`, …). */
  outcome: string;
  /** Why a request was rejected (`wrong-audience`, `duration-out-of-range`, …), to tell causes apart in tests. */
  reason?: string;
  issued?: IssuedCredentials;
}

type TokenFailure =
  | 'malformed'
  | 'unsupported-alg'
  | 'untrusted-issuer'
  | 'missing-kid'
  | 'unknown-kid'
  | 'jwks-unavailable'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'missing-sub';

class TokenRejected extends Error {
  readonly kind: TokenFailure;
  constructor(kind: TokenFailure, message: string) {
    super(message);
    this.kind = kind;
  }
}

interface Reply {
  status: number;
  body: string;
  contentType?: string;
  outcome: string;
  reason?: string;
  issued?: IssuedCredentials;
}

type Claims = Record<string, unknown>;

const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SESSION_NAME_RE = /^[A-Za-z0-9_=,.@-]{2,64}$/;
const ALNUM_UPPER = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function xml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`,
  );
}

function randomChars(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function decodeJwtPart(part: string | undefined): Claims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Claims) : undefined;
  } catch {
    return undefined;
  }
}

/** GETs a JSON document with a fresh connection (`agent: false`) so no keep-alive socket outlives the test. */
function getJson(url: string, ca?: string | string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    };
    const req = url.startsWith('https:')
      ? httpsGet(url, { agent: false, ca, timeout: 5000 }, onResponse)
      : httpGet(url, { agent: false, timeout: 5000 }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

/**
 * RGW `Expiration`: ceph::to_iso_8601 prints nanoseconds, e.g. `2025-12-12T23:34:00.247844317Z`
 * (ceph/ceph src/rgw/rgw_sts.cc Credentials::generateCredentials). MinIO: Go time.Time of whole
 * seconds marshals as `2019-08-08T20:26:12Z`.
 */
function expirationText(date: Date, mode: StsMode): string {
  // Sub-millisecond digits stay below 500000 because the SDK rounds to the nearest millisecond:
  // this keeps `IssuedCredentials.expiration` equal to what the SDK returns.
  return mode === 'rgw'
    ? date.toISOString().replace(/Z$/, `${String(randomInt(500_000)).padStart(6, '0')}Z`)
    : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * AWS-STS-Query-protocol server imitating Ceph RGW or MinIO for `AssumeRoleWithWebIdentity`,
 * verifying tokens against real OIDC discovery + JWKS, with recording and fault injection.
 * Emits `request` with each finished {@link StsRequestRecord}.
 */
export class FakeSts extends EventEmitter {
  readonly url: string;
  readonly mode: StsMode;
  readonly requests: StsRequestRecord[] = [];
  readonly #opts: FakeStsOptions;
  readonly #server: Server;
  readonly #faults: StsFault[] = [];
  readonly #jwks = new Map<string, Map<string, KeyObject>>();
  #jwksFetches = 0;
  #inFlight = 0;
  #maxConcurrent = 0;
  #issued: IssuedCredentials | undefined;
  #clockSkewMs: number;

  private constructor(server: Server, url: string, opts: FakeStsOptions) {
    super();
    this.#server = server;
    this.url = url;
    this.mode = opts.mode;
    this.#opts = opts;
    this.#clockSkewMs = opts.clockSkewMs ?? 0;
  }

  /** The store's clock lead over `now` from here on (ms; negative: behind). */
  setClockSkew(ms: number): void {
    this.#clockSkewMs = ms;
  }

  /** The store's clock (ms since the epoch): `now` plus the skew. */
  storeNow(): number {
    return this.#now();
  }

  /** Starts the fake on 127.0.0.1:0 and resolves once it listens. */
  static async start(opts: FakeStsOptions): Promise<FakeSts> {
    // eslint-disable-next-line prefer-const -- read by the handler before the server exists to assign it
    let self: FakeSts | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      if (!self) return void res.destroy();
      self.#handle(req, res).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    };
    const server = opts.tls
      ? createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, handler)
      : createHttpServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    self = new FakeSts(server, `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`, opts);
    return self;
  }

  /** Credentials of the last successful (or `expired`-fault) answer. */
  get issued(): IssuedCredentials | undefined {
    return this.#issued;
  }

  /** How many JWKS documents were fetched (cached per issuer, refetched on an unknown `kid`). */
  get jwksFetches(): number {
    return this.#jwksFetches;
  }

  /** Most requests ever in flight at once (hung ones count until {@link close}). */
  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }

  /** Drops every queued fault. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Queues `fault` for the next `times` requests (default 1), after any already queued. */
  injectFault(fault: StsFault, opts: { times?: number } = {}): void {
    for (let i = 0; i < (opts.times ?? 1); i++) this.#faults.push(fault);
  }

  /** Resolves once at least `n` requests were recorded in total. */
  async waitForRequests(n: number): Promise<void> {
    while (this.requests.length < n) await once(this, 'request');
  }

  /** Stops listening and destroys every connection, hung ones included. */
  async close(): Promise<void> {
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  #record(rec: StsRequestRecord): void {
    this.requests.push(rec);
    if (rec.issued) this.#issued = rec.issued;
    this.emit('request', rec);
  }

  #now(): number {
    return (this.#opts.now?.() ?? Date.now()) + this.#clockSkewMs;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#maxConcurrent = Math.max(this.#maxConcurrent, ++this.#inFlight);
    res.on('close', () => this.#inFlight--);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const token = params.WebIdentityToken ?? '';
    const tokenClaims = decodeJwtPart(token.split('.')[1]);
    const rec: StsRequestRecord = { params, ...(tokenClaims ? { tokenClaims } : {}), outcome: 'ok' };
    const fault = this.#faults.shift();

    if (fault === 'hang' || fault === 'reset') {
      this.#record({ ...rec, outcome: fault });
      if (fault === 'reset') req.socket.destroy();
      return;
    }
    let reply: Reply;
    if (fault !== undefined && fault !== 'expired' && fault !== 'truncated' && fault !== 'huge200') {
      reply = this.#faultReply(fault, token);
    } else if (req.method !== 'POST') {
      reply = this.#error(405, 'MethodNotAllowed', 'only POST is supported', 'method');
    } else {
      reply = await (this.mode === 'rgw'
        ? this.#rgw(params, token, fault)
        : this.#minio(params, token, fault));
      if (fault === 'truncated' && reply.status === 200) {
        // Nothing usable reached the client, so these credentials do not count as issued.
        const body = reply.body.slice(0, Math.floor(reply.body.length / 2));
        reply = { status: 200, body, outcome: fault };
      }
      if (fault === 'huge200' && reply.status === 200) {
        const padding = `<Padding>${'x'.repeat(5 * 1024 * 1024)}</Padding>`;
        reply = {
          ...reply,
          outcome: fault,
          body: reply.body.replace('<Credentials>', `${padding}<Credentials>`),
        };
      }
    }
    const { issued, reason } = reply;
    this.#record({
      ...rec,
      outcome: reply.outcome,
      ...(reason ? { reason } : {}),
      ...(issued ? { issued } : {}),
    });
    res
      .writeHead(reply.status, {
        'content-type': reply.contentType ?? 'application/xml',
        'x-amz-request-id': this.#requestId(),
        // The store's clock, as a real server stamps it (RFC 9110 section 6.6.1).
        date: new Date(this.#now()).toUTCString(),
      })
      .end(reply.body);
  }

  #faultReply(
    fault: Exclude<StsFault, 'hang' | 'reset' | 'expired' | 'truncated' | 'huge200'>,
    token: string,
  ): Reply {
    if (typeof fault === 'object')
      return this.#error(fault.status, fault.code, fault.message ?? '', 'injected');
    switch (fault) {
      case 'http500':
        return { status: 500, body: 'Internal Server Error\n', contentType: 'text/plain', outcome: fault };
      case 'http503':
        return { status: 503, body: 'Service Unavailable\n', contentType: 'text/plain', outcome: fault };
      case 'throttle':
        // RGW: ERR_RATE_LIMITED → 503 SlowDown (ceph/ceph src/rgw/rgw_common.cc rgw_http_s3_errors).
        // MinIO: writeSTSThrottledResponse → 429 ThrottlingException (minio/minio cmd/sts-handlers.go;
        // only its LDAP path throttles, web identity has no limiter).
        return this.mode === 'rgw'
          ? { ...this.#error(503, 'SlowDown', 'Please reduce your request rate.'), outcome: fault }
          : {
              ...this.#error(429, 'ThrottlingException', 'Request throttled, please retry later.'),
              outcome: fault,
            };
      case 'html':
        return {
          status: 502,
          contentType: 'text/html',
          outcome: fault,
          body: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
        };
      case 'html200':
        return {
          status: 200,
          contentType: 'text/html',
          outcome: fault,
          body: '<!DOCTYPE html><html><head><title>Sign in</title></head><body><p>Please sign in.</p></body></html>',
        };
      case 'echo-token':
        // RGW maps ERR_INVALID_IDENTITY_TOKEN to 400 InvalidIdentityToken (rgw_http_sts_errors);
        // no real store echoes the token; this exists to prove our code never repeats it.
        return { ...this.#error(400, 'InvalidIdentityToken', `Token ${token} is not valid`), outcome: fault };
    }
  }

  // ---- RGW -----------------------------------------------------------------------------------

  /**
   * Check order and codes follow ceph/ceph src/rgw/rgw_rest_sts.cc (WebTokenEngine::authenticate,
   * RGWSTSAssumeRoleWithWebIdentity::get_params) and src/rgw/rgw_sts.cc (validate_input):
   * every authentication failure is `deny(-EACCES)` → 403 AccessDenied; EINVAL → 400 InvalidArgument;
   * ERR_MALFORMED_DOC → 400 MalformedPolicyDocument; ERR_PACKED_POLICY_TOO_LARGE → 400 PackedPolicyTooLarge
   * (ceph/ceph src/rgw/rgw_common.cc error tables).
   */
  async #rgw(p: Record<string, string>, token: string, fault: StsFault | undefined): Promise<Reply> {
    // Stricter than RGW, which ignores Version: our client must send it for MinIO anyway.
    if (p.Version !== '2011-06-15') return this.#error(400, 'InvalidArgument', '', 'version');
    if (p.Action !== 'AssumeRoleWithWebIdentity') return this.#error(405, 'MethodNotAllowed', '', 'action');
    if (!token) return this.#error(403, 'AccessDenied', '', 'missing-token');
    let claims: Claims;
    try {
      claims = await this.#verify(token);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      return this.#error(403, 'AccessDenied', '', err.kind);
    }
    const session = p.RoleSessionName ?? '';
    if (!session) return this.#error(403, 'AccessDenied', '', 'missing-session-name');
    const role = this.#opts.roles?.find((r) => r.arn === p.RoleArn);
    if (!role) return this.#error(403, 'AccessDenied', '', p.RoleArn ? 'unknown-role' : 'missing-role-arn');
    const policy = p.Policy ?? '';
    if (policy && !this.#isJsonObject(policy)) {
      return this.#error(400, 'MalformedPolicyDocument', 'invalid JSON', 'policy-malformed');
    }
    const duration = p.DurationSeconds === undefined ? 3600 : Number(p.DurationSeconds);
    const max = role.maxSessionDurationSeconds ?? 3600;
    if (!/^\d+$/.test(p.DurationSeconds ?? '3600') || duration < 900 || duration > max) {
      return this.#error(400, 'InvalidArgument', '', 'duration-out-of-range');
    }
    if (policy.length > 2048) return this.#error(400, 'PackedPolicyTooLarge', '', 'policy-too-large');
    if (!SESSION_NAME_RE.test(session)) return this.#error(400, 'InvalidArgument', '', 'session-name');

    const issued = this.#newCredentials(fault === 'expired' ? -60 : duration, 'rgw');
    const [, , , , account = '', resource = ''] = role.arn.split(':');
    const arn = `arn:aws:sts::${account}:${resource.replace(/^role/, 'assumed-role')}/${session}`;
    const roleId = createHash('sha256').update(role.arn).digest('hex').slice(0, 32);
    const aud = Array.isArray(claims.aud) ? String(claims.aud[0]) : String(claims.aud);
    // Shape: ceph/ceph src/rgw/rgw_rest_sts.cc RGWSTSAssumeRoleWithWebIdentity::execute (element order,
    // STS namespace, no ResponseMetadata) and src/rgw/rgw_sts.cc Credentials::dump / AssumedRoleUser::dump
    // (Credentials in AccessKeyId, Expiration, SecretAccessKey, SessionToken order; `AssumeRoleId`,
    // not AWS's `AssumedRoleId`; PackedPolicySize = policy.size() / 2048 * 100 in integers).
    const body =
      `<?xml version="1.0" encoding="UTF-8"?><AssumeRoleWithWebIdentityResponse xmlns="${STS_XMLNS}">` +
      '<AssumeRoleWithWebIdentityResult>' +
      `<SubjectFromWebIdentityToken>${xml(String(claims.sub))}</SubjectFromWebIdentityToken>` +
      `<Audience>${xml(aud)}</Audience>` +
      `<AssumedRoleUser><Arn>${xml(arn)}</Arn><AssumeRoleId>${roleId}:${xml(session)}</AssumeRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId>` +
      `<Expiration>${issued.expirationText}</Expiration>` +
      `<SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${issued.sessionToken}</SessionToken></Credentials>` +
      `<Provider>${xml(String(claims.iss))}</Provider>` +
      `<PackedPolicySize>${Math.floor(policy.length / 2048) * 100}</PackedPolicySize>` +
      '</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>';
    return { status: 200, body, outcome: fault === 'expired' ? fault : 'ok', issued };
  }

  // ---- MinIO ---------------------------------------------------------------------------------

  /**
   * Check order and codes follow minio/minio cmd/sts-handlers.go (AssumeRoleWithSSO) and
   * cmd/sts-errors.go: a wrong Version is 400 MissingParameter; nearly every other rejection,
   * token failures included, is 400 InvalidParameterValue with the Go error text as Message.
   * An expired token also lands there: golang-jwt returns "token is expired" as an error, so the
   * `ExpiredToken` code (only for `!jwtToken.Valid` without an error) is in practice not sent
   * (internal/config/identity/openid/jwt.go; inferred from code, not seen on a live server).
   */
  async #minio(p: Record<string, string>, token: string, fault: StsFault | undefined): Promise<Reply> {
    const invalid = (message: string, reason: string) =>
      this.#error(400, 'InvalidParameterValue', message, reason);
    if (p.Version !== '2011-06-15') {
      return this.#error(
        400,
        'MissingParameter',
        `Invalid STS API version ${p.Version ?? ''}, expecting 2011-06-15`,
        'version',
      );
    }
    if (p.Action !== 'AssumeRoleWithWebIdentity')
      return invalid(`Unsupported action ${p.Action ?? ''}`, 'action');
    if (p.RoleArn !== undefined && !this.#opts.roles?.some((r) => r.arn === p.RoleArn)) {
      return invalid(`Error processing RoleArn parameter: role ${p.RoleArn} not found`, 'unknown-role');
    }
    let claims: Claims;
    try {
      claims = await this.#verify(token);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      return invalid(err.message, err.kind);
    }
    const d = p.DurationSeconds;
    if (d !== undefined && (!/^\d+$/.test(d) || Number(d) < 900 || Number(d) > 31_536_000)) {
      return invalid('invalid token expiry', 'duration-out-of-range');
    }
    const policy = p.Policy ?? '';
    if (policy.length > 2048)
      return invalid('Session policy should not exceed 2048 characters', 'policy-too-large');
    if (policy && !this.#isJsonObject(policy)) return invalid('invalid session policy', 'policy-malformed');
    if (policy && !(JSON.parse(policy) as Claims).Version) {
      return invalid("Version cannot be empty expecting '2012-10-17'", 'policy-malformed');
    }
    // DurationSeconds omitted: the credentials live exactly as long as the JWT (MinIO; docs/design/upstream-facts.md).
    const lifetime = d !== undefined ? Number(d) : Number(claims.exp) - this.#now() / 1000;
    const issued = this.#newCredentials(fault === 'expired' ? -60 : lifetime, 'minio');
    // Shape: minio/minio cmd/sts-datatypes.go AssumeRoleWithWebIdentityResponse / WebIdentityResult
    // as encoding/xml renders it: empty AssumedRoleUser kept (structs are never omitted), empty
    // Audience/Provider and zero PackedPolicySize omitted, Credentials from internal/auth
    // (AccessKeyId, SecretAccessKey, Expiration, SessionToken), then ResponseMetadata/RequestId.
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<AssumeRoleWithWebIdentityResponse xmlns="${STS_XMLNS}"><AssumeRoleWithWebIdentityResult>` +
      '<AssumedRoleUser><Arn></Arn><AssumeRoleId></AssumeRoleId></AssumedRoleUser>' +
      `<Credentials><AccessKeyId>${issued.accessKeyId}</AccessKeyId>` +
      `<SecretAccessKey>${xml(issued.secretAccessKey)}</SecretAccessKey>` +
      `<Expiration>${issued.expirationText}</Expiration>` +
      `<SessionToken>${issued.sessionToken}</SessionToken></Credentials>` +
      `<SubjectFromWebIdentityToken>${xml(String(claims.sub))}</SubjectFromWebIdentityToken>` +
      `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${this.#requestId()}</RequestId>` +
      '</ResponseMetadata></AssumeRoleWithWebIdentityResponse>';
    return { status: 200, body, outcome: fault === 'expired' ? fault : 'ok', issued };
  }

  // ---- shared --------------------------------------------------------------------------------

  /**
   * The store's error envelope.
   * RGW: S3-style `<Error>` root (ceph/ceph src/rgw/rgw_common.cc `dump(req_state*)`), Message usually empty.
   * MinIO: `<ErrorResponse xmlns=STS><Error><Type/><Code/><Message/></Error><RequestId/>`
   * (minio/minio cmd/sts-errors.go STSErrorResponse).
   */
  #error(status: number, code: string, message: string, reason?: string): Reply {
    const requestId = this.#requestId();
    const body =
      this.mode === 'rgw'
        ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${xml(code)}</Code><Message>${xml(message)}</Message>` +
          `<RequestId>${requestId}</RequestId><HostId>5f2a-default-default</HostId></Error>`
        : `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type></Type>` +
          `<Code>${xml(code)}</Code><Message>${xml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { status, body, outcome: code, ...(reason ? { reason } : {}) };
  }

  #requestId(): string {
    return this.mode === 'rgw'
      ? `tx00000${randomBytes(8).toString('hex')}-${Math.floor(this.#now() / 1000).toString(16)}-5f2a-default`
      : randomBytes(8).toString('hex').toUpperCase();
  }

  #isJsonObject(text: string): boolean {
    try {
      const v: unknown = JSON.parse(text);
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    } catch {
      return false;
    }
  }

  #newCredentials(lifetimeSeconds: number, mode: StsMode): IssuedCredentials {
    const seconds =
      lifetimeSeconds < 0 ? lifetimeSeconds : (this.#opts.credentialLifetimeSeconds ?? lifetimeSeconds);
    const expiration = new Date(this.#now() + seconds * 1000);
    if (mode === 'minio') expiration.setUTCMilliseconds(0);
    // RGW: AES-encrypted blob in standard base64 (`+`, `/`, `=` included); MinIO: an HS512 JWT.
    const sessionToken =
      mode === 'rgw'
        ? randomBytes(481).toString('base64')
        : `${Buffer.from('{"alg":"HS512","typ":"JWT"}').toString('base64url')}.${randomBytes(420).toString('base64url')}.${randomBytes(64).toString('base64url')}`;
    const secretAccessKey =
      mode === 'rgw' ? randomChars(ALNUM_UPPER, 40) : randomBytes(30).toString('base64').replaceAll('/', '+');
    return {
      accessKeyId: randomChars(ALNUM_UPPER, 20),
      secretAccessKey,
      sessionToken,
      expiration,
      expirationText: expirationText(expiration, mode),
    };
  }

  /**
   * Verifies like a store with an OIDC provider registered: `iss` must be trusted; discovery →
   * jwks_uri → key by `kid`; RS256 signature; `exp`, `nbf`, `iat`; `aud` (or `azp`) holds the client
   * ID; `sub` present. Stricter than RGW in requiring `kid` (RGW tries the first JWKS key), and than
   * MinIO in checking `iss` (MinIO trusts whatever its configured provider's keys sign).
   */
  async #verify(token: string): Promise<Claims> {
    const parts = token.split('.');
    const header = decodeJwtPart(parts[0]);
    const claims = decodeJwtPart(parts[1]);
    if (parts.length !== 3 || !header || !claims) throw new TokenRejected('malformed', 'token is malformed');
    if (header.alg !== 'RS256')
      throw new TokenRejected('unsupported-alg', `signing method ${String(header.alg)} is invalid`);
    const iss = claims.iss;
    if (typeof iss !== 'string' || !this.#opts.trustedIssuers.includes(iss)) {
      throw new TokenRejected('untrusted-issuer', 'no OpenID provider is configured for this issuer');
    }
    if (typeof header.kid !== 'string')
      throw new TokenRejected('missing-kid', `Invalid kid value ${String(header.kid)}`);
    const key = await this.#key(iss, header.kid);
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!verify('sha256', signed, key, Buffer.from(parts[2] ?? '', 'base64url'))) {
      throw new TokenRejected('bad-signature', 'crypto/rsa: verification error');
    }
    const now = this.#now() / 1000;
    if (typeof claims.exp !== 'number' || now >= claims.exp)
      throw new TokenRejected('expired', 'token is expired');
    if (
      (typeof claims.nbf === 'number' && now < claims.nbf) ||
      (typeof claims.iat === 'number' && now < claims.iat)
    ) {
      throw new TokenRejected('not-yet-valid', 'token is not valid yet');
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(this.#opts.audience) && claims.azp !== this.#opts.audience) {
      throw new TokenRejected(
        'wrong-audience',
        'STS JWT Token has `azp` claim invalid, `azp` must match configured OpenID Client ID',
      );
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw new TokenRejected(
        'missing-sub',
        'STS JWT Token has `sub` claim missing, `sub` claim is mandatory',
      );
    }
    return claims;
  }

  /** Key for `kid`, from the per-issuer JWKS cache, refetching discovery + JWKS once if unknown. */
  async #key(iss: string, kid: string): Promise<KeyObject> {
    const cached = this.#jwks.get(iss)?.get(kid);
    if (cached) return cached;
    const keys = new Map<string, KeyObject>();
    try {
      // RGW appends the path to `iss` verbatim (get_cert_url in rgw_rest_sts.cc).
      const discovery = (await getJson(
        `${iss}/.well-known/openid-configuration`,
        this.#opts.issuerCa,
      )) as Claims;
      this.#jwksFetches++;
      const jwks = (await getJson(String(discovery.jwks_uri), this.#opts.issuerCa)) as { keys?: Claims[] };
      for (const jwk of jwks.keys ?? []) {
        if (jwk.kty === 'RSA' && typeof jwk.kid === 'string' && jwk.use !== 'enc') {
          keys.set(
            jwk.kid,
            createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e } as never, format: 'jwk' }),
          );
        }
      }
    } catch (err) {
      throw new TokenRejected(
        'jwks-unavailable',
        `fetching the issuer's keys failed: ${(err as Error).message}`,
      );
    }
    this.#jwks.set(iss, keys);
    const key = keys.get(kid);
    if (!key) throw new TokenRejected('unknown-kid', 'key is of invalid type');
    return key;
  }
}

import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a signing client sent it. */
export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** The parts of a SigV4 `Authorization` header. */
export interface SigV4Authorization {
  accessKeyId: string;
  /** `YYYYMMDD/region/service/aws4_request` */
  scope: string;
  signedHeaders: string[];
  signature: string;
}

const EMPTY_LIST_BUCKETS =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
  '<Owner><ID>recorder</ID><DisplayName>recorder</DisplayName></Owner><Buckets></Buckets>' +
  '</ListAllMyBucketsResult>';

/**
 * A stand-in for an S3 store that answers every request with an empty ListBuckets result and
 * records it. A client that signs a request here proves which credentials it resolved: the
 * access key and session token travel in clear, the secret key only inside the signature, which
 * {@link verifySigV4} recomputes.
 */
export class S3RequestRecorder {
  readonly requests: RecordedRequest[] = [];
  readonly #server: Server;
  url = '';

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<S3RequestRecorder> {
    const server = createServer();
    const recorder = new S3RequestRecorder(server);
    server.on('request', (req, res) => {
      req.resume();
      req.on('end', () => {
        recorder.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/xml' }).end(EMPTY_LIST_BUCKETS);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    recorder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return recorder;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; undefined if not SigV4. */
export function parseSigV4Authorization(header: string | undefined): SigV4Authorization | undefined {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      header ?? '',
    );
  if (!match) return undefined;
  const [, accessKeyId, scope, signedHeaders, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { accessKeyId, scope, signedHeaders: signedHeaders.split(';'), signature };
}

/** RFC 3986 encoding as SigV4 requires (encodeURIComponent leaves `!'()*` alone). */
const sigV4Encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .map((pair) => {
      const at = pair.indexOf('=');
      const [key, value] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      return [sigV4Encode(decodeURIComponent(key)), sigV4Encode(decodeURIComponent(value))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * Recomputes an S3 SigV4 header signature with `secretAccessKey` and compares it with the one
 * sent. S3 signs the path as sent (no re-encoding) and uses `x-amz-content-sha256` as the payload
 * hash (AWS "Signature Version 4 signing process", Authenticating Requests: Using the
 * Authorization Header).
 */
export function verifySigV4(request: RecordedRequest, secretAccessKey: string): boolean {
  const auth = parseSigV4Authorization(request.headers.authorization);
  if (!auth) return false;
  const [date, region, service] = auth.scope.split('/');
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const at = request.url.indexOf('?');
  const path = at < 0 ? request.url : request.url.slice(0, at);
  const query = at < 0 ? '' : request.url.slice(at + 1);
  const headerLines = auth.signedHeaders.map((name) => {
    const value = request.headers[name];
    const text = Array.isArray(value) ? value.join(',') : (value ?? '');
    return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
  });
  const canonicalRequest = [
    request.method,
    path,
    canonicalQuery(query),
    headerLines.join(''),
    auth.signedHeaders.join(';'),
    String(request.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD'),
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    auth.scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, date ?? '');
  for (const part of [region ?? '', service ?? '', 'aws4_request']) key = hmac(key, part);
  return hmac(key, stringToSign).toString('hex') === auth.signature;
}

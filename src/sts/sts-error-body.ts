import type { STSClient } from '@aws-sdk/client-sts';

/** An error answer from STS with the store's own code, as the SDK would have thrown it. */
export class StsErrorResponse extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $fault: 'client' | 'server';

  constructor(code: string, message: string, httpStatusCode: number) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode };
    this.$fault = httpStatusCode >= 500 ? 'server' : 'client';
  }
}

/** Name given to error answers whose body holds no XML error code (HTML from a proxy, text). */
export const NON_XML_ERROR = 'NonXmlErrorResponse';

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Reads `<Code>` and `<Message>` from either error envelope the stores use: AWS/MinIO's
 * `<ErrorResponse><Error>…` and RGW's S3-style `<Error>…` root (docs/design/upstream-facts.md).
 */
export function parseStsErrorBody(body: string): { code: string; message: string } | undefined {
  const code = /<Code>\s*([^<]{1,128}?)\s*<\/Code>/.exec(body)?.[1];
  if (code === undefined) return undefined;
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? '';
  return { code, message: decodeXmlText(message) };
}

function decodeXmlText(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

interface RawResponse {
  statusCode: number;
  body?: AsyncIterable<Uint8Array | string>;
}

/**
 * The SDK's awsQuery error parser only understands the `<ErrorResponse>` envelope, so every
 * RGW error (an S3-style `<Error>` root) reached us as "Unknown". This middleware sits just
 * inside the SDK's deserializer, reads error bodies itself and throws an error named with the
 * store's code, so the classifier sees AccessDenied, SlowDown, InvalidArgument… from both stores.
 * Successful (2xx) answers pass through untouched.
 */
export function addStsErrorBodyMiddleware(client: STSClient): void {
  const middleware =
    (next: (args: unknown) => Promise<{ response: RawResponse }>) =>
    async (args: unknown): Promise<{ response: RawResponse }> => {
      const result = await next(args);
      const { response } = result;
      if (response.statusCode < 300) return result;
      const text = await readBounded(response.body);
      const parsed = parseStsErrorBody(text);
      if (parsed) throw new StsErrorResponse(parsed.code, parsed.message, response.statusCode);
      throw new StsErrorResponse(
        NON_XML_ERROR,
        `HTTP ${response.statusCode} without an XML error body`,
        response.statusCode,
      );
    };
  // `as never`: the SDK's middleware types live in a transitive package we do not import.
  client.middlewareStack.addRelativeTo(middleware as never, {
    name: 'stsSidecarErrorBody',
    relation: 'after',
    toMiddleware: 'deserializerMiddleware',
  });
}

async function readBounded(body: RawResponse['body']): Promise<string> {
  if (body === undefined) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_ERROR_BODY_BYTES) break;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

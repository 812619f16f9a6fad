import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientErrorCode, clientErrorResponse } from '../../src/shared/client-error.ts';

// node:http's parser error codes and the statuses Node itself answers them with
// (lib/_http_server.js v24.21.0, socketOnError); ours keep the status and add the JSON body.
const cases: Array<[string | undefined, string, number]> = [
  ['HPE_HEADER_OVERFLOW', 'HTTP_HEADERS_TOO_LARGE', 431],
  ['ERR_HTTP_REQUEST_TIMEOUT', 'HTTP_REQUEST_TIMEOUT', 408],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 'HTTP_BODY_TOO_LARGE', 413],
  ['HPE_INVALID_METHOD', 'HTTP_BAD_REQUEST', 400],
  ['HPE_INVALID_HEADER_TOKEN', 'HTTP_BAD_REQUEST', 400],
  [undefined, 'HTTP_BAD_REQUEST', 400],
];
for (const [parserCode, code, status] of cases)
  test(`${parserCode ?? 'no parser code'} is answered ${status} ${code}, then the connection closes`, () => {
    assert.equal(clientErrorCode(parserCode), code);
    const raw = clientErrorResponse(clientErrorCode(parserCode));
    const [head, body] = raw.split('\r\n\r\n', 2) as [string, string];
    assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} \r\n`));
    assert.match(head, /\r\nconnection: close\r\n/);
    assert.match(head, /\r\ncontent-type: application\/json\r\n/);
    assert.equal(Number(/content-length: (\d+)/.exec(head)?.[1]), Buffer.byteLength(body));
    const parsed = JSON.parse(body) as Record<string, string>;
    assert.equal(parsed.Code, code);
    assert.equal(parsed.code, code);
    assert.ok(parsed.Message!.length > 0 && parsed.Message === parsed.message);
  });

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, entryOf } from '../../src/shared/errors.ts';
import { httpStatusOf, toErrorBody } from '../../src/shared/http-error.ts';

test('the error body carries the code and message under both spellings the SDKs read', () => {
  assert.deepEqual(toErrorBody('HTTP_UNAUTHORIZED', 'send the token'), {
    Code: 'HTTP_UNAUTHORIZED',
    Message: 'send the token',
    code: 'HTTP_UNAUTHORIZED',
    message: 'send the token',
  });
});

const wire: Array<[string, number]> = [
  ['NO_VALID_CREDENTIALS', 503],
  ['ISSUER_NOT_READY', 503],
  ['ADMISSION_REVIEW_INVALID', 400],
  ['INTERNAL_ERROR', 500],
  ['HTTP_NOT_FOUND', 404],
  ['HTTP_METHOD_NOT_ALLOWED', 405],
  ['HTTP_BODY_NOT_ALLOWED', 400],
  ['HTTP_BODY_TOO_LARGE', 413],
  ['HTTP_UNAUTHORIZED', 401],
  ['HTTP_PROXIED_REQUEST_REFUSED', 403],
  ['HTTP_BAD_REQUEST', 400],
  ['HTTP_REQUEST_TIMEOUT', 408],
  ['HTTP_HEADERS_TOO_LARGE', 431],
  ['HTTP_NOT_READY', 503],
];
for (const [code, status] of wire)
  test(`${code} is answered with HTTP ${status}`, () => {
    assert.ok((ERROR_CODES as string[]).includes(code));
    assert.equal(httpStatusOf(code as never), status);
  });

test('every code with an HTTP status is in the table above (a new wire code needs a row)', () => {
  const withStatus = ERROR_CODES.filter((c) => entryOf(c).httpStatus !== undefined).sort();
  assert.deepEqual(withStatus, wire.map(([c]) => c).sort());
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryClassOf } from '../../src/shared/errors.ts';
import { classifyStsError } from '../../src/sts/classify-sts-error.ts';

function sdkError(name: string, httpStatusCode?: number): Error {
  const e = new Error(`${name} happened`) as Error & { $metadata: object };
  e.name = name;
  e.$metadata = { httpStatusCode };
  return e;
}

function socketError(code: string): Error {
  return Object.assign(new Error(`socket ${code}`), { code });
}

const cases: Array<[string, unknown, string, 'transient' | 'permanent']> = [
  [
    'InvalidIdentityToken (modelled)',
    sdkError('InvalidIdentityTokenException', 400),
    'STS_REJECTED_TOKEN',
    'permanent',
  ],
  ['InvalidIdentityToken (bare)', sdkError('InvalidIdentityToken', 400), 'STS_REJECTED_TOKEN', 'permanent'],
  ['ExpiredTokenException', sdkError('ExpiredTokenException', 400), 'STS_REJECTED_TOKEN', 'permanent'],
  ['IDPRejectedClaim', sdkError('IDPRejectedClaimException', 403), 'STS_REJECTED_TOKEN', 'permanent'],
  ['AccessDenied', sdkError('AccessDenied', 403), 'STS_ACCESS_DENIED', 'permanent'],
  [
    'MalformedPolicyDocument',
    sdkError('MalformedPolicyDocumentException', 400),
    'STS_INVALID_REQUEST',
    'permanent',
  ],
  [
    'PackedPolicyTooLarge',
    sdkError('PackedPolicyTooLargeException', 400),
    'STS_INVALID_REQUEST',
    'permanent',
  ],
  ['ValidationError', sdkError('ValidationError', 400), 'STS_INVALID_REQUEST', 'permanent'],
  ['InvalidParameterValue', sdkError('InvalidParameterValue', 400), 'STS_INVALID_REQUEST', 'permanent'],
  ['Throttling (400)', sdkError('Throttling', 400), 'STS_THROTTLED', 'transient'],
  ['SlowDown (503)', sdkError('SlowDown', 503), 'STS_THROTTLED', 'transient'],
  ['any 429', sdkError('Unknown', 429), 'STS_THROTTLED', 'transient'],
  ['IDPCommunicationError', sdkError('IDPCommunicationErrorException', 400), 'STS_SERVER_ERROR', 'transient'],
  ['500 InternalError', sdkError('InternalError', 500), 'STS_SERVER_ERROR', 'transient'],
  ['503 without code', sdkError('Unknown', 503), 'STS_SERVER_ERROR', 'transient'],
  ['200 with a body the SDK could not parse', sdkError('SyntaxError', 200), 'STS_BAD_RESPONSE', 'transient'],
  ['4xx with an HTML body', sdkError('Unknown', 404), 'STS_BAD_RESPONSE', 'transient'],
  ['TimeoutError', Object.assign(new Error('t'), { name: 'TimeoutError' }), 'STS_TIMEOUT', 'transient'],
  ['AbortError', Object.assign(new Error('a'), { name: 'AbortError' }), 'STS_TIMEOUT', 'transient'],
  ['ETIMEDOUT', socketError('ETIMEDOUT'), 'STS_TIMEOUT', 'transient'],
  ['ECONNREFUSED', socketError('ECONNREFUSED'), 'STS_UNREACHABLE', 'transient'],
  ['ECONNRESET', socketError('ECONNRESET'), 'STS_UNREACHABLE', 'transient'],
  ['ENOTFOUND', socketError('ENOTFOUND'), 'STS_UNREACHABLE', 'transient'],
  ['self-signed certificate', socketError('DEPTH_ZERO_SELF_SIGNED_CERT'), 'STS_UNREACHABLE', 'transient'],
  // Issue #14: a failure that never reached the store is ours, not the store's.
  ['not an Error at all', 'boom', 'INTERNAL_ERROR', 'transient'],
  // node-http-handler names a reset connection TimeoutError; the socket code decides.
  [
    'TimeoutError with ECONNRESET',
    Object.assign(new Error('r'), { name: 'TimeoutError', code: 'ECONNRESET' }),
    'STS_UNREACHABLE',
    'transient',
  ],
  ['RGW InvalidArgument (EINVAL)', sdkError('InvalidArgument', 400), 'STS_INVALID_REQUEST', 'permanent'],
  [
    'MinIO token refused (InvalidParameterValue)',
    Object.assign(sdkError('InvalidParameterValue', 400), { message: 'crypto/rsa: verification error' }),
    'STS_REJECTED_TOKEN',
    'permanent',
  ],
  [
    'MinIO unknown role (InvalidParameterValue)',
    Object.assign(sdkError('InvalidParameterValue', 400), {
      message: 'Error processing RoleArn parameter: RoleARN x is not defined.',
    }),
    'STS_INVALID_REQUEST',
    'permanent',
  ],
  ['non-XML 4xx body', sdkError('NonXmlErrorResponse', 403), 'STS_BAD_RESPONSE', 'transient'],
  ['non-XML 502 body', sdkError('NonXmlErrorResponse', 502), 'STS_SERVER_ERROR', 'transient'],
];

for (const [name, error, code, retry] of cases) {
  test(`classifies ${name} as ${code}`, () => {
    const failure = classifyStsError(error);
    assert.equal(failure.code, code);
    assert.equal(retryClassOf(failure.code), retry);
  });
}

test('keeps the upstream code and status for the log line', () => {
  const failure = classifyStsError(sdkError('AccessDenied', 403));
  assert.equal(failure.upstreamCode, 'AccessDenied');
  assert.equal(failure.httpStatus, 403);
});

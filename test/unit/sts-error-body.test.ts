import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStsErrorBody } from '../../src/sts/sts-error-body.ts';

const cases: Array<[string, string, { code: string; message: string } | undefined]> = [
  [
    'RGW S3-style root (ceph src/rgw/rgw_common.cc)',
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message></Message><RequestId>tx0</RequestId><HostId>h</HostId></Error>',
    { code: 'AccessDenied', message: '' },
  ],
  [
    'MinIO / AWS ErrorResponse envelope',
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type></Type><Code>InvalidParameterValue</Code><Message>token is expired &amp; &lt;old&gt;</Message></Error><RequestId>1</RequestId></ErrorResponse>',
    { code: 'InvalidParameterValue', message: 'token is expired & <old>' },
  ],
  ['nginx HTML page', '<html><head><title>502 Bad Gateway</title></head></html>', undefined],
  ['plain text', 'Service Unavailable', undefined],
  ['empty', '', undefined],
];

for (const [name, body, expected] of cases) {
  test(`parses ${name}`, () => assert.deepEqual(parseStsErrorBody(body), expected));
}

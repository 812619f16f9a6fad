// Records what @aws-sdk/client-sts reports for every fault test/fakes/fake-sts.ts injects: that
// table is the input for the exchanger's error classifier (src/sts/exchanger.ts). Also how faults
// queue, hang and are cleared.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StsFault, StsMode } from '../fakes/fake-sts.ts';
import { AUDIENCE, failure, MODES, setup } from '../helpers/fake-sts-setup.ts';

// What the SDK (client-sts 3.1169, node-http-handler 4.14) reports per fault. Notable:
// - non-XML bodies (plain text, HTML, cut-off XML) → name "Error", no $fault, message starting
//   "@aws-sdk XML parse error", $metadata.httpStatusCode = the HTTP status (200 for truncated);
// - a 200 HTML page is NOT an error: the SDK returns Credentials = {} — validate the output;
// - a reset socket → name "TimeoutError" with code "ECONNRESET" and no $metadata status;
// - RGW's <Error> envelope loses the code: name "Unknown".
const faultCases: Array<{
  fault: StsFault;
  expect: Record<StsMode, { name: string; fault?: string; status?: number; code?: string }>;
}> = [
  {
    fault: 'http500',
    expect: { rgw: { name: 'Error', status: 500 }, minio: { name: 'Error', status: 500 } },
  },
  {
    fault: 'http503',
    expect: { rgw: { name: 'Error', status: 503 }, minio: { name: 'Error', status: 503 } },
  },
  {
    fault: 'throttle',
    expect: {
      rgw: { name: 'Unknown', fault: 'server', status: 503 },
      minio: { name: 'ThrottlingException', fault: 'client', status: 429 },
    },
  },
  {
    fault: 'reset',
    expect: {
      rgw: { name: 'TimeoutError', code: 'ECONNRESET' },
      minio: { name: 'TimeoutError', code: 'ECONNRESET' },
    },
  },
  { fault: 'html', expect: { rgw: { name: 'Error', status: 502 }, minio: { name: 'Error', status: 502 } } },
  {
    fault: 'truncated',
    expect: { rgw: { name: 'Error', status: 200 }, minio: { name: 'Error', status: 200 } },
  },
  {
    fault: 'echo-token',
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'InvalidIdentityTokenException', fault: 'client', status: 400 },
    },
  },
  {
    fault: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'Throttling', fault: 'client', status: 400 },
    },
  },
  {
    // MinIO's code for an expired web identity token (cmd/sts-errors.go); not mapped to the modelled error.
    fault: { code: 'ExpiredToken', status: 400 },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'ExpiredToken', fault: 'client', status: 400 },
    },
  },
  {
    // AWS's code; the SDK maps it to its modelled ExpiredTokenException.
    fault: { code: 'ExpiredTokenException', status: 400 },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 400 },
      minio: { name: 'ExpiredTokenException', fault: 'client', status: 400 },
    },
  },
  {
    fault: { code: 'AccessDenied', status: 403 },
    expect: {
      rgw: { name: 'Unknown', fault: 'client', status: 403 },
      minio: { name: 'AccessDenied', fault: 'client', status: 403 },
    },
  },
  {
    fault: { code: 'InternalError', status: 500 },
    expect: {
      rgw: { name: 'Unknown', fault: 'server', status: 500 },
      minio: { name: 'InternalError', fault: 'server', status: 500 },
    },
  },
];

for (const mode of MODES) {
  for (const { fault, expect } of faultCases) {
    const label = typeof fault === 'string' ? fault : `${fault.code} ${fault.status}`;
    test(`${mode}: fault ${label}`, async (t) => {
      const { issuer, sts, call } = await setup(t, mode);
      const token = issuer.signToken({ audience: AUDIENCE });
      sts.injectFault(fault);
      const err = await failure(call({ WebIdentityToken: token }));
      const want = expect[mode];
      assert.equal(err.name, want.name);
      assert.equal(err.$fault, want.fault);
      assert.equal(err.$metadata?.httpStatusCode, want.status);
      if (want.code) assert.equal(err.code, want.code);
      if (fault === 'echo-token') assert.ok(err.message.includes(token), 'the fake must echo the token');
      if (typeof fault === 'string') assert.equal(sts.requests[0]?.outcome, fault);
      if (fault === 'truncated') assert.equal(sts.issued, undefined);
      // The fault is consumed: the next request succeeds.
      await call();
      assert.equal(sts.requests[1]?.outcome, 'ok');
    });
  }

  test(`${mode}: fault html200 is a "success" without credentials`, async (t) => {
    const { sts, call } = await setup(t, mode);
    sts.injectFault('html200');
    const out = await call();
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.Credentials, undefined);
    assert.deepEqual(Object.keys(out), ['$metadata']);
  });

  test(`${mode}: fault expired returns an Expiration in the past`, async (t) => {
    const { sts, call } = await setup(t, mode);
    sts.injectFault('expired');
    const out = await call();
    assert.ok(out.Credentials!.Expiration!.getTime() < Date.now());
    assert.equal(out.Credentials?.AccessKeyId, sts.issued?.accessKeyId);
    assert.equal(sts.requests[0]?.outcome, 'expired');
  });

  test(`${mode}: fault hang is answered by nothing; abort after the fake saw it`, async (t) => {
    const { sts, call } = await setup(t, mode);
    sts.injectFault('hang');
    const controller = new AbortController();
    const pending = failure(call({}, controller.signal));
    await sts.waitForRequests(1);
    controller.abort();
    const err = await pending;
    assert.equal(err.name, 'AbortError');
    assert.equal(sts.requests[0]?.outcome, 'hang');
  });
}

test('hang with requestTimeout: only throwOnRequestTimeout turns it into an error', async (t) => {
  // Without throwOnRequestTimeout, node-http-handler 4.14 only logs a warning and keeps waiting.
  const { sts, call } = await setup(t, 'minio', {
    client: { requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } },
  });
  sts.injectFault('hang');
  const err = await failure(call());
  assert.equal(err.name, 'TimeoutError');
  assert.equal(err.code, 'ETIMEDOUT');
});

test('faults are consumed FIFO, one per request', async (t) => {
  const { sts, call } = await setup(t, 'minio');
  sts.injectFault('http500', { times: 2 });
  sts.injectFault({ code: 'InternalError', status: 500 });
  for (let i = 0; i < 3; i++) await failure(call());
  await call();
  assert.deepEqual(
    sts.requests.map((r) => r.outcome),
    ['http500', 'http500', 'InternalError', 'ok'],
  );
});

test('maxConcurrent counts requests in flight; clearFaults drops queued faults', async (t) => {
  const { sts, call } = await setup(t, 'minio');
  sts.injectFault('hang', { times: 2 });
  const controller = new AbortController();
  const pending = [failure(call({}, controller.signal)), failure(call({}, controller.signal))];
  await sts.waitForRequests(2);
  assert.equal(sts.maxConcurrent, 2);
  controller.abort();
  await Promise.all(pending);
  sts.injectFault('http500', { times: 3 });
  sts.clearFaults();
  await call();
  assert.equal(sts.requests[2]?.outcome, 'ok');
});

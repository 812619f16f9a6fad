import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckContext } from '../../src/check/check-context.ts';
import { clockStep } from '../../src/check/sts-steps.ts';
import { loadCheckConfig } from '../../src/config/check-config.ts';

const CONFIG = loadCheckConfig([], {
  STS_SIDECAR_STS_ENDPOINT: 'http://sts.example',
  STS_SIDECAR_FLAVOR: 'minio',
});

/** A context whose STS GET was sent at 1_000_000 ms and answered `rttMs` later with `date`. */
function probed(date: string | undefined, rttMs = 100): CheckContext {
  const sentAtMs = 1_000_000;
  return {
    config: CONFIG,
    now: () => sentAtMs + rttMs,
    issuerCa: [],
    stsProbe: { status: 403, date, body: '', sentAtMs, receivedAtMs: sentAtMs + rttMs },
  };
}
const at = (offsetMs: number) => new Date(1_000_000 + offsetMs).toUTCString();

const CLOCKS: Array<{
  name: string;
  date: string | undefined;
  rttMs?: number;
  status: string;
  ahead?: number;
}> = [
  { name: 'in sync', date: at(0), status: 'ok', ahead: 0 },
  { name: '90 s ahead: warn', date: at(90_000), status: 'warn', ahead: 90 },
  { name: '90 s behind: warn', date: at(-90_000), status: 'warn', ahead: -90 },
  { name: '301 s ahead: fail', date: at(301_000), status: 'fail', ahead: 301 },
  // The whole interval [Date - receivedAt, Date + 1 s - sentAt] must be beyond the limit:
  // a 40 s round trip leaves a 61 s reading inside the warning limit.
  { name: 'a slow answer is not skew', date: at(61_000), rttMs: 40_000, status: 'ok' },
  { name: 'no Date header', date: undefined, status: 'skip' },
];
for (const c of CLOCKS)
  test(`clock step: ${c.name}`, async () => {
    const outcome = await clockStep.run(probed(c.date, c.rttMs));
    assert.equal(outcome.status, c.status, outcome.message);
    if (c.ahead !== undefined) assert.equal(outcome.details.storeAheadSeconds, c.ahead);
  });

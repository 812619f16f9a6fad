import { CLOCK_SKEW_WARN_SECONDS } from '../config/check-options.ts';
import { MIN_REMAINING_MS } from '../credentials/credential-store.ts';
import { type ErrorCode, hintOf, isSidecarError } from '../shared/errors.ts';
import { StsExchanger } from '../sts/exchanger.ts';
import { boundedGet, GetFailure } from './bounded-get.ts';
import type { CheckContext } from './check-context.ts';
import { fail, ok, type Outcome, skip, type Step, warn } from './check-step.ts';

/** HTTP Date has whole seconds (RFC 9110 §5.6.7). */
const DATE_RESOLUTION_MS = 1_000;

/**
 * The STS endpoint answers, over TLS trusted exactly as the sidecar trusts it (--ca-file, else
 * Node's CAs). A plain GET: any HTTP answer proves the path, and carries the store's Date.
 */
export const stsStep: Step<CheckContext> = {
  name: 'sts',
  async run(context) {
    const { stsEndpoint: url, caPem, caFile, stsTimeoutMs } = context.config.sidecar;
    try {
      context.stsProbe = await boundedGet(url, {
        ca: caPem,
        timeoutMs: stsTimeoutMs,
        maxBodyBytes: 0,
        now: context.now,
      });
    } catch (error) {
      if (!(error instanceof GetFailure)) throw error;
      const details = { url, error: error.code ?? error.kind };
      if (error.kind === 'tls') {
        const trust = caFile === undefined ? "Node's built-in CAs (no --ca-file)" : `--ca-file ${caFile}`;
        return fail(
          'CHECK_STS_TLS_UNTRUSTED',
          `TLS to ${url} failed with ${trust}: ${error.message}`,
          undefined,
          details,
        );
      }
      return fail(
        'CHECK_STS_UNREACHABLE',
        `no HTTP answer from ${url}: ${error.message}`,
        undefined,
        details,
      );
    }
    const tls = url.startsWith('https:') ? ', its certificate trusted' : '';
    return ok(`${url} answers (HTTP ${context.stsProbe.status} to a plain GET)${tls}`, {
      url,
      httpStatus: context.stsProbe.status,
    });
  },
};

/**
 * This node's clock against the store's, from the Date header of the GET above. Date is stamped
 * between our send and our receipt and truncated to the second, so the store's lead lies in
 * [Date - receivedAt, Date + 1 s - sentAt]; the step only warns or fails when the whole interval
 * is beyond the limit, so a slow answer never reads as skew.
 */
export const clockStep: Step<CheckContext> = {
  name: 'clock',
  async run(context): Promise<Outcome> {
    const probe = context.stsProbe!;
    const date = Date.parse(probe.date ?? '');
    if (!Number.isFinite(date)) return skip('the store sent no Date header: its clock cannot be compared');
    const lowMs = date - probe.receivedAtMs;
    const highMs = date + DATE_RESOLUTION_MS - probe.sentAtMs;
    const aheadSeconds = Math.round((lowMs + highMs) / 2000);
    const details = {
      storeAheadSeconds: aheadSeconds,
      uncertaintySeconds: Math.ceil((highMs - lowMs) / 2000),
    };
    const beyond = (limitSeconds: number): boolean =>
      lowMs > limitSeconds * 1000 || highMs < -limitSeconds * 1000;
    const how = `the store's clock is ${Math.abs(aheadSeconds)} s ${aheadSeconds >= 0 ? 'ahead of' : 'behind'} this node's (Date header of ${context.config.sidecar.stsEndpoint})`;
    const max = context.config.maxClockSkewSeconds;
    if (beyond(max))
      return fail(
        'CHECK_CLOCK_SKEW',
        `${how}, more than --max-clock-skew-seconds ${max}`,
        undefined,
        details,
      );
    if (beyond(CLOCK_SKEW_WARN_SECONDS))
      return warn('CHECK_CLOCK_SKEW', `${how}, more than ${CLOCK_SKEW_WARN_SECONDS} s`, undefined, details);
    return ok(`this node's clock and the store's agree within ${CLOCK_SKEW_WARN_SECONDS} s`, details);
  },
};

/**
 * A trial AssumeRoleWithWebIdentity through the sidecar's own exchanger, so the store's answer
 * is classified by exactly the codes the sidecar would log. The credentials are dropped at once:
 * only their expiry is reported.
 */
export const exchangeStep: Step<CheckContext> = {
  name: 'exchange',
  async run(context) {
    const { config } = context;
    if (config.skipExchange) return skip('not run: --skip-exchange');
    const c = config.sidecar;
    const exchanger = new StsExchanger({
      endpoint: c.stsEndpoint,
      flavor: c.flavor,
      region: c.region,
      roleArn: c.roleArn,
      roleSessionName: c.roleSessionName,
      durationSeconds: c.durationSeconds,
      sessionPolicy: c.sessionPolicy,
      caPem: c.caPem,
      timeoutMs: c.stsTimeoutMs,
      now: context.now,
      minRemainingMs: MIN_REMAINING_MS,
    });
    try {
      const { credentials, assumedRoleArn } = await exchanger.exchange(context.token!.value);
      const expiration = credentials.expiration.toISOString();
      const lifetimeSeconds = Math.round((credentials.expiration.getTime() - context.now()) / 1000);
      // MinIO sends an empty AssumedRoleUser.
      const as = assumedRoleArn ? ` as ${assumedRoleArn}` : '';
      return ok(
        `AssumeRoleWithWebIdentity succeeded${as}: credentials valid until ${expiration} (${lifetimeSeconds} s); dropped, not printed`,
        { expiration, lifetimeSeconds, assumedRoleArn: assumedRoleArn || null },
      );
    } catch (error) {
      if (!isSidecarError(error)) throw error;
      const hint = hintOf(error.code);
      // The exchanger appends the hint; here it goes to `fix` instead.
      const message =
        hint === '' ? error.message : error.message.replace(hint, '').trim().replace(/\.\.$/, '.');
      return fail(error.code, message, exchangeFix(error.code, context), {
        upstreamCode: String(error.details.upstreamCode ?? '') || null,
        httpStatus: typeof error.details.httpStatus === 'number' ? error.details.httpStatus : null,
      });
    } finally {
      exchanger.close();
    }
  },
};

/** Fixes for the exchange's codes whose catalogue entry has no hint (the sidecar retries those). */
const EXCHANGE_FIXES: Partial<Record<ErrorCode, string>> = {
  STS_SERVER_ERROR: "The store failed (5xx): check its health and logs (the radosgw log; MinIO's output).",
  STS_THROTTLED: 'The store throttles: the sidecar backs off by itself; if it lasts, raise the store limits.',
  STS_BAD_RESPONSE:
    "--sts-endpoint answered something that is not STS: point it at the store's base URL, not a proxy or a login page.",
  STS_EXPIRED_CREDENTIALS: 'Synchronise the clocks of this node and the store (NTP/chrony).',
};

/** The fix for an exchange failure: the catalogue's hint, with the token's claims where they matter. */
function exchangeFix(code: ErrorCode, context: CheckContext): string | undefined {
  const { iss, sub, aud } = context.token!.claims;
  const claims = `iss ${iss ?? '(none)'}, aud ${aud.join(', ') || '(none)'}, sub ${sub ?? '(none)'}`;
  if (code === 'STS_ACCESS_DENIED' || code === 'STS_REJECTED_TOKEN')
    return `${hintOf(code)} This token has ${claims}.`;
  return EXCHANGE_FIXES[code];
}

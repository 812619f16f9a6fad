import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ERROR_CODES, type ErrorCode } from '../shared/errors.ts';

/** Label value of `result` on the exchange counter. */
export type ExchangeResult = 'success' | 'failure';

/**
 * The sidecar's metrics on its own Registry (never prom-client's global default, so tests and
 * a future second component cannot collide). Every label value comes from a closed set:
 * our error codes, a result word, an HTTP status class. Never a token, session or pod name.
 */
export class SidecarMetrics {
  readonly registry = new Registry();

  readonly exchanges = new Counter({
    name: 'sts_sidecar_exchanges_total',
    help: 'AssumeRoleWithWebIdentity exchanges, by result and error code ("none" on success).',
    labelNames: ['result', 'code'] as const,
    registers: [this.registry],
  });

  readonly exchangeDuration = new Histogram({
    name: 'sts_sidecar_exchange_duration_seconds',
    help: 'Time from reading the token to a validated STS answer (or failure).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly credentialsExpiry = new Gauge({
    name: 'sts_sidecar_credentials_expiry_timestamp_seconds',
    help: 'Expiration of the credentials currently held (unix seconds); 0 when none.',
    registers: [this.registry],
  });

  readonly tokenExpiry = new Gauge({
    name: 'sts_sidecar_token_expiry_timestamp_seconds',
    help: 'exp claim of the projected token last read (unix seconds).',
    registers: [this.registry],
  });

  readonly lastSuccess = new Gauge({
    name: 'sts_sidecar_last_success_timestamp_seconds',
    help: 'When the last exchange succeeded (unix seconds); 0 before the first.',
    registers: [this.registry],
  });

  readonly storeClockAhead = new Gauge({
    name: 'sts_sidecar_store_clock_ahead_seconds',
    help: "Upper bound of the STS store's clock minus this node's, from the Date header of the last successful exchange (about +1 s when in sync; negative: behind).",
    registers: [this.registry],
  });

  readonly connectionsDropped = new Counter({
    name: 'sts_sidecar_connections_dropped_total',
    help: 'Connections closed because a listener was at its connection cap (the oldest idle one goes), by listener.',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly tokenReadErrors = new Counter({
    name: 'sts_sidecar_token_read_errors_total',
    help: 'Failures to read a usable token from the token file, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly credentialRequests = new Counter({
    name: 'sts_sidecar_credential_requests_total',
    help: 'Requests to the credentials endpoint, by HTTP status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.credentialsExpiry.set(0);
    // Both series from the start, so a rate() over them works before the first drop.
    for (const listener of ['credentials', 'ops']) this.connectionsDropped.inc({ listener }, 0);
    this.lastSuccess.set(0);
  }

  recordExchange(result: ExchangeResult, code: ErrorCode | 'none', seconds: number): void {
    this.exchanges.inc({ result, code });
    this.exchangeDuration.observe(seconds);
  }
}

/** Closed set of `code` label values, for tests and dashboards. */
export const EXCHANGE_CODE_LABELS: readonly string[] = ['none', ...ERROR_CODES];

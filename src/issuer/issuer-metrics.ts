import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** `result` of a refresh: a closed set (`error` is a bug: nothing else describes it). */
export type RefreshResult =
  'success' | 'api_error' | 'invalid' | 'probe_failed' | 'issuer_mismatch' | 'error';

/** `document` of a served request: a closed set, whatever path a client sends. */
export type ServedDocument = 'discovery' | 'jwks' | 'thumbprints' | 'other';

/**
 * The issuer's metrics on its own Registry. Labels come from closed sets, except `kid` and
 * `thumbprint` of the key info gauge, which the API server's key set bounds (a handful of keys;
 * the gauge is reset whenever the set changes, so old keys do not linger).
 */
export class IssuerMetrics {
  readonly registry = new Registry();

  readonly refreshes = new Counter({
    name: 'sts_sidecar_issuer_refreshes_total',
    help: "Reads of the API server's discovery document and JWKS, by result.",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly lastSuccess = new Gauge({
    name: 'sts_sidecar_issuer_last_success_timestamp_seconds',
    help: 'Unix time of the last successful refresh (0: none yet).',
    registers: [this.registry],
  });

  /** Seconds since the last successful refresh, undefined before one; the refresher sets it. */
  ageSeconds: () => number | undefined = () => undefined;

  readonly documentAge: Gauge = new Gauge({
    name: 'sts_sidecar_issuer_document_age_seconds',
    help: 'Seconds since the served documents were last confirmed by the API server (-1: none loaded).',
    registers: [this.registry],
    // At scrape time, so the age grows between refreshes as it does for the stores.
    collect: () => this.documentAge.set(this.ageSeconds() ?? -1),
  });

  readonly keysServed = new Gauge({
    name: 'sts_sidecar_issuer_keys_served',
    help: 'Keys in the served JWKS.',
    registers: [this.registry],
  });

  readonly keyInfo = new Gauge({
    name: 'sts_sidecar_issuer_key_info',
    help: 'One series per served key (value 1): its kid, x5c thumbprint and whether it signs now.',
    labelNames: ['kid', 'thumbprint', 'signing'] as const,
    registers: [this.registry],
  });

  readonly requests = new Counter({
    name: 'sts_sidecar_issuer_requests_total',
    help: 'Requests to the HTTPS listener, by document and status code.',
    labelNames: ['document', 'code'] as const,
    registers: [this.registry],
  });

  readonly tlsReloads = new Counter({
    name: 'sts_sidecar_issuer_tls_reloads_total',
    help: 'TLS certificate reloads, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly connectionsDropped = new Counter({
    name: 'sts_sidecar_issuer_connections_dropped_total',
    help: 'Idle connections closed to stay within a connection cap, by listener.',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    this.lastSuccess.set(0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** `result` label of the injection counter: a closed set. */
export type InjectionResult = 'injected' | 'skipped' | 'already_injected' | 'rejected' | 'error';

/** How a ServiceAccount lookup was answered: a closed set. */
export type LookupSource = 'cache' | 'grace' | 'api' | 'not_found' | 'error';

/**
 * The webhook's metrics on its own Registry (as SidecarMetrics for the sidecar). Labels come
 * from closed sets only; never a pod, namespace or ServiceAccount name (unbounded cardinality).
 */
export class WebhookMetrics {
  readonly registry = new Registry();

  readonly injections = new Counter({
    name: 'sts_sidecar_webhook_injections_total',
    help: 'Pods seen by /mutate, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'sts_sidecar_webhook_request_duration_seconds',
    help: 'Time to answer one AdmissionReview (ServiceAccount lookup included).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly serviceAccountLookups = new Counter({
    name: 'sts_sidecar_webhook_service_account_lookups_total',
    help: 'ServiceAccount lookups, by how they were answered.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly serviceAccountsCached = new Gauge({
    name: 'sts_sidecar_webhook_service_accounts_cached',
    help: 'ServiceAccounts held by the watch-backed cache.',
    registers: [this.registry],
  });

  readonly tlsReloads = new Counter({
    name: 'sts_sidecar_webhook_tls_reloads_total',
    help: 'TLS certificate reloads, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly connectionsDropped = new Counter({
    name: 'sts_sidecar_webhook_connections_dropped_total',
    help: 'Idle connections the admission listener closed to stay within its connection cap.',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}

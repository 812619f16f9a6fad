import { SidecarError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import type { LookupSource, WebhookMetrics } from './webhook-metrics.ts';
import type { ServiceAccountApi, ServiceAccountRecord } from '../kube/kube-client.ts';
import { setSafeTimeout } from '../shared/timers.ts';

export interface ServiceAccountCacheOptions {
  api: ServiceAccountApi;
  /**
   * How long a lookup that misses the cache waits for the watch to deliver the ServiceAccount,
   * in ms, before one direct GET. Covers an SA created in the same `kubectl apply` as its
   * Deployment (EKS webhook #174, `--service-account-lookup-grace-period`).
   */
  graceMs: number;
  metrics: WebhookMetrics;
  logger: Logger;
  /** Delay before restarting a failed list/watch, in ms; doubles up to 30 s. Default 1000. */
  restartDelayMs?: number;
}

const MAX_RESTART_DELAY_MS = 30_000;

/**
 * ServiceAccounts from a watch-backed cache. client-node's informer stops on a list/watch
 * error, so this restarts it with backoff; lookups keep working meanwhile through the GET.
 */
export class ServiceAccountCache {
  readonly #api: ServiceAccountApi;
  readonly #graceMs: number;
  readonly #metrics: WebhookMetrics;
  readonly #log: Logger;
  readonly #baseDelayMs: number;
  #delayMs: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Lookups waiting for an `add` of namespace/name. */
  readonly #waiters = new Map<string, Set<(sa: ServiceAccountRecord) => void>>();

  constructor(options: ServiceAccountCacheOptions) {
    this.#api = options.api;
    this.#graceMs = options.graceMs;
    this.#metrics = options.metrics;
    this.#log = options.logger.child({ component: 'sa-cache' });
    this.#baseDelayMs = options.restartDelayMs ?? 1_000;
    this.#delayMs = this.#baseDelayMs;
    const seen = (sa: ServiceAccountRecord): void => {
      this.#metrics.serviceAccountsCached.set(this.#api.cachedCount());
      const waiting = this.#waiters.get(`${sa.namespace}/${sa.name}`);
      if (waiting) for (const wake of waiting) wake(sa);
    };
    this.#api.on('add', seen);
    this.#api.on('update', seen);
    this.#api.on('delete', () => this.#metrics.serviceAccountsCached.set(this.#api.cachedCount()));
    this.#api.onError((error) => this.#restartLater(error));
  }

  /** Starts the list+watch. A failing first list is logged and retried, never thrown: lookups fall back to GET. */
  async start(): Promise<void> {
    this.#stopped = false;
    try {
      await this.#api.start();
      this.#delayMs = this.#baseDelayMs;
      this.#metrics.serviceAccountsCached.set(this.#api.cachedCount());
    } catch (error) {
      this.#restartLater(error);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    await this.#api.stop();
  }

  /**
   * The annotations of namespace/name; undefined when the ServiceAccount does not exist.
   * Order: cache → wait up to graceMs for the watch → one GET.
   *
   * @throws SidecarError KUBE_API_UNAVAILABLE when the GET fails (not on 404).
   */
  async lookup(namespace: string, name: string): Promise<ServiceAccountRecord | undefined> {
    const hit = this.#api.cached(namespace, name);
    if (hit) return this.#count('cache', hit);
    if (this.#graceMs > 0) {
      const late = await this.#waitForAdd(namespace, name);
      if (late) return this.#count('grace', late);
    }
    try {
      const read = await this.#api.read(namespace, name);
      return this.#count(read ? 'api' : 'not_found', read);
    } catch (error) {
      this.#metrics.serviceAccountLookups.inc({ source: 'error' });
      throw new SidecarError(
        'KUBE_API_UNAVAILABLE',
        `sts-sidecar: cannot read ServiceAccount ${namespace}/${name} from the API server; retry, and check the webhook's RBAC (get, list, watch serviceaccounts).`,
        { cause: error },
      );
    }
  }

  #count(source: LookupSource, sa: ServiceAccountRecord | undefined): ServiceAccountRecord | undefined {
    this.#metrics.serviceAccountLookups.inc({ source });
    return sa;
  }

  #waitForAdd(namespace: string, name: string): Promise<ServiceAccountRecord | undefined> {
    const key = `${namespace}/${name}`;
    return new Promise((resolve) => {
      let set = this.#waiters.get(key);
      if (!set) this.#waiters.set(key, (set = new Set()));
      const done = (sa: ServiceAccountRecord | undefined): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.#waiters.delete(key);
        resolve(sa);
      };
      const timer = setSafeTimeout(() => done(this.#api.cached(namespace, name)), this.#graceMs);
      set.add(done);
    });
  }

  #restartLater(error: unknown): void {
    if (this.#stopped) return;
    this.#log.warn(
      { event: 'sa_watch_failed', err: error, retryInMs: this.#delayMs },
      'ServiceAccount list/watch failed; restarting',
    );
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setSafeTimeout(() => void this.start(), this.#delayMs);
    this.#restartTimer.unref();
    this.#delayMs = Math.min(this.#delayMs * 2, MAX_RESTART_DELAY_MS);
  }
}

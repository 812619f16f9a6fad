import type { Clock, TimerHandle } from '../credentials/clock.ts';
import type { IssuerApi } from '../kube/issuer-api.ts';
import { hintOf, isSidecarError, SidecarError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import type { CertificateAuthority } from './certificate-builder.ts';
import type { IssuerMetrics, RefreshResult } from './issuer-metrics.ts';
import { keySetFingerprint, publishDocuments, type PublishedDocuments } from './published-documents.ts';

/** Before the first success, retry at least this often: a new pod should not wait a full interval. */
export const FIRST_LOAD_RETRY_MS = 5_000;

export interface DocumentRefresherOptions {
  api: IssuerApi;
  ca: CertificateAuthority;
  /** Timers and staleness run on its monotonic clock; the success timestamp is wall-clock. */
  clock: Clock;
  /** Between refreshes, ms. */
  intervalMs: number;
  /** Ready only while the last success is at most this old, ms. */
  maxStaleMs: number;
  /** --x5c: add a certificate to every key. */
  x5c: boolean;
  /** --issuer-url; undefined = whatever the API server says is served. */
  expectedIssuer: string | undefined;
  metrics: IssuerMetrics;
  logger: Logger;
}

/** Whether the publisher should receive traffic, and why not. */
export interface Readiness {
  readonly ready: boolean;
  /** One line for /readyz; 'ready' when ready. */
  readonly reason: string;
}

const sameIssuer = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

const RESULT_OF_CODE: Record<string, RefreshResult> = {
  ISSUER_API_UNAVAILABLE: 'api_error',
  ISSUER_DOCUMENT_INVALID: 'invalid',
  ISSUER_PROBE_FAILED: 'probe_failed',
  ISSUER_URL_MISMATCH: 'issuer_mismatch',
};

/**
 * Keeps the published documents current: reads the API server every interval, and on a failure
 * keeps serving the last good documents (stores keep verifying tokens through an API-server
 * outage) while readiness turns false once they are older than the staleness limit. One refresh
 * runs at a time; a call during one joins it.
 */
export class DocumentRefresher {
  readonly #o: DocumentRefresherOptions;
  readonly #log: Logger;
  #current: PublishedDocuments | undefined;
  #lastSuccessAt: number | undefined;
  #mismatch: string | undefined;
  #fingerprint = '';
  #pending: Promise<RefreshResult> | undefined;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(options: DocumentRefresherOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'refresher' });
    options.metrics.ageSeconds = () =>
      this.#lastSuccessAt === undefined
        ? undefined
        : Math.max(0, (options.clock.monotonicNow() - this.#lastSuccessAt) / 1000);
  }

  /** The documents to serve; undefined until the first success. */
  get current(): PublishedDocuments | undefined {
    return this.#current;
  }

  /** Runs the first refresh and keeps refreshing; resolves with the first result, never rejects. */
  start(): Promise<RefreshResult> {
    return this.refresh();
  }

  /** Refreshes now (joining one in progress) and schedules the next. Never rejects. */
  refresh(): Promise<RefreshResult> {
    this.#pending ??= this.#refreshOnce().finally(() => {
      this.#pending = undefined;
      this.#schedule();
    });
    return this.#pending;
  }

  /** Resolves once no refresh is in progress (at once when none is). */
  async settled(): Promise<void> {
    await this.#pending;
  }

  /** Ready once documents are loaded, while they are fresh enough and the issuer is the expected one. */
  readiness(): Readiness {
    if (this.#mismatch !== undefined) return { ready: false, reason: this.#mismatch };
    if (this.#current === undefined || this.#lastSuccessAt === undefined)
      return { ready: false, reason: 'no documents loaded from the API server yet' };
    const ageMs = this.#o.clock.monotonicNow() - this.#lastSuccessAt;
    if (ageMs > this.#o.maxStaleMs)
      return {
        ready: false,
        reason: `documents are stale: last refreshed ${Math.round(ageMs / 1000)} s ago`,
      };
    return { ready: true, reason: 'ready' };
  }

  /** Stops refreshing; a refresh in progress finishes, its result is kept. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    await this.settled();
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    const delayMs =
      this.#current === undefined ? Math.min(this.#o.intervalMs, FIRST_LOAD_RETRY_MS) : this.#o.intervalMs;
    this.#timer = this.#o.clock.setTimer(() => void this.refresh(), delayMs);
  }

  async #refreshOnce(): Promise<RefreshResult> {
    const { metrics } = this.#o;
    let result: RefreshResult;
    try {
      result = await this.#load();
    } catch (error) {
      result = (isSidecarError(error) && RESULT_OF_CODE[error.code]) || 'error';
      // A mismatch is a misconfiguration no retry fixes; the rest may heal by themselves.
      const level = result === 'error' || result === 'issuer_mismatch' ? 'error' : 'warn';
      this.#log[level](
        {
          event: 'refresh_failed',
          result,
          err: error,
          serving: this.#current === undefined ? 'nothing' : 'cached',
        },
        'refresh failed',
      );
    }
    metrics.refreshes.inc({ result });
    return result;
  }

  async #load(): Promise<'success'> {
    const documents = await this.#o.api.readDocuments();
    const issuer = documents.discovery.issuer as string;
    const expected = this.#o.expectedIssuer;
    if (expected !== undefined && !sameIssuer(issuer, expected)) {
      this.#mismatch = `the API server's issuer ${issuer} is not --issuer-url ${expected}`;
      throw new SidecarError(
        'ISSUER_URL_MISMATCH',
        `${this.#mismatch}: stores would fetch discovery elsewhere, so this publisher stays unready. ${hintOf('ISSUER_URL_MISMATCH')}`,
        { details: { apiServerIssuer: issuer, issuerUrl: expected } },
      );
    }
    // Only with several keys: a lone key is the signing key, and a probe token costs an API write.
    const signingKid = documents.jwks.keys.length > 1 ? await this.#o.api.probeSigningKid() : undefined;
    const published = publishDocuments({ documents, signingKid, ca: this.#o.ca, x5c: this.#o.x5c });
    this.#current = published;
    this.#lastSuccessAt = this.#o.clock.monotonicNow();
    this.#mismatch = undefined;
    this.#record(published);
    return 'success';
  }

  #record(published: PublishedDocuments): void {
    const { metrics } = this.#o;
    metrics.lastSuccess.set(Math.floor(this.#o.clock.now() / 1000));
    metrics.keysServed.set(published.keys.length);
    const fingerprint = keySetFingerprint(published.keys);
    if (fingerprint === this.#fingerprint) return;
    this.#fingerprint = fingerprint;
    metrics.keyInfo.reset();
    for (const k of published.keys)
      metrics.keyInfo.set({ kid: k.kid, thumbprint: k.thumbprint ?? 'none', signing: String(k.signing) }, 1);
    this.#log.info(
      { event: 'keys_changed', issuer: published.issuer, keys: published.keys },
      `serving ${published.keys.length} key(s): ${published.keys.map((k) => `${k.kid}=${k.thumbprint ?? 'no x5c'}${k.signing ? ' (signing)' : ''}`).join(', ')}`,
    );
  }
}

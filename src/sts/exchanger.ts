import { Agent as HttpsAgent } from 'node:https';
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  type AssumeRoleWithWebIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import type { Flavor } from '../config/stores.ts';
import type { Credentials } from '../credentials/credentials.ts';
import { hintOf, SidecarError } from '../shared/errors.ts';
import { classifyStsError } from './classify-sts-error.ts';
import { addResponseGuardMiddleware } from './response-guard.ts';
import { addStsErrorBodyMiddleware } from './sts-error-body.ts';

export interface StsExchangerOptions {
  /** STS base URL (RGW or MinIO). */
  endpoint: string;
  flavor: Flavor;
  region: string;
  /** Sent only when set (MinIO in claim mode must not receive one). */
  roleArn: string | undefined;
  roleSessionName: string;
  /** Always sent: MinIO without it ties the credentials to the JWT's exp (docs/design/upstream-facts.md). */
  durationSeconds: number;
  sessionPolicy: string | undefined;
  /** Extra CAs for an https endpoint; Node's built-in CAs otherwise. */
  caPem: string | undefined;
  /** Deadline for one call, connection included, in ms. */
  timeoutMs: number;
  /** Clock in ms since the epoch; injectable so tests can run on virtual time. */
  now: () => number;
  /** Credentials with less than this left are refused as if expired (ms). */
  minRemainingMs: number;
}

/** A successful exchange: our credentials plus non-secret fields for the log line. */
export interface ExchangeSuccess {
  readonly credentials: Credentials;
  readonly assumedRoleArn: string | undefined;
  readonly subjectFromToken: string | undefined;
  /** The store's clock minus ours (ms), from the reply's Date header; undefined without one. */
  readonly storeClockAheadMs: number | undefined;
}

const REDACTED = '[REDACTED]';
// A compact JWS anywhere in a string: three base64url runs separated by dots.
const JWT_LIKE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
const MAX_UPSTREAM_MESSAGE_CHARS = 300;

/**
 * Calls AssumeRoleWithWebIdentity once and turns the answer into {@link Credentials}, or into a
 * SidecarError whose code says how to retry. It does not retry: the scheduler owns timing, so
 * the SDK's own retries are off (`maxAttempts: 1`).
 */
export class StsExchanger {
  readonly #options: StsExchangerOptions;
  readonly #client: STSClient;
  /** Set by the response guard during a call; calls never overlap (the scheduler is single-flight). */
  #storeClockAheadMs: number | undefined;

  constructor(options: StsExchangerOptions) {
    this.#options = options;
    const httpsAgent = new HttpsAgent({
      keepAlive: true,
      ...(options.caPem === undefined ? {} : { ca: options.caPem }),
    });
    this.#client = new STSClient({
      endpoint: options.endpoint,
      region: options.region,
      maxAttempts: 1,
      requestHandler: {
        httpsAgent,
        connectionTimeout: options.timeoutMs,
        requestTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    addStsErrorBodyMiddleware(this.#client);
    addResponseGuardMiddleware(this.#client, {
      now: options.now,
      onStoreClockAhead: (ms) => {
        this.#storeClockAheadMs = ms;
      },
    });
  }

  /** The exact parameters sent, for a token (exported for tests and the debug log). */
  buildInput(token: string): AssumeRoleWithWebIdentityCommandInput {
    const o = this.#options;
    return {
      WebIdentityToken: token,
      RoleSessionName: o.roleSessionName,
      DurationSeconds: o.durationSeconds,
      ...(o.roleArn === undefined ? {} : { RoleArn: o.roleArn }),
      ...(o.sessionPolicy === undefined ? {} : { Policy: o.sessionPolicy }),
    } as AssumeRoleWithWebIdentityCommandInput;
  }

  /** One exchange; `signal` aborts it (shutdown), besides the --sts-timeout-seconds deadline. */
  async exchange(token: string, signal?: AbortSignal): Promise<ExchangeSuccess> {
    let output: AssumeRoleWithWebIdentityCommandOutput;
    this.#storeClockAheadMs = undefined;
    const deadline = AbortSignal.timeout(this.#options.timeoutMs);
    try {
      output = await this.#client.send(new AssumeRoleWithWebIdentityCommand(this.buildInput(token)), {
        abortSignal: signal === undefined ? deadline : AbortSignal.any([deadline, signal]),
      });
    } catch (error) {
      throw this.#toSidecarError(error, token);
    }
    const c = output.Credentials;
    const missing = (['AccessKeyId', 'SecretAccessKey', 'SessionToken'] as const).filter(
      (field) => typeof c?.[field] !== 'string' || c[field] === '',
    );
    const expiration = c?.Expiration;
    const problems: string[] = [...missing];
    if (!(expiration instanceof Date) || Number.isNaN(expiration.getTime())) problems.push('Expiration');
    if (c === undefined || problems.length > 0) {
      throw new SidecarError(
        'STS_BAD_RESPONSE',
        `STS answered 200 without ${problems.join(', ')} in Credentials; is --sts-endpoint an STS endpoint?`,
        { details: { missing: problems.join(',') } },
      );
    }
    const storeClockAheadMs = this.#storeClockAheadMs;
    // By the store's clock when it runs ahead: that is the clock the credentials expire by.
    const remainingMs = expiration!.getTime() - this.#options.now() - Math.max(0, storeClockAheadMs ?? 0);
    if (remainingMs < this.#options.minRemainingMs) {
      throw new SidecarError(
        'STS_EXPIRED_CREDENTIALS',
        `STS returned credentials expiring at ${expiration!.toISOString()}, ${Math.round(remainingMs / 1000)} s from now by the store's clock; ` +
          'they are not served. Check the clocks of this node and the store.',
        { details: { expiration: expiration!.toISOString(), storeClockAheadMs } },
      );
    }
    return {
      credentials: Object.freeze({
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
        expiration: new Date(expiration!.getTime()),
      }),
      assumedRoleArn: output.AssumedRoleUser?.Arn,
      subjectFromToken: output.SubjectFromWebIdentityToken,
      storeClockAheadMs,
    };
  }

  close(): void {
    this.#client.destroy();
  }

  #toSidecarError(error: unknown, token: string): SidecarError {
    const failure = classifyStsError(error);
    const upstream = scrubSecrets(failure.upstreamMessage ?? '', token);
    const status = failure.httpStatus === undefined ? '' : `HTTP ${failure.httpStatus} `;
    const what = failure.upstreamCode ?? 'error';
    return new SidecarError(
      failure.code,
      `STS call to ${this.#options.endpoint} failed: ${status}${what}${upstream ? `: ${upstream}` : ''}. ${hintOf(failure.code)}`.trim(),
      {
        // The SDK error keeps the raw response; it stays out of logs (see log.ts serializeError).
        cause: error,
        details: { upstreamCode: failure.upstreamCode, httpStatus: failure.httpStatus },
      },
    );
  }
}

/**
 * Removes the token, and anything shaped like a JWT, from a message the store sent back, then
 * caps its length. Stores are not known to echo the token, but a proxy or a future version
 * might, and the message reaches logs.
 */
export function scrubSecrets(message: string, token: string): string {
  let out = message;
  if (token.length > 0) out = out.split(token).join(REDACTED);
  out = out.replace(JWT_LIKE, REDACTED).replace(/\s+/g, ' ').trim();
  return out.length > MAX_UPSTREAM_MESSAGE_CHARS ? `${out.slice(0, MAX_UPSTREAM_MESSAGE_CHARS)}…` : out;
}

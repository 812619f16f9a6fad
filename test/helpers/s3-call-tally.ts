import assert from 'node:assert/strict';
import type { S3ClientRunner } from './s3-clients.ts';
import type { S3Call, S3Session } from './s3-session.ts';

/**
 * One e2e suite's S3 calls, per client, printed at its end: the lines the tables of
 * docs/compatibility.md are filled from (client, version, calls made and failed).
 */
export class S3CallTally {
  readonly calls: S3Call[] = [];
  readonly #versions = new Map<string, string>();
  readonly #skipped = new Map<string, string>();

  /** The store's name and version, at the start of every line. */
  readonly store: string;

  constructor(store: string) {
    this.store = store;
  }

  /** Waits for a session to end and counts its calls. */
  async add(session: S3Session): Promise<S3Call[]> {
    const calls = await session.done;
    this.calls.push(...calls);
    if (session.identity.version) this.#versions.set(session.client, session.identity.version);
    return calls;
  }

  skipped(client: S3ClientRunner): void {
    if (client.probe.skip) this.#skipped.set(client.name, client.probe.skip);
  }

  failed(): S3Call[] {
    return this.calls.filter((c) => !c.ok);
  }

  /** `<store>: <client> (<version>): N S3 calls made, M failed`, one per client, then the total. */
  lines(): string[] {
    const by = new Map<string, { made: number; failed: number }>();
    for (const c of this.calls) {
      const e = by.get(c.client) ?? { made: 0, failed: 0 };
      e.made++;
      if (!c.ok) e.failed++;
      by.set(c.client, e);
    }
    const lines = [...by].map(
      ([client, e]) =>
        `${this.store}: ${client} (${this.#versions.get(client) ?? 'version unknown'}): ` +
        `${e.made} S3 calls made, ${e.failed} failed`,
    );
    for (const [client, reason] of this.#skipped) lines.push(`${this.store}: ${client}: skipped (${reason})`);
    lines.push(`${this.store}: total ${this.calls.length} S3 calls made, ${this.failed().length} failed`);
    return lines;
  }
}

/** Every call succeeded and was signed with one of `keys` (those the sidecar got from the store). */
export function assertSignedWith(calls: S3Call[], keys: ReadonlySet<string>, what: string): void {
  const bad = calls.filter((c) => !c.ok || c.accessKeyId === null || !keys.has(c.accessKeyId));
  assert.deepEqual(
    bad,
    [],
    `${what}: failed calls, or calls signed with a key the sidecar did not get from the store`,
  );
}

/** The session's client says it took its credentials from the container (ECS) provider. */
export function assertCredentialSource(session: S3Session, client: S3ClientRunner): void {
  if (client.expectedSource === undefined) return;
  assert.equal(
    session.identity.credentialSource,
    client.expectedSource,
    `${client.name} resolved its credentials elsewhere than the sidecar's endpoint`,
  );
}

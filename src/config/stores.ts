/**
 * The S3 stores whose STS we talk to, and their limits: the one place a per-store number lives.
 * The sidecar's config, the webhook's config and the webhook's annotation plan all check
 * against these, and --help and the docs render them from here.
 */

export const FLAVORS = ['rgw', 'minio', 'aws'] as const;
export type Flavor = (typeof FLAVORS)[number];

/** An inclusive range of whole numbers. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** What one store accepts. */
export interface StoreLimits {
  /** DurationSeconds of AssumeRoleWithWebIdentity. */
  readonly durationSeconds: Range;
}

// RGW and AWS: 900 s to 12 h (RGW also caps it at the role's max session duration, 3600 s by
// default). MinIO: 900 s to 365 days. Sources: docs/design/upstream-facts.md ("Store limits").
export const STORE_LIMITS: Readonly<Record<Flavor, StoreLimits>> = {
  rgw: { durationSeconds: { min: 900, max: 43_200 } },
  aws: { durationSeconds: { min: 900, max: 43_200 } },
  minio: { durationSeconds: { min: 900, max: 31_536_000 } },
};

/**
 * The DurationSeconds range for a flavor; for an unknown one (a webhook default that a pod's
 * flavor annotation decides later) the widest range any store accepts.
 */
export function durationRange(flavor: string | undefined): Range {
  const known = FLAVORS.find((f) => f === flavor);
  if (known !== undefined) return STORE_LIMITS[known].durationSeconds;
  const all = FLAVORS.map((f) => STORE_LIMITS[f].durationSeconds);
  return { min: Math.min(...all.map((r) => r.min)), max: Math.max(...all.map((r) => r.max)) };
}

/** "900-43200 (rgw, aws) or 900-31536000 (minio)": the ranges by store, for docs. */
export function durationRangesText(): string {
  const byRange = new Map<string, Flavor[]>();
  for (const f of FLAVORS) {
    const r = STORE_LIMITS[f].durationSeconds;
    const text = `${r.min}-${r.max}`;
    byRange.set(text, [...(byRange.get(text) ?? []), f]);
  }
  return [...byRange].map(([text, flavors]) => `${text} (${flavors.join(', ')})`).join(' or ');
}

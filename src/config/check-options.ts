import type { OptionSpec } from './option-spec.ts';
import { SIDECAR_OPTIONS } from './sidecar-options.ts';

/**
 * The options only `sts-sidecar check` has. Check also takes every sidecar option, with the same
 * flags and env vars (config/check-config.ts), so an operator runs it in the pod with the env the
 * webhook injected, or beside it with the same command line.
 */

export type CheckOptionKey =
  'json' | 'skipExchange' | 'audience' | 'issuerCaFile' | 'maxClockSkewSeconds' | 'rgwVersion';

export type CheckOptionSpec = OptionSpec<CheckOptionKey>;

/**
 * Above this skew the clock step warns: the sidecar's serve margin (credentials/credential-store.ts
 * MIN_REMAINING_MS). The sidecar allows for a store clock that runs ahead, but a skew this size
 * means time sync is broken and will get worse.
 */
export const CLOCK_SKEW_WARN_SECONDS = 60;

/**
 * MinIO and RGW refuse SigV4 requests whose time is more than 15 min off theirs
 * (`globalMaxSkewTime` in minio/minio cmd/globals.go
 * https://github.com/minio/minio/blob/9bf1ac0bb69b68eebf5b2aaad4fb7b387ab9fce3/cmd/globals.go;
 * `RGW_AUTH_GRACE_MINS` in ceph/ceph src/rgw/rgw_rest_s3.h
 * https://github.com/ceph/ceph/blob/010a58460a5606680f6943f5caa655304950fb3d/src/rgw/rgw_rest_s3.h),
 * so a limit above that would pass a node whose apps are already refused. The default, a third
 * of it, fails the check well before the apps do.
 */
export const MAX_CLOCK_SKEW_RANGE = { min: 1, max: 900 } as const;

/** Flags of check's own that take no value (`--json`, not `--json true`). */
export const CHECK_SWITCH_FLAGS: ReadonlySet<string> = new Set(['json', 'skip-exchange']);

export const CHECK_ONLY_OPTIONS: readonly CheckOptionSpec[] = [
  {
    key: 'json',
    env: 'STS_SIDECAR_CHECK_JSON',
    flag: 'json',
    defaultValue: 'false',
    doc: 'A switch: print one JSON document {ok, firstFailure, steps} instead of one line per step.',
    kind: 'boolean',
  },
  {
    key: 'skipExchange',
    env: 'STS_SIDECAR_CHECK_SKIP_EXCHANGE',
    flag: 'skip-exchange',
    defaultValue: 'false',
    doc: 'A switch: do not try AssumeRoleWithWebIdentity (every other step still runs).',
    kind: 'boolean',
  },
  {
    key: 'audience',
    env: 'STS_SIDECAR_CHECK_AUDIENCE',
    flag: 'audience',
    doc: "The client ID the store expects in the token's `aud`. Default: not compared; the step shows the token's aud.",
    kind: 'string',
  },
  {
    key: 'issuerCaFile',
    env: 'STS_SIDECAR_CHECK_ISSUER_CA_FILE',
    flag: 'issuer-ca-file',
    doc: "PEM CAs to trust for the issuer's discovery document and JWKS, besides the system and Node's CAs.",
    kind: 'string',
  },
  {
    key: 'maxClockSkewSeconds',
    env: 'STS_SIDECAR_CHECK_MAX_CLOCK_SKEW_SECONDS',
    flag: 'max-clock-skew-seconds',
    defaultValue: '300',
    doc: `Fail when this node's clock and the store's differ by more than this ({range}); warn above ${CLOCK_SKEW_WARN_SECONDS}.`,
    kind: 'integer',
    range: MAX_CLOCK_SKEW_RANGE,
  },
  {
    key: 'rgwVersion',
    env: 'STS_SIDECAR_CHECK_RGW_VERSION',
    flag: 'rgw-version',
    doc: "Flavor rgw: the store's Ceph version (`radosgw --version`, e.g. 19.2.3). From 18.2.8 / 19.2.3 on, JWKS keys without `x5c` pass. Default: assume an older RGW.",
    kind: 'string',
    pattern: { regex: /^\d{1,3}\.\d{1,3}\.\d{1,4}$/, problem: 'must be a Ceph version such as 18.2.8.' },
  },
];

/** Every option `sts-sidecar check` takes: the sidecar's, then its own (for --help). */
export const CHECK_OPTIONS: readonly OptionSpec[] = [...SIDECAR_OPTIONS, ...CHECK_ONLY_OPTIONS];

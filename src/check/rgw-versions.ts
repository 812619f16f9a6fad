/**
 * The first release of each Ceph line whose RGW verifies a JWKS key by its modulus and exponent,
 * so a key without `x5c` (what a Kubernetes API server publishes) works:
 * - Reef 18.2.8: https://github.com/ceph/ceph/pull/63053, in the 18.2.8 changelog;
 * - Squid 19.2.3: https://github.com/ceph/ceph/pull/63052, in the 19.2.3 changelog
 *   (https://github.com/ceph/ceph/blob/0904cace7d597d8beeb903e8a3c12ce21b6b1009/doc/releases/squid.rst);
 * - Tentacle 20: https://github.com/ceph/ceph/pull/63051, merged into the tentacle branch before
 *   its first release.
 * Pacific (16) and Quincy (17) never got it. docs/design/upstream-facts.md ("Ceph RGW, other").
 */
const FIRST_WITHOUT_X5C: Readonly<Record<number, readonly [minor: number, patch: number]>> = {
  18: [2, 8],
  19: [2, 3],
};
const FIRST_MAJOR_WITHOUT_X5C = 20;

/** True when an RGW of `version` (`major.minor.patch`, as `radosgw --version` prints) needs `x5c`. */
export function rgwNeedsX5c(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  if (major >= FIRST_MAJOR_WITHOUT_X5C) return false;
  const first = FIRST_WITHOUT_X5C[major];
  if (first === undefined) return true;
  return minor < first[0] || (minor === first[0] && patch < first[1]);
}

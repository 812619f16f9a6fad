/** STS's limit on an inline session policy, RGW's and MinIO's alike (docs/design/upstream-facts.md). */
export const MAX_POLICY_CHARS = 2048;

/**
 * Checks an inline session policy the way STS will, so a bad one is refused at start (sidecar)
 * or at admission (webhook) rather than by the store. Reports at most one problem; never
 * echoes the policy.
 */
export function validateSessionPolicy(policy: string, report: (text: string) => void): void {
  if (policy.length > MAX_POLICY_CHARS) {
    report(`is ${policy.length} characters; STS accepts at most ${MAX_POLICY_CHARS}.`);
    return;
  }
  try {
    const parsed: unknown = JSON.parse(policy);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      report('must be a JSON object (an IAM policy document).');
  } catch {
    report('is not valid JSON; use an IAM policy document such as {"Version":"2012-10-17","Statement":[…]}.');
  }
}

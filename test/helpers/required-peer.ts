/**
 * The reason a test that needs a peer (a store, a cluster) or a tool (a client, helm) cannot run
 * here. On a developer's machine the test skips with it; the reason names the command that sets
 * the peer up. Under `CI=true`, `.ci/run` has set every peer up, so a missing one is a broken set-up:
 * this throws, the test file fails, and a green run can never hide skipped e2e suites.
 */
export function missingPeer(reason: string): string {
  if (process.env.CI === 'true')
    throw new Error(`CI=true, but a peer or tool the tests need is missing: ${reason}`);
  return reason;
}

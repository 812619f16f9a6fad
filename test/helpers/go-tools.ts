import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { missingPeer } from './required-peer.ts';

/** Tools that `.ci/go-tool.sh` builds with `go install` (pinned versions live in that script). */
export type GoTool = 'helm' | 'promtool' | 'prometheus';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** A tool's binary, or why a test that needs it must skip. */
export type GoToolLookup = { path: string; version: string } | { path: undefined; skipReason: string };

/**
 * Finds a tool installed by `bash .ci/go-tool.sh install <tool>` (CI always installs them).
 * Asks the script itself, so the pinned version is checked in one place: a binary of another
 * version counts as missing. Tests skip with the returned reason instead of failing.
 */
export function findGoTool(tool: GoTool): GoToolLookup {
  const script = join(REPO_ROOT, '.ci', 'go-tool.sh');
  try {
    const path = execFileSync('bash', [script, 'bin', tool], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    const version = execFileSync('bash', [script, 'version', tool], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    return { path, version };
  } catch {
    return {
      path: undefined,
      skipReason: missingPeer(
        `${tool} is not installed: run bash .ci/go-tool.sh install ${tool} (.ci/run does)`,
      ),
    };
  }
}

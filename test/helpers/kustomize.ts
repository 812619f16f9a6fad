import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** kubectl to render with: `$KUBECTL`, else the one on PATH. */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** `kubectl version --client` as one line, or why kubectl cannot run (a skip reason). */
export function kubectlVersion(): { version: string } | { reason: string } {
  try {
    const out = execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const v = JSON.parse(out) as { clientVersion?: { gitVersion?: string }; kustomizeVersion?: string };
    return {
      version: `kubectl ${v.clientVersion?.gitVersion ?? '?'}, kustomize ${v.kustomizeVersion ?? '?'}`,
    };
  } catch (error) {
    return {
      reason: `kubectl not runnable (${(error as Error).message.split('\n')[0]}): install kubectl or set KUBECTL`,
    };
  }
}

/** `kubectl kustomize <dir>`: the rendered multi-document YAML stream. */
export function kustomize(dir: string): string {
  return execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every directory under `root` holding a kustomization.yaml, relative to `root`, sorted. */
export function findKustomizations(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry === 'kustomization.yaml') found.push(relative(root, dir));
    }
  };
  walk(root);
  return found.sort();
}

/** A Kubernetes label selector (matchLabels + matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/**
 * Whether `selector` selects an object with `labels`, by the API server's rules (every term must
 * hold; an empty selector selects everything). Lets a test state what a selector means instead
 * of how it is spelled.
 */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(labels[e.key]!)
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(labels[e.key]!)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

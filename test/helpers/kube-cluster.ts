import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { helmEnv } from './helm-chart.ts';
import { missingPeer } from './required-peer.ts';

const execFileAsync = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The two clusters .ci/run starts: the e2e suites' own, and the RGW suite's (.ci/peers/kube-rgw.sh). */
export const KUBE_CLUSTERS = {
  main: {
    stateDir: process.env.STS_SIDECAR_KUBE_STATE_DIR ?? '/var/lib/sts-sidecar-kube',
    script: '.ci/peers/kube.sh',
  },
  rgw: { stateDir: '/var/lib/sts-sidecar-kube-rgw', script: '.ci/peers/kube-rgw.sh' },
} as const;
export type KubeClusterName = keyof typeof KUBE_CLUSTERS;

const startHint = (script: string) =>
  `run bash .ci/peers/kube.sh install, bash .ci/build-images.sh all, then bash ${script} start (.ci/run does)`;
/** Cap on any one kubectl call; the watches below set their own. */
const KUBECTL_TIMEOUT_MS = 60_000;
/** Cap on a helm call: `--wait` installs pass their own, shorter `--timeout`. */
const HELM_TIMEOUT_MS = 5 * 60_000;
/** kubectl output can be a whole pod list or a log; far below this. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** The real single-node cluster `.ci/peers/kube.sh start` runs (fields of its cluster.json). */
export interface KubeCluster {
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** Path of the network namespace the node and its pods live in. */
  readonly netns: string;
  readonly nodeName: string;
  /** The node address inside the namespace: the API server, and stores the tests start there. */
  readonly nodeIp: string;
  /** The API server's service-account issuer (its own OIDC discovery). */
  readonly issuer: string;
  /** The cluster CA, which signed the API server's certificate. */
  readonly caFile: string;
  readonly versions: string;
  /** The peer script that started it: `stop-apiserver`, `rotate-signing-key`… (see kube.sh). */
  readonly script: string;
}

/** The running cluster, or why the tests that need it cannot run (a failure under CI=true). */
export async function findKubeCluster(
  name: KubeClusterName = 'main',
): Promise<{ cluster: KubeCluster } | { reason: string }> {
  const { stateDir, script } = KUBE_CLUSTERS[name];
  const file = `${stateDir}/cluster.json`;
  let cluster: KubeCluster;
  try {
    cluster = { ...(JSON.parse(await readFile(file, 'utf8')) as KubeCluster), script };
  } catch {
    return { reason: missingPeer(`no Kubernetes cluster is running (no ${file}): ${startHint(script)}`) };
  }
  try {
    await kubectl(cluster, ['get', '--raw', '/readyz']);
  } catch (error) {
    return {
      reason: missingPeer(
        `the Kubernetes API server does not answer (${(error as Error).message}): ${startHint(script)}`,
      ),
    };
  }
  return { cluster };
}

/** Runs the cluster's peer script (`bash .ci/peers/kube-rgw.sh rotate-signing-key`); rejects with its log. */
export async function clusterCommand(cluster: KubeCluster, command: string): Promise<void> {
  try {
    await execFileAsync('bash', [cluster.script, command], {
      cwd: REPO_ROOT,
      timeout: 5 * 60_000,
      encoding: 'utf8',
    });
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`${cluster.script} ${command}: ${e.stderr?.trim() || e.message}`, { cause: error });
  }
}

/** Runs kubectl against the cluster; resolves with stdout, rejects with stderr in the message. */
export async function kubectl(
  cluster: KubeCluster,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const child = execFileAsync(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], {
    timeout: opts.timeoutMs ?? KUBECTL_TIMEOUT_MS,
    maxBuffer: MAX_OUTPUT_BYTES,
    encoding: 'utf8',
  });
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  try {
    return (await child).stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: error });
  }
}

/**
 * Runs helm against the cluster (its kubeconfig, nothing from the machine's helm config);
 * resolves with stdout, rejects with helm's stderr in the message.
 */
export async function helmOn(cluster: KubeCluster, helm: string, args: string[]): Promise<string> {
  try {
    return (
      await execFileAsync(helm, args, {
        env: helmEnv(cluster.kubeconfig),
        timeout: HELM_TIMEOUT_MS,
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: 'utf8',
      })
    ).stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`helm ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: error });
  }
}

/** `kubectl apply -f -` of objects given as JSON. */
export async function apply(cluster: KubeCluster, ...objects: object[]): Promise<void> {
  await kubectl(cluster, ['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
}

/** `kubectl get -o json`, parsed. */
export async function getJson<T = Record<string, unknown>>(cluster: KubeCluster, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(cluster, ['get', ...args, '-o', 'json'])) as T;
}

/** The most lines {@link streamUntil} keeps (a container log over ten minutes is far less). */
const MAX_STREAM_LINES = 100_000;

/**
 * Runs a streaming kubectl command (`logs -f`, `get --watch`) and resolves with every line up to
 * and including the first one `match` accepts: the API server pushes each change, so there is
 * no polling; `onLine` sees each line as it comes. Rejects after `timeoutMs`, or when the stream ends first, naming what it waited for
 * and the last lines it saw.
 */
export async function streamUntil(
  cluster: KubeCluster,
  args: string[],
  what: string,
  match: (line: string) => boolean,
  timeoutMs: number,
  onLine?: (line: string) => void,
): Promise<string[]> {
  const child = spawn(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seen: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4096);
  });
  const lines = createInterface({ input: child.stdout });
  const tail = () => `last lines:\n${seen.slice(-20).join('\n')}\n${stderr}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string[]>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`kubectl ${args.join(' ')}: not within ${timeoutMs} ms: ${what}; ${tail()}`)),
        timeoutMs,
      );
      lines.on('line', (line) => {
        if (seen.length < MAX_STREAM_LINES) seen.push(line);
        onLine?.(line);
        if (match(line)) resolve(seen);
      });
      child.on('exit', (code) =>
        reject(new Error(`kubectl ${args.join(' ')} ended (exit ${code}) before: ${what}; ${tail()}`)),
      );
    });
  } finally {
    clearTimeout(timer);
    lines.close();
    child.kill();
  }
}

/** The first log line of one container that `match` accepts (`kubectl logs -f`). */
export async function waitForLogLine(
  cluster: KubeCluster,
  target: { namespace: string; pod: string; container: string },
  what: string,
  match: (line: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const args = ['logs', '-f', '-n', target.namespace, target.pod, '-c', target.container];
  const lines = await streamUntil(
    cluster,
    args,
    `${target.pod}/${target.container}: ${what}`,
    match,
    timeoutMs,
  );
  return lines.at(-1)!;
}

/** NDJSON log lines of one container, parsed (lines that are not JSON are left out). */
export async function jsonLogs(
  cluster: KubeCluster,
  target: { namespace: string; pod: string; container: string },
): Promise<Record<string, unknown>[]> {
  const text = await kubectl(cluster, ['logs', '-n', target.namespace, target.pod, '-c', target.container]);
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** What a pod looks like when a wait fails: phase, container states and the namespace's events. */
export async function describePod(cluster: KubeCluster, namespace: string, pod: string): Promise<string> {
  const out = await kubectl(cluster, ['describe', 'pod', '-n', namespace, pod]).catch(
    (e: Error) => e.message,
  );
  return out.slice(-6000);
}

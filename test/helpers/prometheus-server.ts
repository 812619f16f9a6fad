import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { netnsHttp } from './netns-http.ts';

/** Readiness deadline: an empty TSDB and two SD configs start in ~1 s here. */
const START_DEADLINE_MS = 30_000;
/** Poll interval for readiness (Prometheus is another process: no event to await). */
const POLL_MS = 100;

/** Options for {@link PrometheusServer.start}. */
export interface PrometheusServerOptions {
  /** Path of the prometheus binary (`bash .ci/go-tool.sh bin prometheus`). */
  binary: string;
  /** prometheus.yml text; relative paths in it resolve against {@link PrometheusServer.dir}. */
  config: string;
  /** Other files for the config dir (rule files, scrape config files), by name. */
  files?: Record<string, string>;
  /** The network namespace to run in (the cluster's) and the address to listen on there. */
  network: { netns: string; host: string; port: number };
}

/** One alert as GET /api/v1/alerts lists it (pending or firing; resolved ones are absent). */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** One series of an instant-query result. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One target of GET /api/v1/targets. */
export interface PromTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/**
 * A real Prometheus server as a child process inside a network namespace (the Kubernetes e2e
 * cluster's, so it reaches the API server and the pods), with its config and TSDB in a temp dir
 * removed on stop. Stopped by its PID. Its HTTP API is reached with curl inside the same
 * namespace, as {@link MinioServer} does: the test process is not in it.
 */
export class PrometheusServer {
  readonly url: string;
  /** The config dir, also the TSDB's parent. */
  readonly dir: string;
  /** Everything Prometheus logged (stdout and stderr). */
  output = '';
  readonly #child: ChildProcess;
  readonly #netns: string;
  readonly #exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  private constructor(child: ChildProcess, dir: string, url: string, netns: string) {
    this.#child = child;
    this.dir = dir;
    this.url = url;
    this.#netns = netns;
    const collect = (d: Buffer) => {
      this.output = (this.output + d.toString('utf8')).slice(-256 * 1024);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.#exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.#exitCode = code;
        resolve(code);
      }),
    );
  }

  /** Writes the config, starts Prometheus and resolves once /-/ready answers 200. */
  static async start(opts: PrometheusServerOptions): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-prometheus-'));
    await writeFile(join(dir, 'prometheus.yml'), opts.config);
    for (const [name, text] of Object.entries(opts.files ?? {})) await writeFile(join(dir, name), text);
    const { netns, host, port } = opts.network;
    // nsenter execs Prometheus, so the child's PID is Prometheus's own. cwd is the config dir:
    // the server resolves rule_files and scrape_config_files against the config file's dir.
    const child = spawn(
      'nsenter',
      [
        `--net=${netns}`,
        '--',
        opts.binary,
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=${host}:${port}`,
        '--log.format=json',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } },
    );
    const server = new PrometheusServer(child, dir, `http://${host}:${port}`, netns);
    try {
      await server.#waitReady();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** An instant query (`time` in seconds since the epoch, default now); rejects on an API error. */
  async query(expr: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    return (await this.#api<{ resultType: string; result: PromSample[] }>(`/api/v1/query?${params}`)).result;
  }

  /** Alerts now pending or firing. */
  async alerts(): Promise<PromAlert[]> {
    return (await this.#api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts;
  }

  /** Active targets. */
  async targets(): Promise<PromTarget[]> {
    return (await this.#api<{ activeTargets: PromTarget[] }>('/api/v1/targets?state=active')).activeTargets;
  }

  /** The loaded alerting rules, with their health after the last evaluation. */
  async alertRules(): Promise<{ name: string; health: string; lastError?: string; query: string }[]> {
    const data = await this.#api<{
      groups: { rules: { name: string; health: string; lastError?: string; query: string }[] }[];
    }>('/api/v1/rules?type=alert');
    return data.groups.flatMap((g) => g.rules);
  }

  /** `version` of GET /api/v1/status/buildinfo. */
  async version(): Promise<string> {
    return (await this.#api<{ version: string }>('/api/v1/status/buildinfo')).version;
  }

  /** GET of an API path; the `data` of a `status: success` answer, else an error with the body. */
  async #api<T>(path: string): Promise<T> {
    const { status, body } = await this.#get(path);
    let parsed: { status?: string; data?: T; error?: string };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      throw new Error(`Prometheus ${path}: HTTP ${status}, not JSON: ${body.slice(0, 500)}`);
    }
    if (status !== 200 || parsed.status !== 'success')
      throw new Error(`Prometheus ${path}: HTTP ${status}: ${parsed.error ?? body.slice(0, 500)}`);
    return parsed.data as T;
  }

  async #get(path: string): Promise<{ status: number; body: string }> {
    return netnsHttp(this.#netns, `${this.url}${path}`, { timeoutMs: 10_000, maxBytes: 64 * 1024 * 1024 });
  }

  /** SIGTERM, then SIGKILL after 10 s; removes the config and data dir. */
  async stop(): Promise<void> {
    if (this.#exitCode === undefined && this.#child.pid !== undefined) {
      this.#child.kill('SIGTERM');
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(killer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + START_DEADLINE_MS;
    for (;;) {
      if (this.#exitCode !== undefined)
        throw new Error(
          `Prometheus exited during start-up (exit ${String(this.#exitCode)}):\n${this.output}`,
        );
      if (Date.now() > deadline)
        throw new Error(`Prometheus was not ready within ${START_DEADLINE_MS} ms:\n${this.output}`);
      const ready = await this.#get('/-/ready').then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return;
      await sleep(POLL_MS);
    }
  }
}

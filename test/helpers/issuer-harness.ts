// The issuer publisher in-process (startIssuerApp) against the fake API server, on a virtual
// clock: the refresh timers and the staleness limit move only when a test says so, while the HTTP
// calls (to the fake API and to the publisher) stay real.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadIssuerConfig } from '../../src/config/issuer-config.ts';
import { type RunningIssuer, startIssuerApp } from '../../src/issuer/issuer-app.ts';
import { createLogger } from '../../src/shared/log.ts';
import { FakeClusterIssuer } from '../fakes/fake-cluster-issuer.ts';
import { FakeKubeApi } from '../fakes/fake-kube-api.ts';
import { createSelfSignedCert } from './tls.ts';
import { VirtualClock } from './virtual-clock.ts';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface IssuerHarnessOptions {
  /** More flags, e.g. --issuer-url. */
  args?: string[];
  /** Default 60. */
  refreshIntervalSeconds?: number;
  /** Default 180. */
  maxStaleSeconds?: number;
  /** A CA key PEM to use (two publishers sharing one); default a new RSA-2048 key. */
  caKeyPem?: string;
  /** TLS pair of the publisher (e.g. the one RGW trusts); default a new self-signed one for 127.0.0.1. */
  tls?: { certPem: string; keyPem: string };
}

/** The publisher's serving pair, as files and as text. */
export interface TlsFiles {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

async function tlsFiles(
  dir: string,
  pair: { certPem: string; keyPem: string } | undefined,
): Promise<TlsFiles> {
  const tlsDir = await mkdtemp(join(dir, 'tls-'));
  if (pair === undefined) return createSelfSignedCert({ dir: tlsDir });
  const files = { ...pair, certFile: join(tlsDir, 'cert.pem'), keyFile: join(tlsDir, 'key.pem') };
  await writeFile(files.certFile, pair.certPem);
  await writeFile(files.keyFile, pair.keyPem, { mode: 0o600 });
  return files;
}

export class IssuerHarness {
  /** Every log line, parsed. */
  readonly lines: Record<string, unknown>[] = [];
  /** Every log line as written. */
  logText = '';

  readonly kube: FakeKubeApi;
  readonly cluster: FakeClusterIssuer;
  readonly clock = new VirtualClock(Date.UTC(2026, 5, 1));
  readonly tls: TlsFiles;
  readonly dir: string;
  readonly caKeyPem: string;
  running!: RunningIssuer;

  private constructor(parts: {
    kube: FakeKubeApi;
    cluster: FakeClusterIssuer;
    tls: TlsFiles;
    dir: string;
    caKeyPem: string;
  }) {
    this.kube = parts.kube;
    this.cluster = parts.cluster;
    this.tls = parts.tls;
    this.dir = parts.dir;
    this.caKeyPem = parts.caKeyPem;
  }

  static async start(t: TestContext, options: IssuerHarnessOptions = {}): Promise<IssuerHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'sts-issuer-'));
    const apiCert = await createSelfSignedCert({ dir: await mkdtemp(join(dir, 'api-')) });
    const kube = new FakeKubeApi(apiCert);
    await kube.start();
    const tls = await tlsFiles(dir, options.tls);
    const caKeyPem =
      options.caKeyPem ??
      (generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }) as string);
    await writeFile(join(dir, 'ca.key'), caKeyPem, { mode: 0o600 });
    const cluster = new FakeClusterIssuer(kube, { issuer: 'https://kubernetes.default.svc.cluster.local' });
    const h = new IssuerHarness({ kube, cluster, tls, dir, caKeyPem });
    t.after(() => h.close());
    const config = loadIssuerConfig(
      [
        `--tls-cert-file=${tls.certFile}`,
        `--tls-key-file=${tls.keyFile}`,
        `--ca-key-file=${join(dir, 'ca.key')}`,
        `--kubeconfig=${await kube.writeKubeconfig(dir)}`,
        '--listen-host=127.0.0.1',
        '--listen-port=0',
        '--ops-host=127.0.0.1',
        '--ops-port=0',
        '--drain-seconds=0',
        '--shutdown-grace-seconds=0',
        '--api-timeout-seconds=2',
        '--probe-namespace=sts-system',
        '--probe-service-account=sts-issuer',
        `--refresh-interval-seconds=${options.refreshIntervalSeconds ?? 60}`,
        `--max-stale-seconds=${options.maxStaleSeconds ?? 180}`,
        ...(options.args ?? []),
      ],
      {},
    );
    const logger = createLogger({
      level: 'debug',
      destination: {
        write: (text: string) => {
          h.logText += text;
          h.lines.push(JSON.parse(text) as Record<string, unknown>);
        },
      },
    });
    h.running = await startIssuerApp(config, logger, { clock: h.clock, tlsPollIntervalMs: 20 });
    return h;
  }

  get issuerUrl(): string {
    return `https://127.0.0.1:${this.running.issuerAddress.port}`;
  }

  /** One HTTPS request to the publisher, trusting its certificate (its own CA). */
  fetch(path: string, method = 'GET', ca: string = this.tls.certPem): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.issuerUrl}${path}`, { method, ca, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** GET on the ops listener (plain HTTP). */
  async ops(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.running.opsAddress.port}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** Count of refreshes with this result so far. */
  async refreshes(result: string): Promise<number> {
    const m = await this.running.metrics.refreshes.get();
    return m.values.find((v) => v.labels.result === result)?.value ?? 0;
  }

  /** Moves the virtual clock by `ms`, firing due refresh timers, and awaits what they started. */
  async advance(ms: number): Promise<void> {
    this.clock.advanceBy(ms);
    await this.running.refresher.settled();
  }

  async close(): Promise<void> {
    await this.running?.shutdown('test');
    await this.kube.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

// The built `sts-sidecar issuer` as a child process, configured by env only, as the chart runs it.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import { type LogLine, LogLines } from './log-lines.ts';
import { BUNDLE } from './sidecar-process.ts';

export class IssuerProcess {
  readonly child: ChildProcess;
  readonly #log = new LogLines();
  readonly lines: LogLine[] = this.#log.all;
  /** Everything written to stdout and stderr, as written: what a log search must look through. */
  output = '';
  readonly exited: Promise<number | null>;
  issuerPort = 0;
  opsPort = 0;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString('utf8')));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      this.output += `${text}\n`;
      this.#log.push(text);
    });
    this.exited = new Promise((resolve) => child.on('exit', resolve));
  }

  /** Spawns `issuer` with `env` (plus PATH) and waits for its `listening` line. */
  static async start(env: NodeJS.ProcessEnv): Promise<IssuerProcess> {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build (npm test does)`);
    const child = spawn(process.execPath, [BUNDLE, 'issuer'], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new IssuerProcess(child);
    const listening = await p.waitFor((l) => l.event === 'listening');
    p.issuerPort = Number(listening.issuerPort);
    p.opsPort = Number(listening.opsPort);
    return p;
  }

  /** The first line (seen or to come) matching `predicate`; rejects if the process exits first. */
  waitFor(predicate: (l: LogLine) => boolean): Promise<LogLine> {
    return this.#log.waitFor(predicate, this.exited, (code) => `the issuer exited (${code}): ${this.output}`);
  }

  /** GET over HTTPS, trusting `ca`. */
  get(path: string, ca: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`https://127.0.0.1:${this.issuerPort}${path}`, { ca, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  async ops(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

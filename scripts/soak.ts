// `npm run soak`: the built sidecar against the fake STS with short-lived credentials, through
// at least SOAK_CYCLES refresh cycles, under a random schedule of every STS fault the fake knows,
// kubelet-style token rotations (some to broken tokens), wall-clock jumps of the sidecar (a clock
// shim, scripts/soak/clock-shim.ts) and a store clock running ahead, while clients poll.
// Asserts, and prints:
//   - 0 credentials served with < 60 s left by the store's clock (every 200 any client got);
//   - STS calls per refresh cycle; recovery time after each fault, by fault;
//   - RSS and heap flat (last quarter vs first quarter of the run);
//   - 0 secrets (STS keys and session tokens, web identity tokens, the endpoint auth token) in any
//     log line.
// Exit 0 when every assertion holds, 1 otherwise. Writes soak-results.json and the soak block of
// docs/performance.md (doc-blocks.ts).
// Knobs (env): SOAK_SIDECARS (2, each its own fake STS and token volume), SOAK_CYCLES (200 in
// total), SOAK_SEED (13), SOAK_MAX_SECONDS (600, a safety stop).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { StsFault } from '../test/fakes/fake-sts.ts';
import { SidecarProcess } from '../test/helpers/sidecar-process.ts';
import { seededRandom } from '../test/helpers/seeded-random.ts';
import { machineLine, markdownTable, writeResultsBlock } from './doc-blocks.ts';

const SIDECARS = Number(process.env.SOAK_SIDECARS) || 2;
const CYCLES = Number(process.env.SOAK_CYCLES) || 200;
const SEED = Number(process.env.SOAK_SEED) || 13;
const MAX_MS = (Number(process.env.SOAK_MAX_SECONDS) || 600) * 1000;
const ROOT = new URL('..', import.meta.url).pathname;
const SHIM = new URL('./soak/clock-shim.ts', import.meta.url).pathname;
const RESULTS_FILE = join(ROOT, 'soak-results.json');

/** What the fake issues: short, so serving runs close to the 60 s margin all the time. */
const LIFETIME_SECONDS = 70;
/** The store's clock runs this far ahead of the node's. */
const STORE_AHEAD_MS = 45_000;
const MIN_REMAINING_MS = 60_000;

/** Every fault the fake knows, with how many requests in a row it hits. */
const FAULTS: Array<{ name: string; fault: StsFault; times: [number, number] }> = [
  { name: 'http500', fault: 'http500', times: [1, 3] },
  { name: 'http503', fault: 'http503', times: [1, 3] },
  { name: 'throttle', fault: 'throttle', times: [1, 3] },
  { name: 'hang', fault: 'hang', times: [1, 2] },
  { name: 'reset', fault: 'reset', times: [1, 3] },
  { name: 'html', fault: 'html', times: [1, 2] },
  { name: 'html200', fault: 'html200', times: [1, 2] },
  { name: 'truncated', fault: 'truncated', times: [1, 2] },
  { name: 'expired', fault: 'expired', times: [1, 2] },
  { name: 'huge200', fault: 'huge200', times: [1, 1] },
  // Permanent refusals: the sidecar waits for the next token rotation.
  { name: 'echo-token', fault: 'echo-token', times: [1, 1] },
  { name: 'AccessDenied', fault: { code: 'AccessDenied', status: 403 }, times: [1, 1] },
];

const random = seededRandom(SEED);
const between = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
};

interface Sample {
  at: number;
  rssMiB: number;
  heapMiB: number;
}

/** One sidecar under soak with its own fake STS, token volume and clock file. */
class Subject {
  readonly secrets = new Set<string>();
  readonly samples: Sample[] = [];
  readonly recoveries = new Map<string, number[]>();
  okExchanges = 0;
  served = 0;
  servedTooLate = 0;
  unavailable = 0;
  clockJumps = 0;
  rotations = { good: 0, broken: 0 };
  /** An open fault episode: its kind and when it started; closed by the next issued credentials. */
  #episode: { name: string; startedAt: number } | undefined;
  readonly #clockOffsetFile: string;
  #clockOffsetMs = 0;

  readonly p: SidecarProcess;
  readonly dir: string;

  private constructor(p: SidecarProcess, dir: string) {
    this.p = p;
    this.dir = dir;
    this.#clockOffsetFile = join(dir, 'clock-offset');
    p.sts.on(
      'request',
      (rec: {
        outcome: string;
        params: Record<string, string>;
        issued?: { secretAccessKey: string; sessionToken: string };
      }) => {
        if (rec.params.WebIdentityToken) this.secrets.add(rec.params.WebIdentityToken);
        if (rec.issued) {
          this.secrets.add(rec.issued.secretAccessKey);
          this.secrets.add(rec.issued.sessionToken);
        }
        if (rec.outcome !== 'ok') return;
        this.okExchanges += 1;
        if (this.#episode) {
          const list = this.recoveries.get(this.#episode.name) ?? [];
          list.push(Date.now() - this.#episode.startedAt);
          this.recoveries.set(this.#episode.name, list);
          this.#episode = undefined;
        }
      },
    );
  }

  static async start(): Promise<Subject> {
    const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-soak-'));
    writeFileSync(join(dir, 'clock-offset'), '0');
    const p = await SidecarProcess.start({
      nodeArgs: ['--import', SHIM],
      sts: { credentialLifetimeSeconds: LIFETIME_SECONDS, clockSkewMs: STORE_AHEAD_MS },
      env: {
        SOAK_CLOCK_FILE: join(dir, 'clock-offset'),
        STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS: '1',
        STS_SIDECAR_STS_TIMEOUT_SECONDS: '1',
        STS_SIDECAR_DURATION_SECONDS: '900',
      },
    });
    const subject = new Subject(p, dir);
    subject.secrets.add(await p.authToken());
    await p.ready();
    return subject;
  }

  get idle(): boolean {
    return this.#episode === undefined;
  }

  injectFault(): void {
    const f = pick(FAULTS);
    this.#episode = { name: f.name, startedAt: Date.now() };
    this.p.sts.injectFault(f.fault, { times: between(...f.times) });
  }

  async rotate(): Promise<void> {
    // Broken rotations only between fault episodes, so each recovery time has one cause.
    if (this.idle && random() < 0.25) {
      this.rotations.broken += 1;
      const broken = pick([
        () => this.p.rotateToken({ audience: 'not-the-store' }),
        () => this.p.rotateToken({ signWith: 'other-key' }),
        async () => {
          const garbage = 'not-a-jwt';
          await this.p.volume.write(garbage);
          return garbage;
        },
      ]);
      const token = await broken();
      this.secrets.add(token);
      // Only the next good rotation can end it; recovery is measured from the broken one.
      this.#episode = { name: 'broken-token', startedAt: Date.now() };
      return;
    }
    this.rotations.good += 1;
    this.secrets.add(await this.p.rotateToken());
  }

  /**
   * Moves the sidecar's wall clock by a random step of 10-60 s either way, keeping it between
   * 60 s behind and 5 s ahead of the truth: a node clock further ahead than lifetime - 60 s
   * (10 s here) rightly refuses every 70 s credential (STS_EXPIRED_CREDENTIALS), which would
   * turn the soak into an outage.
   */
  jumpClock(): void {
    const step = (random() < 0.5 ? -1 : 1) * between(10, 60) * 1000;
    this.#clockOffsetMs = Math.max(-60_000, Math.min(5_000, this.#clockOffsetMs + step));
    writeFileSync(this.#clockOffsetFile, String(this.#clockOffsetMs));
    this.p.child.kill('SIGUSR2');
    this.clockJumps += 1;
  }

  /** One client request; a new connection when `fresh`. Checks what is served by the store's clock. */
  async poll(fresh: boolean): Promise<void> {
    const token = await this.p.authToken();
    const res = await fetch(this.p.credentialsUrl, {
      headers: { authorization: token, ...(fresh ? { connection: 'close' } : {}) },
    });
    const body = (await res.json()) as { Expiration?: string };
    const storeNow = this.p.sts.storeNow();
    if (res.status === 503) {
      this.unavailable += 1;
      return;
    }
    if (res.status !== 200) throw new Error(`unexpected status ${res.status}`);
    this.served += 1;
    if (Date.parse(body.Expiration!) - storeNow < MIN_REMAINING_MS) this.servedTooLate += 1;
  }

  async sample(): Promise<void> {
    const status = readFileSync(`/proc/${this.p.child.pid}/status`, 'utf8');
    const rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
    const metrics = await (await fetch(`${this.p.opsUrl}/metrics`)).text();
    const heapMiB = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1]) / 1048576;
    this.samples.push({ at: Date.now(), rssMiB, heapMiB });
  }

  logText(): string {
    return `${this.p.lines.map((l) => JSON.stringify(l)).join('\n')}\n${this.p.stderr}`;
  }

  async close(): Promise<void> {
    await this.p.stop();
    await this.p.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Runs `fn` every `ms` until stopped; errors are collected, not thrown. */
function every(ms: number, fn: () => Promise<void> | void, errors: string[]): () => void {
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        await fn();
      } catch (error) {
        errors.push(String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}

const started = Date.now();
const subjects = await Promise.all(Array.from({ length: SIDECARS }, () => Subject.start()));
const errors: string[] = [];
const stops: Array<() => void> = [];
for (const s of subjects) {
  stops.push(every(50, () => s.poll(false), errors));
  stops.push(every(400, () => s.poll(true), errors));
  stops.push(every(2_000, () => s.sample(), errors));
  stops.push(every(2_000, () => (s.idle && random() < 0.5 ? s.injectFault() : undefined), errors));
  stops.push(every(4_000, () => s.rotate(), errors));
  stops.push(every(7_000, () => s.jumpClock(), errors));
}
const total = (): number => subjects.reduce((n, s) => n + s.okExchanges, 0);
let lastReport = 0;
while (total() < CYCLES && Date.now() - started < MAX_MS) {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  if (Date.now() - lastReport > 15_000) {
    lastReport = Date.now();
    process.stderr.write(
      `soak: ${total()}/${CYCLES} refresh cycles after ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
  }
}
for (const stop of stops) stop();
await Promise.all(subjects.map((s) => s.sample()));

// ---- figures and assertions --------------------------------------------------------------
const failures: string[] = [];
const stsCalls = subjects.reduce((n, s) => n + s.p.sts.requests.length, 0);
const cycles = total();
if (cycles < CYCLES) failures.push(`only ${cycles} refresh cycles within ${MAX_MS / 1000} s`);
const servedTooLate = subjects.reduce((n, s) => n + s.servedTooLate, 0);
if (servedTooLate > 0)
  failures.push(`${servedTooLate} responses served credentials with < 60 s left by the store's clock`);
const leaks: string[] = [];
for (const [i, s] of subjects.entries()) {
  const text = s.logText();
  for (const secret of s.secrets)
    if (secret.length >= 8 && text.includes(secret)) leaks.push(`sidecar ${i}: ${secret.slice(0, 4)}…`);
}
if (leaks.length > 0) failures.push(`secrets in logs: ${leaks.join(', ')}`);
const recoveries = new Map<string, number[]>();
for (const s of subjects)
  for (const [name, ms] of s.recoveries) recoveries.set(name, [...(recoveries.get(name) ?? []), ...ms]);
const memory = subjects.map((s, i) => {
  const q = Math.max(1, Math.floor(s.samples.length / 4));
  const first = s.samples.slice(1, q + 1);
  const last = s.samples.slice(-q);
  const figures = {
    sidecar: i,
    rssFirstMiB: Number(median(first.map((x) => x.rssMiB)).toFixed(1)),
    rssLastMiB: Number(median(last.map((x) => x.rssMiB)).toFixed(1)),
    heapFirstMiB: Number(median(first.map((x) => x.heapMiB)).toFixed(1)),
    heapLastMiB: Number(median(last.map((x) => x.heapMiB)).toFixed(1)),
  };
  // Flat: no more than 10 MiB of RSS or 5 MiB of heap growth from the first to the last quarter.
  if (figures.rssLastMiB - figures.rssFirstMiB > 10)
    failures.push(`sidecar ${i}: RSS grew ${figures.rssFirstMiB} -> ${figures.rssLastMiB} MiB`);
  if (figures.heapLastMiB - figures.heapFirstMiB > 5)
    failures.push(`sidecar ${i}: heap grew ${figures.heapFirstMiB} -> ${figures.heapLastMiB} MiB`);
  return figures;
});
if (errors.length > 0) failures.push(`${errors.length} client/driver errors, first: ${errors[0]}`);

const results = {
  sidecars: SIDECARS,
  seed: SEED,
  wallSeconds: Math.round((Date.now() - started) / 1000),
  credentialLifetimeSeconds: LIFETIME_SECONDS,
  storeClockAheadSeconds: STORE_AHEAD_MS / 1000,
  refreshCycles: cycles,
  stsCalls,
  stsCallsPerCycle: Number((stsCalls / cycles).toFixed(2)),
  clientRequests: subjects.reduce((n, s) => n + s.served + s.unavailable, 0),
  served200: subjects.reduce((n, s) => n + s.served, 0),
  served503: subjects.reduce((n, s) => n + s.unavailable, 0),
  servedWithUnder60sByStoreClock: servedTooLate,
  clockJumps: subjects.reduce((n, s) => n + s.clockJumps, 0),
  rotations: {
    good: subjects.reduce((n, s) => n + s.rotations.good, 0),
    broken: subjects.reduce((n, s) => n + s.rotations.broken, 0),
  },
  recoveryMs: Object.fromEntries(
    [...recoveries]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, ms]) => [name, { n: ms.length, median: median(ms), max: Math.max(...ms) }]),
  ),
  memory,
  secretsChecked: subjects.reduce((n, s) => n + s.secrets.size, 0),
  secretsInLogs: leaks.length,
  failures,
};
await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
await Promise.all(subjects.map((s) => s.close()));
console.log(JSON.stringify(results, null, 2));
console.log(failures.length === 0 ? 'soak: PASS' : `soak: FAIL\n  ${failures.join('\n  ')}`);
writeResultsBlock('soak', soakBlock(results));
process.exitCode = failures.length === 0 ? 0 : 1;

/** The soak block of docs/performance.md: the figures above as a table, with the verdict. */
function soakBlock(r: typeof results): string {
  const n = (x: number): string => x.toLocaleString('en-US').replace(/,/g, ' ');
  const s1 = (ms: number): string => (ms / 1000).toFixed(1);
  const recovery = Object.entries(r.recoveryMs)
    .map(([name, x]) => `${name} ${s1(x.median)} / ${s1(x.max)} s (${x.n})`)
    .join(', ');
  const memory = r.memory
    .map(
      (m) =>
        `sidecar ${m.sidecar}: ${m.rssFirstMiB} → ${m.rssLastMiB} MiB, ${m.heapFirstMiB} → ${m.heapLastMiB} MiB`,
    )
    .join('; ');
  return [
    `### Results of ${new Date().toISOString()}: ${r.failures.length === 0 ? '**PASS**' : `**FAIL** (${r.failures.join('; ')})`}`,
    '',
    `Machine: ${machineLine()}. ${r.sidecars} sidecars, seed ${r.seed}, ${r.wallSeconds} s.`,
    '',
    markdownTable(
      ['figure', 'result'],
      [
        [
          "credentials served with < 60 s left by the store's clock",
          `**${n(r.servedWithUnder60sByStoreClock)}** of ${n(r.served200)} 200s (${n(r.served503)} 503s, during faults)`,
        ],
        [
          'STS calls per refresh cycle',
          `${r.stsCallsPerCycle} (${n(r.stsCalls)} calls, ${n(r.refreshCycles)} cycles, ${r.clockJumps} clock jumps, ${r.rotations.good} good and ${r.rotations.broken} broken rotations)`,
        ],
        ['recovery after a fault: median / max (episodes)', recovery],
        [
          'RSS, heap: first vs last quarter',
          `${memory} (the clock shim loads Node's TypeScript stripper: RSS is not comparable with the bench)`,
        ],
        [
          'secrets in log lines',
          `**${r.secretsInLogs}** (${n(r.secretsChecked)} keys, session tokens, web identity tokens and auth tokens checked)`,
        ],
      ],
    ),
  ].join('\n');
}

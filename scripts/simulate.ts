// `npm run simulate`: the real RefreshScheduler, CredentialStore and refresh policy for a fleet of
// 10 000 pods on a virtual clock (scripts/simulate/heap-clock.ts), against an STS modelled as a
// function: 50 ms per call, credentials of exactly DurationSeconds, or a 503 during an outage.
// Scenarios:
//   steady-3600 / steady-900  pods started at random over the first lifetime; measured hours 3-9
//   rollout                   steady-3600, then 2 000 pods replaced within one minute at 4 h
//   outage                    steady-3600, then STS down 30 min from 4 h; measured to 10 h
// Figures: STS calls per pod per hour, peak-to-mean of the per-minute STS rate, the peak after
// the outage against its bound, recovery time, pods left without servable credentials.
// Knobs (env): SIM_PODS (10000), SIM_SEED (7). Writes simulate-results.json and the simulate block
// of docs/performance.md (doc-blocks.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CredentialStore } from '../src/credentials/credential-store.ts';
import type { Credentials } from '../src/credentials/credentials.ts';
import { RefreshScheduler } from '../src/credentials/refresh-scheduler.ts';
import { SidecarError } from '../src/shared/errors.ts';
import { HeapClock } from './simulate/heap-clock.ts';
import { seededRandom } from '../test/helpers/seeded-random.ts';
import { machineLine, markdownTable, writeResultsBlock } from './doc-blocks.ts';

const PODS = Number(process.env.SIM_PODS) || 10_000;
const SEED = Number(process.env.SIM_SEED) || 7;
const MIN = 60_000;
const HOUR = 3_600_000;
const STS_LATENCY_MS = 50;
/** Steady fleet at DurationSeconds 3600: refreshes at half the lifetime are 2 a pod an hour. */
const TARGET_CALLS_PER_POD_HOUR = 2.2;
/** Steady fleet: the busiest minute against the mean, i.e. how evenly jitter spreads refreshes. */
const TARGET_PEAK_TO_MEAN = 1.5;
// Wake-ups exist to notice wall-clock jumps (there are none here) and never move a planned
// refresh (test/unit/timers.test.ts); a long slice keeps 10 000 schedulers fast to simulate.
const WAKE_INTERVAL_MS = 15 * MIN;
const RESULTS_FILE = join(new URL('..', import.meta.url).pathname, 'simulate-results.json');

interface Pod {
  store: CredentialStore;
  scheduler: RefreshScheduler<{ credentials: Credentials }>;
}

/** One simulated fleet: a clock, an STS with a call log, pods. */
class Fleet {
  readonly clock = new HeapClock(Date.UTC(2026, 0, 1));
  readonly t0 = this.clock.now();
  /** STS calls by minute since t0. */
  readonly callsByMinute: number[] = [];
  readonly pods: Pod[] = [];
  down: { from: number; to: number } | undefined;
  /** Pods whose last exchange failed. */
  readonly failing = new Set<Pod>();
  /** When the last failing pod got credentials again (virtual ms). */
  lastRecoveryAt = 0;
  readonly durationSeconds: number;
  readonly #random: () => number;

  constructor(durationSeconds: number, seed: number) {
    this.durationSeconds = durationSeconds;
    this.#random = seededRandom(seed);
  }

  /** Starts a pod at virtual instant `at` (ms since t0). */
  startPodAt(at: number): Pod {
    const { clock } = this;
    const store = new CredentialStore({ now: () => clock.now() });
    const scheduler = new RefreshScheduler<{ credentials: Credentials }>({
      attempt: () => this.#sts(),
      store,
      clock,
      random: this.#random,
      maxLifetimeMs: this.durationSeconds * 1000,
      wakeIntervalMs: WAKE_INTERVAL_MS,
    });
    const pod = { store, scheduler };
    this.pods.push(pod);
    scheduler.on('outcome', (outcome) => {
      if (!outcome.ok) this.failing.add(pod);
      else if (this.failing.delete(pod)) this.lastRecoveryAt = clock.now();
    });
    clock.setTimer(() => void scheduler.start(), this.t0 + at - clock.now());
    return pod;
  }

  async #sts(): Promise<{ credentials: Credentials }> {
    const minute = Math.floor((this.clock.now() - this.t0) / MIN);
    this.callsByMinute[minute] = (this.callsByMinute[minute] ?? 0) + 1;
    await this.clock.delay(STS_LATENCY_MS);
    const now = this.clock.now() - this.t0;
    if (this.down && now >= this.down.from && now < this.down.to)
      throw new SidecarError('STS_SERVER_ERROR', 'simulated outage');
    return {
      credentials: {
        accessKeyId: 'AKIDSIM',
        secretAccessKey: 'simulated',
        sessionToken: 'simulated',
        expiration: new Date(this.clock.now() + this.durationSeconds * 1000),
      },
    };
  }

  run(until: number): Promise<void> {
    return this.clock.runUntil(this.t0 + until);
  }

  /** Calls per minute over [from, to) (ms since t0). */
  minutes(from: number, to: number): number[] {
    const out: number[] = [];
    for (let m = from / MIN; m < to / MIN; m++) out.push(this.callsByMinute[m] ?? 0);
    return out;
  }

  /** Pods whose credentials are not servable now. */
  unservable(): number {
    return this.pods.filter((p) => p.store.servable() === undefined).length;
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

function rateFigures(calls: number[], pods: number): Record<string, number> {
  const mean = sum(calls) / calls.length;
  return {
    callsPerPodPerHour: round((sum(calls) / pods / calls.length) * 60),
    meanPerMinute: round(mean, 1),
    peakPerMinute: Math.max(...calls),
    peakToMean: round(Math.max(...calls) / mean),
  };
}

/** Pods started at random over the first lifetime: a fleet that has been running a while. */
function steadyFleet(durationSeconds: number, seed: number): Fleet {
  const fleet = new Fleet(durationSeconds, seed);
  const spread = seededRandom(seed + 1);
  for (let i = 0; i < PODS; i++) fleet.startPodAt(spread() * durationSeconds * 1000);
  return fleet;
}

async function steady(durationSeconds: number): Promise<Record<string, number>> {
  const fleet = steadyFleet(durationSeconds, SEED);
  await fleet.run(9 * HOUR);
  return { pods: PODS, durationSeconds, ...rateFigures(fleet.minutes(3 * HOUR, 9 * HOUR), PODS) };
}

async function rollout(): Promise<Record<string, number>> {
  const replaced = Math.round(PODS / 5);
  const fleet = steadyFleet(3600, SEED);
  await fleet.run(4 * HOUR);
  const spread = seededRandom(SEED + 2);
  for (const pod of fleet.pods.slice(0, replaced)) void pod.scheduler.stop();
  for (let i = 0; i < replaced; i++) fleet.startPodAt(4 * HOUR + spread() * MIN);
  await fleet.run(10 * HOUR);
  const during = fleet.minutes(4 * HOUR, 4 * HOUR + MIN)[0]!;
  const echoes = rateFigures(fleet.minutes(4 * HOUR + 2 * MIN, 10 * HOUR), PODS);
  return {
    podsStarted: replaced,
    callsInRolloutMinute: during,
    echoPeakPerMinute: echoes.peakPerMinute!,
    echoPeakToMean: echoes.peakToMean!,
    callsPerPodPerHourAfter: echoes.callsPerPodPerHour!,
  };
}

async function outage(): Promise<Record<string, number>> {
  const fleet = steadyFleet(3600, SEED);
  const from = 4 * HOUR;
  const to = from + 30 * MIN;
  fleet.down = { from, to };
  let maxUnservable = 0;
  for (let at = 0; at < to; at += MIN) {
    await fleet.run(at);
    if (at >= from) maxUnservable = Math.max(maxUnservable, fleet.unservable());
  }
  await fleet.run(to);
  const inBackoff = fleet.failing.size;
  await fleet.run(10 * HOUR);
  const baseline = rateFigures(fleet.minutes(2 * HOUR, from), PODS);
  const after = fleet.minutes(to, to + 2 * MIN);
  const echoes = rateFigures(fleet.minutes(to + 2 * MIN, 10 * HOUR), PODS);
  return {
    outageMinutes: 30,
    callsPerMinuteBefore: baseline.meanPerMinute!,
    callsPerPodPerHourDuring: round((sum(fleet.minutes(from, to)) / PODS) * 2),
    maxPodsWithoutCredentials: maxUnservable,
    podsInBackoffAtRecovery: inBackoff,
    peakPerMinuteAfter: Math.max(...after),
    // Full-jitter backoff is capped at BACKOFF_CAP_MS (60 s): each pod in backoff has exactly one
    // retry pending within 60 s of recovery, and it succeeds. So the first minute after sees at
    // most one call per pod in backoff plus a minute of ordinary refreshes.
    boundPerMinuteAfter: inBackoff + baseline.peakPerMinute!,
    recoveredAfterSeconds: round((fleet.lastRecoveryAt - fleet.t0 - to) / 1000, 1),
    echoPeakToMean: echoes.peakToMean!,
  };
}

const started = performance.now();
const results = {
  pods: PODS,
  seed: SEED,
  steady3600: await steady(3600),
  steady900: await steady(900),
  rollout: await rollout(),
  outage: await outage(),
};
writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
const wallSeconds = (performance.now() - started) / 1000;
console.log(`simulated in ${wallSeconds.toFixed(1)} s of wall time`);
writeResultsBlock('simulate', simulateBlock(results, wallSeconds));

/** The simulate block of docs/performance.md: the figures above as a table, with verdicts. */
function simulateBlock(r: typeof results, seconds: number): string {
  const n = (x: number | undefined): string => (x ?? Number.NaN).toLocaleString('en-US').replace(/,/g, ' ');
  const verdict = (ok: boolean): string => (ok ? '**PASS**' : '**MISS**');
  const { steady3600: a, steady900: b, rollout: c, outage: d } = r;
  return [
    `### Results of ${new Date().toISOString()}`,
    '',
    `Machine: ${machineLine()}. ${n(r.pods)} pods, seed ${r.seed}, ${seconds.toFixed(0)} s of wall time.`,
    '',
    markdownTable(
      ['scenario', 'figure', 'result', 'target'],
      [
        [
          `steady, DurationSeconds ${a.durationSeconds}`,
          'STS calls per pod per hour',
          String(a.callsPerPodPerHour),
          `≤ ${TARGET_CALLS_PER_POD_HOUR} ${verdict(a.callsPerPodPerHour! <= TARGET_CALLS_PER_POD_HOUR)}`,
        ],
        [
          '',
          'peak-to-mean STS rate per minute',
          `${a.peakToMean} (${n(a.peakPerMinute)} vs ${n(a.meanPerMinute)})`,
          `≤ ${TARGET_PEAK_TO_MEAN} ${verdict(a.peakToMean! <= TARGET_PEAK_TO_MEAN)}`,
        ],
        [
          `steady, DurationSeconds ${b.durationSeconds}`,
          'calls per pod per hour; peak-to-mean',
          `${b.callsPerPodPerHour}; ${b.peakToMean}`,
          '',
        ],
        [
          `${n(c.podsStarted)} pods started in one minute`,
          'calls in that minute; echo peak-to-mean over the next 6 h',
          `${n(c.callsInRolloutMinute)}; ${c.echoPeakToMean}`,
          '',
        ],
        [
          `STS down ${d.outageMinutes} min, then back`,
          'peak in the minute after; bound (pods in backoff + steady peak)',
          `${n(d.peakPerMinuteAfter)}; ${n(d.boundPerMinuteAfter)} (${n(d.podsInBackoffAtRecovery)} + ${n(d.boundPerMinuteAfter! - d.podsInBackoffAtRecovery!)})`,
          `bounded ${verdict(d.peakPerMinuteAfter! <= d.boundPerMinuteAfter!)}`,
        ],
        [
          '',
          'pods left without servable credentials at worst; all recovered after',
          `${n(d.maxPodsWithoutCredentials)}; ${d.recoveredAfterSeconds} s`,
          '',
        ],
        ['', 'echo peak-to-mean over the next 5.5 h', String(d.echoPeakToMean), ''],
      ],
    ),
  ].join('\n');
}

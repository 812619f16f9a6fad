// /proc readers and small statistics helpers for `npm run bench` (Linux only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

let clockTicks: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on every common kernel). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a whole process (all threads), in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicksPerSecond();
}

export interface MemoryStatus {
  vmRssMiB: number;
  vmHwmMiB: number;
  rssAnonMiB: number;
  rssFileMiB: number;
}

/** VmRSS and friends from /proc/<pid>/status, in MiB. */
export function memoryStatus(pid: number): MemoryStatus {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  };
  return {
    vmRssMiB: kib('VmRSS'),
    vmHwmMiB: kib('VmHWM'),
    rssAnonMiB: kib('RssAnon'),
    rssFileMiB: kib('RssFile'),
  };
}

/**
 * Per-CPU jiffies from /proc/stat: total (without guest, which user already counts), steal, and
 * busy (user + nice + system + irq + softirq).
 */
export type CpuTimes = Map<string, { total: number; steal: number; busy: number }>;

export function readCpuTimes(): CpuTimes {
  const times: CpuTimes = new Map();
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      if (!line.startsWith('cpu')) continue;
      const [name, ...rest] = line.trim().split(/\s+/);
      const v = rest.map(Number);
      const first8 = v.slice(0, 8);
      const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = first8;
      times.set(name!, {
        total: first8.reduce((a, b) => a + b, 0),
        steal,
        busy: user + nice + system + irq + softirq,
      });
    }
  } catch {
    // Not Linux: no steal figures.
  }
  return times;
}

/** Steal % per CPU ("cpu" = all CPUs) between two readings. */
export function stealPercent(before: CpuTimes, after: CpuTimes): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, a] of after) {
    const b = before.get(name);
    if (!b || a.total === b.total) continue;
    out[name] = (100 * (a.steal - b.steal)) / (a.total - b.total);
  }
  return out;
}

/**
 * CPU time other processes used on `cpu` between two readings, as % of that CPU's time:
 * the CPU's busy time minus `ownMicros` (what the process pinned there used).
 */
export function foreignLoadPercent(
  before: CpuTimes,
  after: CpuTimes,
  cpu: string,
  ownMicros: number,
): number {
  const a = after.get(cpu);
  const b = before.get(cpu);
  if (!a || !b || a.total === b.total) return Number.NaN;
  const toMicros = 1e6 / clockTicksPerSecond();
  const busy = (a.busy - b.busy) * toMicros;
  return Math.max(0, (100 * (busy - ownMicros)) / ((a.total - b.total) * toMicros));
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  date: string;
  pinning: string;
}

export function machineInfo(pinning: string): MachineInfo {
  let kernel: string;
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    kernel = process.platform;
  }
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel,
    node: process.version,
    date: new Date().toISOString(),
    pinning,
  };
}

/** Whether `taskset` works here (util-linux); the bench runs unpinned without it. */
export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins every thread of `pid` to `cpu` (threads created later inherit it). */
export function pin(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

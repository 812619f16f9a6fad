import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCheck } from '../../src/check/check-app.ts';
import type { CheckReport, StepResult } from '../../src/check/check-step.ts';
import { BUNDLE } from './sidecar-process.ts';

/** One run of `sts-sidecar check`: exit code, both streams, and the report when --json was given. */
export interface CheckRun {
  code: number | null;
  stdout: string;
  stderr: string;
  report: CheckReport | undefined;
}

function withReport(run: Omit<CheckRun, 'report'>, args: readonly string[]): CheckRun {
  const json = args.includes('--json');
  return { ...run, report: json && run.stdout !== '' ? (JSON.parse(run.stdout) as CheckReport) : undefined };
}

/** The built CLI as a child process, env only as given (plus PATH), the way an operator runs it. */
export function runCheckCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CheckRun> {
  assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE, 'check', ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve(withReport({ code, stdout, stderr }, args)));
  });
}

/** The same command in this process (src/, so the coverage gate sees it), output collected. */
export async function runCheckInProcess(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CheckRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCheck(args, env, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return withReport({ code, stdout, stderr }, args);
}

/**
 * Runs the check both ways with `--json`, asserts that they agree on the exit code and on every
 * step's status and code, and returns the CLI's run.
 */
export async function runCheckBoth(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CheckRun> {
  const all = [...args, '--json'];
  const [cli, local] = await Promise.all([runCheckCli(all, env), runCheckInProcess(all, env)]);
  const shape = (r: CheckRun) => r.report?.steps.map((s) => `${s.step}:${s.status}:${s.code}`);
  assert.equal(cli.code, local.code, `exit codes differ; CLI stderr: ${cli.stderr}`);
  assert.deepEqual(shape(cli), shape(local), 'the CLI and the in-process run saw different chains');
  return cli;
}

/** The step named `name` of a report (fails the test when it is missing). */
export function stepOf(run: CheckRun, name: string): StepResult {
  const step = run.report?.steps.find((s) => s.step === name);
  assert.ok(step, `no ${name} step in ${run.stdout}${run.stderr}`);
  return step;
}

/**
 * Asserts the run stopped at `step` with `code`: exit 1, that step failed, every later step
 * skipped as not run, every earlier one passed (ok, warn or skip).
 */
export function assertBrokenAt(run: CheckRun, step: string, code: string): StepResult {
  assert.equal(run.code, 1, `exit code; stdout: ${run.stdout}\nstderr: ${run.stderr}`);
  const report = run.report!;
  assert.equal(report.ok, false);
  assert.equal(report.firstFailure?.step, step, JSON.stringify(report.firstFailure));
  assert.equal(report.firstFailure?.code, code, report.firstFailure?.message);
  const at = report.steps.findIndex((s) => s.step === step);
  for (const s of report.steps.slice(0, at)) assert.notEqual(s.status, 'fail', s.step);
  for (const s of report.steps.slice(at + 1)) {
    assert.equal(s.status, 'skip', s.step);
    assert.equal(s.message, `not run: ${step} failed`);
  }
  return report.firstFailure!;
}

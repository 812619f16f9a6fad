import { type ErrorCode, hintOf, isSidecarError } from '../shared/errors.ts';

/** The links of the chain, in the order they are checked; `config` only reports a bad configuration. */
export const STEP_NAMES = ['token', 'audience', 'issuer', 'jwks', 'x5c', 'sts', 'clock', 'exchange'] as const;
export type StepName = (typeof STEP_NAMES)[number] | 'config';

/**
 * - `ok`: the link holds;
 * - `warn`: it holds, but something is off (the check still passes);
 * - `fail`: the link is broken; later steps do not run;
 * - `skip`: not checked (not needed for this flavor, switched off, or an earlier step failed).
 */
export type StepStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** Non-secret facts a step saw: URLs, claims, key ids, numbers. Never a token or a key. */
export type StepDetails = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/** One line of the report (and one entry of `--json`'s `steps`). */
export interface StepResult {
  readonly step: StepName;
  readonly status: StepStatus;
  /** Our error code for `fail` and `warn`; null for `ok` and `skip`. */
  readonly code: ErrorCode | null;
  /** What was seen, naming the file, URL, claim or key. */
  readonly message: string;
  /** How to fix it, for `fail` and `warn`; null otherwise. */
  readonly fix: string | null;
  readonly details: StepDetails;
}

/** What `sts-sidecar check --json` prints. */
export interface CheckReport {
  /** True when no step failed (warnings and skips allowed). */
  readonly ok: boolean;
  readonly firstFailure: StepResult | null;
  readonly steps: readonly StepResult[];
}

/** What a step function returns; the runner adds the step's name. */
export type Outcome = Omit<StepResult, 'step'>;

/** One link: a name and a function that looks at it, reading and adding to the shared context. */
export interface Step<Context> {
  readonly name: StepName;
  run(context: Context): Promise<Outcome>;
}

export function ok(message: string, details: StepDetails = {}): Outcome {
  return { status: 'ok', code: null, message, fix: null, details };
}

export function skip(message: string, details: StepDetails = {}): Outcome {
  return { status: 'skip', code: null, message, fix: null, details };
}

/** A broken link; `fix` defaults to the code's hint in the catalogue. */
export function fail(code: ErrorCode, message: string, fix?: string, details: StepDetails = {}): Outcome {
  return { status: 'fail', code, message, fix: fix ?? (hintOf(code) || null), details };
}

export function warn(code: ErrorCode, message: string, fix?: string, details: StepDetails = {}): Outcome {
  return { status: 'warn', code, message, fix: fix ?? (hintOf(code) || null), details };
}

/**
 * Runs the steps in order and stops at the first failure: every later step is reported as
 * `skip` with "not run: <step> failed", because each link is only worth checking once the
 * links before it hold (no JWKS without a discovery document, no exchange with a token the
 * store cannot verify). A step that throws is a failure too: a SidecarError keeps its code, any
 * other error is INTERNAL_ERROR (a bug in the check, reported rather than crashing it).
 */
export async function runSteps<Context>(
  steps: readonly Step<Context>[],
  context: Context,
): Promise<CheckReport> {
  const results: StepResult[] = [];
  let firstFailure: StepResult | null = null;
  for (const step of steps) {
    if (firstFailure !== null) {
      results.push({ step: step.name, ...skip(`not run: ${firstFailure.step} failed`) });
      continue;
    }
    const result: StepResult = { step: step.name, ...(await runOne(step, context)) };
    results.push(result);
    if (result.status === 'fail') firstFailure = result;
  }
  return { ok: firstFailure === null, firstFailure, steps: results };
}

async function runOne<Context>(step: Step<Context>, context: Context): Promise<Outcome> {
  try {
    return await step.run(context);
  } catch (error) {
    if (isSidecarError(error)) return fail(error.code, error.message);
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return fail('INTERNAL_ERROR', `the ${step.name} step failed unexpectedly (${text})`);
  }
}

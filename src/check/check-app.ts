import { type CheckConfig, loadCheckConfig } from '../config/check-config.ts';
import { ConfigError } from '../shared/errors.ts';
import { type CheckContext, createCheckContext } from './check-context.ts';
import { formatHuman, formatJson } from './check-output.ts';
import { type CheckReport, fail, runSteps, type Step } from './check-step.ts';
import { issuerStep, jwksStep, x5cStep } from './issuer-steps.ts';
import { clockStep, exchangeStep, stsStep } from './sts-steps.ts';
import { audienceStep, tokenStep } from './token-steps.ts';

/** Exit codes of `sts-sidecar check`. */
export const CHECK_EXIT_OK = 0;
export const CHECK_EXIT_BROKEN = 1;
export const CHECK_EXIT_USAGE = 2;

const HELP = 'Fix every option listed; sts-sidecar check --help lists them all.';

/** The chain from the pod to the store, link by link, in the order a failure would show up. */
export const CHECK_STEPS: readonly Step<CheckContext>[] = [
  tokenStep,
  audienceStep,
  issuerStep,
  jwksStep,
  x5cStep,
  stsStep,
  clockStep,
  exchangeStep,
];

/** Runs every step against a loaded configuration. */
export function runChecks(config: CheckConfig, now: () => number = Date.now): Promise<CheckReport> {
  return runSteps(CHECK_STEPS, createCheckContext(config, now));
}

/** Where the report goes: the process's streams, or a test's. */
export interface CheckOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * `sts-sidecar check`: loads the sidecar's configuration plus check's own flags, walks the chain
 * once and prints the report (human lines, or one JSON document with --json). Exit code 0 when
 * every link holds (warnings allowed), 1 when one is broken, 2 for bad flags or env (the
 * problems on stderr; with --json also as a report whose first failure is `config`).
 */
export async function runCheck(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  output: CheckOutput = process,
): Promise<number> {
  let config: CheckConfig;
  try {
    config = loadCheckConfig(argv, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.stderr.write(`sts-sidecar check: ${error.code}: ${error.message}\n${HELP}\n`);
    if (argv.includes('--json') || env.STS_SIDECAR_CHECK_JSON === 'true') {
      const failure = { step: 'config' as const, ...fail(error.code, error.message, HELP) };
      output.stdout.write(formatJson({ ok: false, firstFailure: failure, steps: [failure] }));
    }
    return CHECK_EXIT_USAGE;
  }
  const report = await runChecks(config);
  output.stdout.write(config.json ? formatJson(report) : formatHuman(report, config));
  return report.ok ? CHECK_EXIT_OK : CHECK_EXIT_BROKEN;
}

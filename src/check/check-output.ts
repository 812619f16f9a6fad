import type { CheckConfig } from '../config/check-config.ts';
import type { CheckReport, StepStatus } from './check-step.ts';

const MARKS: Record<StepStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/**
 * One line per step (✓ ok, ! warning, ✗ broken, - not checked), the fix under a warning or a
 * failure, then a verdict. Everything printed comes from the step results, which hold no secret.
 */
export function formatHuman(report: CheckReport, config: CheckConfig): string {
  const c = config.sidecar;
  const role = c.roleArn === undefined ? '' : `, role ${c.roleArn}`;
  const lines = [`sts-sidecar check: flavor ${c.flavor}, STS ${c.stsEndpoint}${role}, token ${c.tokenFile}`];
  const width = Math.max(...report.steps.map((s) => s.step.length));
  for (const s of report.steps) {
    const code = s.code !== null && s.status !== 'ok' ? `${s.code}: ` : '';
    lines.push(`${MARKS[s.status]} ${s.step.padEnd(width)}  ${code}${s.message}`);
    if (s.fix !== null && (s.status === 'fail' || s.status === 'warn'))
      lines.push(`  ${' '.repeat(width)}  fix: ${s.fix}`);
  }
  const warnings = report.steps.filter((s) => s.status === 'warn').length;
  const first = report.firstFailure;
  lines.push(
    first === null
      ? `OK: every link holds${warnings === 0 ? '' : ` (${warnings} warning(s))`}`
      : `BROKEN: ${first.step} (${first.code})`,
  );
  return `${lines.join('\n')}\n`;
}

/** The report as one JSON document, for scripts. */
export function formatJson(report: CheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

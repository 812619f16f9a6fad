// Renders the README's configuration and error-code tables from the source of truth
// (src/config/sidecar-options.ts, src/shared/errors.ts). `node scripts/readme-tables.ts --write`
// rewrites them in place; test/unit/readme.test.ts fails when they drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { optionDoc } from '../src/config/option-spec.ts';
import { SIDECAR_OPTIONS, type SidecarOptionSpec } from '../src/config/sidecar-options.ts';
import { WEBHOOK_OPTIONS, type WebhookOptionSpec } from '../src/config/webhook-options.ts';
import { ERROR_CATALOGUE, ERROR_CODES } from '../src/shared/errors.ts';

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

/** One table for either subcommand's options: both specs have env, flag, default and doc. */
export function configTable(
  options: readonly (SidecarOptionSpec | WebhookOptionSpec)[] = SIDECAR_OPTIONS,
): string {
  const rows = options.map(
    (o) =>
      `| \`${o.env}\` | \`--${o.flag}\` | ${o.defaultValue === undefined ? '—' : `\`${o.defaultValue}\``} | ${escapeCell(optionDoc(o))} |`,
  );
  return ['| env var | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function errorTable(): string {
  const rows = ERROR_CODES.map((code) => {
    const e = ERROR_CATALOGUE[code];
    return `| \`${code}\` | ${e.retry} | ${escapeCell(e.meaning)} |`;
  });
  return ['| code | retry | meaning |', '|---|---|---|', ...rows].join('\n');
}

export const README_URL = new URL('../README.md', import.meta.url);

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceBlock(readme: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README lacks the ${start} ... ${end} markers`);
  return `${readme.slice(0, from + start.length)}\n${body}\n${readme.slice(to)}`;
}

export function renderReadme(readme: string): string {
  const withTables = replaceBlock(readme, 'config-table', configTable(SIDECAR_OPTIONS));
  return replaceBlock(
    replaceBlock(withTables, 'webhook-config-table', configTable(WEBHOOK_OPTIONS)),
    'error-table',
    errorTable(),
  );
}

if (process.argv.includes('--write')) {
  const before = readFileSync(README_URL, 'utf8');
  writeFileSync(README_URL, renderReadme(before));
}

// Renders the docs' reference tables from their source of truth: the option rows
// (src/config/*-options.ts), the annotations (src/webhook/annotations.ts), the error catalogue
// (src/shared/errors.ts) and the chart's values.yaml with its `# --` comments.
// `node scripts/doc-tables.ts --write` rewrites them in place; test/unit/docs.test.ts fails when
// one drifts.
import { readFileSync, writeFileSync } from 'node:fs';
import { isMap, isNode, isScalar, parseDocument, type YAMLMap } from 'yaml';
import { CHECK_ONLY_OPTIONS } from '../src/config/check-options.ts';
import { ISSUER_OPTIONS } from '../src/config/issuer-options.ts';
import { optionDoc, type OptionSpec } from '../src/config/option-spec.ts';
import { SIDECAR_OPTIONS } from '../src/config/sidecar-options.ts';
import { WEBHOOK_OPTIONS } from '../src/config/webhook-options.ts';
import { ERROR_CATALOGUE, ERROR_CODES } from '../src/shared/errors.ts';
import { ANNOTATIONS } from '../src/webhook/annotations.ts';
import { markdownTable, replaceBlock } from './doc-blocks.ts';

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

/** One table for any subcommand's options: every row has env, flag, default and doc. */
export function configTable(options: readonly OptionSpec[] = SIDECAR_OPTIONS): string {
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

/** The row of one annotation in docs/webhook.md. */
export const annotationRow = (a: (typeof ANNOTATIONS)[number]): string =>
  `| \`${a.key}\` | ${a.scope === 'pod' ? 'pod' : 'pod, SA'} | ${a.defaultText} | \`${a.example}\` | ${optionDoc(a)} |`;

export function annotationTable(): string {
  return [
    '| key | where | default | example | meaning |',
    '|---|---|---|---|---|',
    ...ANNOTATIONS.map(annotationRow),
  ].join('\n');
}

export const VALUES_FILE = new URL('../charts/sts-sidecar/values.yaml', import.meta.url);

/** One documented value of the chart: its dotted key, default (JSON) and `# --` description. */
export interface ValueRow {
  key: string;
  defaultJson: string;
  description: string;
}

/**
 * Every value of values.yaml, in file order. A key whose comment has a `# --` paragraph (the
 * helm-docs convention) is one row with that text, whatever its value; a map without one is
 * walked into; any other key is a row without a description.
 */
export function valueRows(yamlText: string): ValueRow[] {
  const rows: ValueRow[] = [];
  const walk = (map: YAMLMap, prefix: string): void =>
    map.items.forEach((pair, i) => {
      const key = `${prefix}${String(isScalar(pair.key) ? pair.key.value : pair.key)}`;
      // yaml hangs the comment above a map's first key on the map itself.
      const comment =
        (isScalar(pair.key) ? pair.key.commentBefore : undefined) ??
        (i === 0 ? map.commentBefore : undefined);
      const description = describedBy(comment);
      if (description === undefined && isMap(pair.value) && pair.value.items.length > 0)
        return walk(pair.value, `${key}.`);
      rows.push({
        key,
        defaultJson: JSON.stringify(isNode(pair.value) ? pair.value.toJSON() : (pair.value ?? null)),
        description: description ?? '',
      });
    });
  walk(parseDocument(yamlText).contents as YAMLMap, '');
  return rows;
}

/** The last `-- ` paragraph of a comment, lines joined; undefined when there is none. */
function describedBy(comment: string | null | undefined): string | undefined {
  const lines = (comment ?? '').split('\n').map((l) => l.trim());
  const from = lines.findLastIndex((l) => l.startsWith('-- '));
  if (from < 0) return undefined;
  const rest = lines.slice(from);
  const end = rest.indexOf('');
  return (end < 0 ? rest : rest.slice(0, end)).join(' ').slice(3);
}

export function valuesTable(yamlText: string = readFileSync(VALUES_FILE, 'utf8')): string {
  return markdownTable(
    ['key', 'default', 'meaning'],
    valueRows(yamlText).map((r) => [
      `\`${r.key}\``,
      `\`${escapeCell(r.defaultJson)}\``,
      // `<release>` in a comment would render as an HTML tag.
      escapeCell(r.description).replace(/</g, '&lt;'),
    ]),
  );
}

/** Each generated file and its blocks: block name → renderer. */
export const GENERATED: ReadonlyArray<{ file: URL; blocks: Record<string, () => string> }> = [
  {
    file: new URL('../docs/configuration.md', import.meta.url),
    blocks: { 'config-table': () => configTable(SIDECAR_OPTIONS) },
  },
  {
    file: new URL('../docs/webhook.md', import.meta.url),
    blocks: {
      'webhook-config-table': () => configTable(WEBHOOK_OPTIONS),
      'annotation-table': annotationTable,
    },
  },
  {
    file: new URL('../docs/issuer.md', import.meta.url),
    blocks: { 'issuer-config-table': () => configTable(ISSUER_OPTIONS) },
  },
  {
    file: new URL('../docs/check.md', import.meta.url),
    blocks: { 'check-config-table': () => configTable(CHECK_ONLY_OPTIONS) },
  },
  { file: new URL('../docs/errors.md', import.meta.url), blocks: { 'error-table': errorTable } },
  {
    file: new URL('../charts/sts-sidecar/README.md', import.meta.url),
    blocks: { 'values-table': () => valuesTable() },
  },
];

/** `text` with every generated block of `blocks` rendered afresh. */
export function render(text: string, blocks: Record<string, () => string>): string {
  return Object.entries(blocks).reduce((out, [name, body]) => replaceBlock(out, name, body()), text);
}

if (process.argv.includes('--write'))
  for (const { file, blocks } of GENERATED) writeFileSync(file, render(readFileSync(file, 'utf8'), blocks));

// Issue #14: the docs stay true to the code. Generated tables are regenerated and compared, every
// relative link in the README, docs/ and the chart's README resolves (file and heading), and the
// chart's runbook names what the alerts can fire with.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { GENERATED, render } from '../../scripts/doc-tables.ts';
import { ERROR_CODES } from '../../src/shared/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

for (const { file, blocks } of GENERATED) {
  const path = relative(ROOT, fileURLToPath(file));
  test(`${path}: generated tables (${Object.keys(blocks).join(', ')}) match the source (run: node scripts/doc-tables.ts --write)`, () => {
    const text = read(path);
    assert.equal(render(text, blocks), text);
  });
}

const PAGES = [
  'README.md',
  'charts/sts-sidecar/README.md',
  'deploy/README.md',
  ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2… for repeats. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

test('the anchor rule matches GitHub on the headings these pages use', () => {
  assert.deepEqual(
    [
      ...anchorsOf(
        '# A `code` heading\n## Without Helm: deploy/\n## Node version\n## Node version\n```\n# not a heading\n```',
      ),
    ],
    ['a-code-heading', 'without-helm-deploy', 'node-version', 'node-version-1'],
  );
});

/** Relative links of a page, outside code: [text](target) with no scheme. */
function relativeLinks(markdown: string): string[] {
  const text = markdown.replace(/```[^]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

test('the link check sees links (an empty scan would pass)', () => {
  assert.ok(relativeLinks(read('README.md')).length >= 10);
  assert.deepEqual(relativeLinks('[a](b.md#c) `[x](y)` [s](https://e.example)'), ['b.md#c']);
});

for (const page of PAGES)
  test(`every relative link in ${page} resolves to a file, and its #anchor to a heading`, () => {
    const broken: string[] = [];
    for (const link of relativeLinks(read(page))) {
      const [path, anchor] = link.split('#', 2) as [string, string | undefined];
      const target = path === '' ? page : join(dirname(page), path);
      if (!existsSync(join(ROOT, target))) {
        broken.push(`${link}: no file ${target}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!target.endsWith('.md') || statSync(join(ROOT, target)).isDirectory())
        broken.push(`${link}: an anchor into a file that is not Markdown`);
      else if (!anchorsOf(read(target)).has(anchor))
        broken.push(`${link}: no heading #${anchor} in ${target}`);
    }
    assert.deepEqual(broken, []);
  });

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}
const rules = (
  parseYaml(read('charts/sts-sidecar/files/prometheus-rules.yaml')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));

test('every alert of the chart is in its README runbook and in docs/monitoring.md', () => {
  assert.ok(rules.length >= 10);
  const chart = read('charts/sts-sidecar/README.md');
  const monitoring = read('docs/monitoring.md');
  for (const { alert } of rules) {
    assert.ok(chart.includes(`| \`${alert}\` |`), `charts/sts-sidecar/README.md runbook lacks ${alert}`);
    assert.ok(monitoring.includes(`| \`${alert}\` |`), `docs/monitoring.md lacks ${alert}`);
  }
});

// StsSidecarRefreshFailing fires for every exchange failure code but TOKEN_*: STS_* and
// INTERNAL_ERROR (a bug, which must not send an operator to the store).
const EXCHANGE_CODES = ERROR_CODES.filter((c) => c.startsWith('STS_') || c === 'INTERNAL_ERROR');
test('the refresh-failing runbook names every code that alert can fire with', () => {
  const rule = rules.find((r) => r.alert === 'StsSidecarRefreshFailing')!;
  const runbooks = {
    'the rule': rule.annotations!.runbook!,
    'the chart README': read('charts/sts-sidecar/README.md'),
    'docs/monitoring.md': read('docs/monitoring.md'),
  };
  for (const [where, text] of Object.entries(runbooks))
    for (const code of EXCHANGE_CODES) assert.ok(text.includes(code), `${where} does not name ${code}`);
});

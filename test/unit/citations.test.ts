// Issue #14: facts that decide timing and limits must be checkable from the repository. Code
// cites the upstream source (pinned) or a page under docs/design/, never notes kept elsewhere.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FOLDERS = ['src', 'test', 'scripts', 'charts', 'deploy', '.ci'];
// Built from parts so this file does not match itself.
const OUTSIDE_NOTE = new RegExp(['research', '/|research (table|section|§)'].join(''));

const files = FOLDERS.flatMap((folder) =>
  readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .map((f) => join(folder, f))
    .filter((f) => /\.(ts|mjs|js|sh|ya?ml|json|md|go|py|tpl|txt)$/.test(f)),
);

test('the scan covers the code (an empty walk would pass)', () => {
  assert.ok(files.includes(join('src', 'cli.ts')));
  assert.ok(files.length > 100, `${files.length} files`);
});

test('no file cites research notes kept outside the repository', () => {
  const offenders = files.filter((f) => OUTSIDE_NOTE.test(readFileSync(join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

test('every docs/design/ page that code cites exists', () => {
  const cited = new Set<string>();
  for (const f of files)
    for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/docs\/design\/[a-z0-9-]+\.md/g))
      cited.add(m[0]);
  assert.ok(cited.size >= 2, [...cited].join(', '));
  for (const page of cited) assert.ok(existsSync(join(ROOT, page)), `${page} is cited but missing`);
});

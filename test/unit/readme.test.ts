// Issue #14: a README a newcomer reads to the end; the rest lives in docs/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const lines = README.split('\n');

test('README first screen shows the run command and the test command', () => {
  const firstScreen = lines.slice(0, 30).join('\n');
  assert.match(firstScreen, /^npm ci && npm run demo\b/m);
  assert.match(firstScreen, /^npm test\b/m);
});

test('the two first-screen commands are the package scripts they name', () => {
  const scripts = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  assert.match(scripts.demo ?? '', /scripts\/demo\.ts/);
  assert.match(scripts.test ?? '', /node --test/);
});

test('README is at most 300 lines', () => {
  assert.ok(lines.length <= 300, `${lines.length} lines; move detail to docs/`);
});

test('README keeps the Ceph RGW section pointing at its page', () => {
  const at = lines.indexOf('## Ceph RGW with a real cluster');
  assert.ok(at >= 0, 'the heading is there, exactly');
  const section = lines
    .slice(
      at + 1,
      lines.findIndex((l, i) => i > at && l.startsWith('## ')),
    )
    .join('\n');
  assert.match(section, /\]\(docs\/ceph-rgw-real-cluster\.md\)/);
});

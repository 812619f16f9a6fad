import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { README_URL, renderReadme } from '../../scripts/readme-tables.ts';

test('README configuration (sidecar and webhook) and error tables match the source (run: node scripts/readme-tables.ts --write)', () => {
  const readme = readFileSync(README_URL, 'utf8');
  assert.equal(renderReadme(readme), readme);
});

test('README first screen shows the run command and the test command', () => {
  const firstScreen = readFileSync(README_URL, 'utf8').split('\n').slice(0, 30).join('\n');
  assert.match(firstScreen, /npm ci && npm run demo/);
  assert.match(firstScreen, /npm test/);
});

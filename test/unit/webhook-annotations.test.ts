import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { optionDoc } from '../../src/config/option-spec.ts';
import { ANNOTATIONS, PREFIX } from '../../src/webhook/annotations.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

test('every annotation key carries the prefix and is unique', () => {
  const keys = ANNOTATIONS.map((a) => a.key);
  assert.ok(keys.every((k) => k.startsWith(PREFIX)));
  assert.equal(new Set(keys).size, keys.length);
});

/** The README row for one annotation; the README must hold exactly this line. */
export const readmeRow = (a: (typeof ANNOTATIONS)[number]): string =>
  `| \`${a.key}\` | ${a.scope === 'pod' ? 'pod' : 'pod, SA'} | ${a.defaultText} | \`${a.example}\` | ${optionDoc(a)} |`;

for (const a of ANNOTATIONS)
  test(`README documents ${a.key} (key, default, example)`, () => {
    assert.ok(readme.includes(readmeRow(a)), `README lacks the row:\n${readmeRow(a)}`);
  });

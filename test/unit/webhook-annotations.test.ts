import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ANNOTATIONS, PREFIX } from '../../src/webhook/annotations.ts';
import { annotationRow } from '../../scripts/doc-tables.ts';

const page = readFileSync(new URL('../../docs/webhook.md', import.meta.url), 'utf8');

test('every annotation key carries the prefix and is unique', () => {
  const keys = ANNOTATIONS.map((a) => a.key);
  assert.ok(keys.every((k) => k.startsWith(PREFIX)));
  assert.equal(new Set(keys).size, keys.length);
});

// docs/webhook.md must hold exactly this line for each annotation (the whole table is also
// checked as generated, test/unit/docs.test.ts).
for (const a of ANNOTATIONS)
  test(`docs/webhook.md documents ${a.key} (key, default, example)`, () => {
    assert.ok(page.includes(annotationRow(a)), `docs/webhook.md lacks the row:\n${annotationRow(a)}`);
  });

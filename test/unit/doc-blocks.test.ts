import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { PERFORMANCE_DOC, replaceBlock, writeResultsBlock } from '../../scripts/doc-blocks.ts';

const PAGE = [
  '# Page',
  'prose before',
  '<!-- bench:start -->',
  'old bench figures',
  'more old lines',
  '<!-- bench:end -->',
  'prose between',
  '<!-- soak:start -->',
  'old soak figures',
  '<!-- soak:end -->',
  'prose after',
  '',
].join('\n');

test('replaceBlock replaces exactly the named block, markers and everything else kept', () => {
  const out = replaceBlock(PAGE, 'bench', '### new\n\n| a |\n| --- |\n');
  assert.equal(out, PAGE.replace('old bench figures\nmore old lines', '### new\n\n| a |\n| --- |'));
  assert.equal(
    replaceBlock(out, 'bench', '### new\n\n| a |\n| --- |'),
    out,
    'rewriting the same body changes nothing',
  );
});

test('replaceBlock refuses a page without the markers, or with a block twice', () => {
  assert.throws(() => replaceBlock(PAGE, 'simulate', 'x'), /simulate:start/);
  assert.throws(
    () => replaceBlock(`${PAGE}<!-- soak:start -->\n<!-- soak:end -->\n`, 'soak', 'x'),
    /more than once/,
  );
});

test('writeResultsBlock rewrites the block in the file, and by default in docs/performance.md', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doc-blocks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = pathToFileURL(join(dir, 'performance.md'));
  writeFileSync(file, PAGE);
  writeResultsBlock('soak', 'new soak figures', file);
  assert.equal(readFileSync(file, 'utf8'), PAGE.replace('old soak figures', 'new soak figures'));
  const doc = readFileSync(PERFORMANCE_DOC, 'utf8');
  for (const name of ['bench', 'soak', 'simulate'])
    assert.doesNotThrow(() => replaceBlock(doc, name, 'x'), `docs/performance.md has the ${name} block`);
});

// The dependency rule of src/, in one line:
//   shared ← config ← domains (token, credentials, sts, kube) ← products (sidecar, webhook, issuer, check) ← cli
// A file imports only from its own folder or a folder further left; domains may use each other
// without a cycle; the products never import each other. A new subcommand gets its own product
// folder. Checked here on every import of every file, static and dynamic.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Layer of each folder under src/; top-level files (cli.ts, run-subcommand.ts) are `cli`. */
const LAYERS: Record<string, number> = { shared: 0, config: 1, token: 2, credentials: 2, sts: 2, kube: 2 };
const PRODUCT_LAYER = 3;
const CLI_LAYER = 4;
const PRODUCTS = new Set(['sidecar', 'webhook', 'issuer', 'check']);
const TOP_LEVEL_FILES = new Set(['cli.ts', 'run-subcommand.ts']);
/** Packages only one folder may import: the rest of the code depends on our own types. */
const PACKAGE_OWNERS: Record<string, string> = {
  '@kubernetes/client-node': 'kube',
  '@aws-sdk/client-sts': 'sts',
};

const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.split('\\').join('/'));

/** Folder of a src-relative path, or '' for a top-level file. */
const folderOf = (file: string): string => (file.includes('/') ? file.split('/')[0]! : '');

function layerOf(folder: string): number {
  if (folder === '') return CLI_LAYER;
  if (PRODUCTS.has(folder)) return PRODUCT_LAYER;
  const layer = LAYERS[folder];
  assert.notEqual(layer, undefined, `src/${folder}/ has no place in the rule: add it to LAYERS or PRODUCTS`);
  return layer!;
}

interface Edge {
  from: string;
  to: string;
}

function importsOf(file: string): { local: Edge[]; packages: string[] } {
  const text = readFileSync(join(SRC, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gms),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
  const local: Edge[] = [];
  const packages: string[] = [];
  for (const s of specifiers) {
    if (s.startsWith('.'))
      local.push({ from: file, to: posix.normalize(posix.join(posix.dirname(file), s)) });
    else if (!s.startsWith('node:')) packages.push(s);
  }
  return { local, packages };
}

const all = files.map((file) => ({ file, ...importsOf(file) }));

test('the import scan sees the code (a parser that finds nothing would pass every rule)', () => {
  const edges = all.flatMap((f) => f.local);
  assert.ok(edges.length > 50, `${edges.length} local imports found`);
  assert.ok(
    edges.some((e) => e.from === 'cli.ts' && e.to.startsWith('webhook/')),
    'dynamic imports are seen',
  );
});

test('every file lives in a folder of the rule (only cli.ts and run-subcommand.ts at the top)', () => {
  for (const file of files) {
    const folder = folderOf(file);
    if (folder === '') assert.ok(TOP_LEVEL_FILES.has(file), `src/${file}: put it in a folder`);
    else layerOf(folder);
  }
});

test('no import points to a later layer, and the product folders never import each other', () => {
  const forbidden: string[] = [];
  for (const { local } of all)
    for (const { from, to } of local) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a === b) continue;
      const ok = layerOf(b) < layerOf(a) || (layerOf(a) === 2 && layerOf(b) === 2);
      if (!ok) forbidden.push(`src/${from} → src/${to}`);
    }
  assert.deepEqual(forbidden, []);
});

test('the domain folders import each other without a cycle', () => {
  const graph = new Map<string, Set<string>>();
  for (const { local } of all)
    for (const { from, to } of local) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a !== b && layerOf(a) === 2 && layerOf(b) === 2) graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (node: string, path: string[]): void => {
    if (done.has(node)) return;
    assert.ok(!visiting.has(node), `cycle: ${[...path, node].join(' → ')}`);
    visiting.add(node);
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    visiting.delete(node);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
});

test('@kubernetes/client-node only in src/kube/, @aws-sdk/client-sts only in src/sts/', () => {
  const misplaced: string[] = [];
  for (const { file, packages } of all)
    for (const p of packages) {
      const owner = PACKAGE_OWNERS[p];
      if (owner !== undefined && folderOf(file) !== owner) misplaced.push(`src/${file} imports ${p}`);
    }
  assert.deepEqual(misplaced, []);
});

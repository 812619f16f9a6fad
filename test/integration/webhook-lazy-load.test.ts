// The sidecar must not pay for the webhook: @kubernetes/client-node is reached only through
// cli.ts's dynamic import of src/webhook/webhook-app.ts. Checked at run time (from source, with a resolve
// hook that records every module) and in the bundle's import graph (esbuild metafile).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleOptions } from '../../scripts/build/bundle-options.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECORDER = fileURLToPath(new URL('../helpers/record-modules.mjs', import.meta.url));
const CLIENT_NODE = /node_modules\/@kubernetes\/client-node\//;

function modulesLoadedBy(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'sts-lazy-'));
  try {
    const out = join(dir, 'modules.txt');
    const result = spawnSync(process.execPath, ['--import', RECORDER, 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, RECORD_MODULES_OUT: out },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.notEqual(result.status, null, `timed out: ${result.stderr}`);
    return readFileSync(out, 'utf8').split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases = [
  { name: '--help', args: ['--help'], loads: false },
  {
    name: 'sidecar with a bad config (reaches sidecar/sidecar-app.ts)',
    args: ['sidecar', '--flavor=nope'],
    loads: false,
  },
  { name: 'webhook --help', args: ['webhook', '--help'], loads: false },
  // Positive control: proves the recorder sees client-node when it is loaded.
  {
    name: 'webhook with a bad config (reaches webhook/webhook-app.ts)',
    args: ['webhook', '--tls-cert-file=/nonexistent'],
    loads: true,
  },
];
for (const c of cases)
  test(`client-node ${c.loads ? 'is' : 'is not'} loaded by: sts-sidecar ${c.name}`, () => {
    const modules = modulesLoadedBy(c.args);
    assert.ok(
      modules.some((m) => m.endsWith('/src/cli.ts')),
      'recorder saw the CLI',
    );
    assert.equal(
      modules.some((m) => CLIENT_NODE.test(m)),
      c.loads,
    );
  });

test('in the bundle, client-node and src/kube are reachable from cli.ts only through a dynamic import', async () => {
  // The options of `npm run build` itself, in memory (write: false).
  const result = await build({
    ...bundleOptions,
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  const inputs = result.metafile.inputs;
  const walk = (kinds: ReadonlySet<string>): Set<string> => {
    const seen = new Set<string>(['src/cli.ts']);
    const queue = ['src/cli.ts'];
    while (queue.length > 0) {
      for (const imp of inputs[queue.pop()!]?.imports ?? [])
        if (kinds.has(imp.kind) && !seen.has(imp.path) && !imp.external) {
          seen.add(imp.path);
          queue.push(imp.path);
        }
    }
    return seen;
  };
  const isWebhookOnly = (p: string) => CLIENT_NODE.test(p) || p.startsWith('src/kube/');
  const eager = walk(new Set(['import-statement', 'require-call']));
  assert.ok(eager.has('src/config/sidecar-options.ts'));
  assert.deepEqual([...eager].filter(isWebhookOnly), []);
  const all = walk(new Set(['import-statement', 'require-call', 'dynamic-import']));
  assert.ok([...all].some(isWebhookOnly), 'the webhook path is in the bundle');
});

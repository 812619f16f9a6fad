// The bundle loads Node builtins the CommonJS way (scripts/build/builtins-via-require.ts): an ES
// import of `node:http` runs its lazy WebSocket getter, which loads undici (~13 MiB of idle RSS
// on Node 24) into a process that never uses it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { shimSource } from '../../scripts/build/builtins-via-require.ts';
import { bundleOptions } from '../../scripts/build/bundle-options.ts';
import { SidecarProcess } from '../helpers/sidecar-process.ts';

const RECORDER = fileURLToPath(new URL('../helpers/record-builtins.mjs', import.meta.url));
const UNDICI = 'NativeModule internal/deps/undici/undici';

function recordDir(): { dir: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sts-builtins-'));
  return { dir, out: join(dir, 'builtins.txt') };
}

test('control: on this Node, an ES import of node:http loads undici (the reason for the plugin)', () => {
  const { dir, out } = recordDir();
  try {
    const result = spawnSync(
      process.execPath,
      ['--import', RECORDER, '--input-type=module', '-e', "import 'node:http';"],
      { env: { PATH: process.env.PATH, RECORD_BUILTINS_OUT: out }, encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stderr);
    // If this fails, Node stopped materialising lazy exports on import and the plugin can go.
    assert.ok(readFileSync(out, 'utf8').split('\n').includes(UNDICI));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the running sidecar never loads undici nor prints a warning, through its first exchange and a clean stop', async () => {
  const { dir, out } = recordDir();
  const sidecar = await SidecarProcess.start({
    env: { NODE_OPTIONS: `--import ${RECORDER}`, RECORD_BUILTINS_OUT: out },
  });
  try {
    await sidecar.waitFor((l) => l.event === 'exchange');
    const response = await fetch(`${sidecar.opsUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(await sidecar.stop(), 0);
    const loaded = readFileSync(out, 'utf8').split('\n');
    assert.ok(loaded.includes('NativeModule http'), 'the recorder saw the sidecar load node:http');
    assert.ok(!loaded.includes(UNDICI), 'undici was loaded');
    // Nothing on stderr: reading every lazy export would also print deprecation warnings.
    assert.equal(sidecar.stderr, '');
  } finally {
    await sidecar.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the node:http shim exports its functions but not the getters that load undici', () => {
  const source = shimSource('http');
  assert.match(source, /process\.getBuiltinModule\("node:http"\)/);
  assert.match(source, /\bcreateServer = m\.createServer\b/);
  assert.doesNotMatch(source, /\bWebSocket\b|\bMessageEvent\b|\bCloseEvent\b/);
});

/** Builds `source` with exactly the options of `npm run build`, in memory. */
function buildWithBundleOptions(source: string) {
  // Everything but the entry point (stdin instead) and code splitting (which needs entry points);
  // write: false keeps dist/ untouched.
  const { entryPoints: _entry, splitting: _splitting, ...options } = bundleOptions;
  return build({ ...options, stdin: { contents: source, loader: 'js' }, write: false, logLevel: 'silent' });
}

test('the build fails, instead of leaving undefined, on a named import of a getter it leaves out', async () => {
  await assert.rejects(
    buildWithBundleOptions("import { WebSocket } from 'node:http'; console.log(WebSocket);"),
    /No matching export in "sts-builtin:http" for import "WebSocket"/,
  );
  await assert.rejects(
    buildWithBundleOptions("import * as fs from 'node:fs'; console.log(fs.F_OK);"),
    /Import "F_OK" will always be undefined because there is no matching export in "sts-builtin:fs"/,
  );
  // Control: the getters bundled code does import by name still build.
  await buildWithBundleOptions("import { promises } from 'node:fs'; console.log(promises);");
});

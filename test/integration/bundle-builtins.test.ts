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
import { builtinsViaRequire, shimSource } from '../../scripts/build/builtins-via-require.ts';
import { SidecarProcess } from '../helpers/sidecar-process.ts';

const RECORDER = fileURLToPath(new URL('../fixtures/record-builtins.mjs', import.meta.url));
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

test('named-importing a skipped getter fails the build instead of becoming undefined', async () => {
  await assert.rejects(
    build({
      stdin: { contents: "import { WebSocket } from 'node:http'; console.log(WebSocket);", loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      plugins: [builtinsViaRequire],
    }),
    /No matching export in "sts-builtin:http" for import "WebSocket"/,
  );
});

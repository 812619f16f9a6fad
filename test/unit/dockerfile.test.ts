import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// No Docker engine runs here, so the image's invariants are checked on the Dockerfile itself.
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1)!;
const testedMajor = pkg.devDependencies.node!.split('.')[0];
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Repo-relative paths of `entry` and every local file it imports, transitively. */
function localImportClosure(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(join(ROOT, file), 'utf8');
    for (const [, specifier] of source.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g))
      queue.push(relative(ROOT, join(ROOT, dirname(file), specifier!)));
  }
  return [...seen];
}

test('multi-stage: a build stage and a runtime stage', () => {
  assert.ok(stages.length >= 2);
  assert.match(stages[0]!, /npm ci/);
});

test('every stage uses the Node major the tests run on', () => {
  assert.equal(process.versions.node.split('.')[0], testedMajor, 'tests run on the pinned major');
  for (const stage of stages) {
    const image = stage.split(/\s/, 1)[0]!;
    const major = /node(?:js)?:?(\d+)/.exec(image)?.[1];
    assert.equal(major, testedMajor, `${image} is Node ${testedMajor}`);
  }
});

test('the build stage copies every local file the build script imports', () => {
  const sources = [...stages[0]!.matchAll(/^COPY\s+(?!--from)(.*)\s+\S+$/gm)].flatMap((m) =>
    m[1]!.split(/\s+/),
  );
  const covered = (file: string) =>
    sources.some((source) => (source.endsWith('/') ? file.startsWith(source) : file === source));
  const needed = localImportClosure('scripts/build.ts');
  assert.ok(needed.includes('scripts/build/builtins-via-require.ts'), 'the walk follows imports');
  assert.deepEqual(
    needed.filter((file) => !covered(file)),
    [],
  );
});

test('the runtime stage runs as a numeric non-root user', () => {
  const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
  assert.ok(user, 'USER is set');
  const [uid, gid] = user.split(':');
  assert.match(uid!, /^\d+$/, 'numeric uid (runAsNonRoot can only verify numbers)');
  assert.notEqual(Number(uid), 0);
  if (gid !== undefined) assert.notEqual(Number(gid), 0);
});

test('the runtime stage copies only the built bundle directory: no node_modules, no sources, no dev dependencies', () => {
  const copies = [...runtime.matchAll(/^COPY\s+(.*)$/gm)].map((m) => m[1]!);
  assert.deepEqual(copies, ['--from=build /src/dist/ /app/']);
  assert.doesNotMatch(runtime, /node_modules|npm (ci|install)/);
});

test('the entrypoint is the bundle, so `sidecar` and `webhook` run from one image', () => {
  const entrypoint = JSON.parse(/^ENTRYPOINT\s+(\[.*\])$/m.exec(runtime)![1]!) as string[];
  assert.equal(entrypoint.at(-1), '/app/sts-sidecar.mjs');
  assert.deepEqual(JSON.parse(/^CMD\s+(\[.*\])$/m.exec(runtime)![1]!), ['sidecar']);
});

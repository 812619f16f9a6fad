import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

// No Docker engine runs here, so the image's invariants are checked on the Dockerfile itself.
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1)!;
const testedMajor = pkg.devDependencies.node!.split('.')[0];

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

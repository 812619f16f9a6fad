import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { TokenSource } from '../../src/token/token-source.ts';
import { FileWatcher } from '../../src/shared/file-watcher.ts';
import { KubeletTokenVolume } from '../helpers/kubelet-token-volume.ts';

/** Generous next to the measured worst case (152 ms, docs/design/measurements.md), for loaded CI. */
const EVENT_TIMEOUT_MS = 3000;
/** So long that, within a test, only chokidar can deliver the event. */
const ONE_HOUR_MS = 3_600_000;

const b64u = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token for rotation `id`, valid for an hour; decoding does not verify, so the signature is fake. */
const tokenFor = (id: string) =>
  `${b64u({ alg: 'RS256' })}.${b64u({ aud: ['sts'], exp: Math.floor(Date.now() / 1000) + 3600, jti: id })}.c2lnbmF0dXJl`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The next `event` of `watcher`, failing the test after `EVENT_TIMEOUT_MS`. Call it BEFORE the
 * action that should cause the event, so an event emitted during the action is not missed.
 */
function next(watcher: FileWatcher, event: 'change' | 'checked', what: string): Promise<string | undefined> {
  return once(watcher, event, { signal: AbortSignal.timeout(EVENT_TIMEOUT_MS) }).then(
    ([fingerprint]) => fingerprint as string | undefined,
    (err: Error) => {
      if (err.name === 'AbortError') assert.fail(`${what}: no '${event}' within ${EVENT_TIMEOUT_MS} ms`);
      throw err;
    },
  );
}

async function started(t: TestContext, watcher: FileWatcher): Promise<FileWatcher> {
  t.after(() => watcher.close());
  await watcher.start();
  return watcher;
}

test('chokidar path: 50 kubelet rotations give 50 changes, each with that rotation’s token', async (t) => {
  const volume = await KubeletTokenVolume.create(tokenFor('initial'));
  t.after(() => volume.cleanup());
  const watcher = await started(t, new FileWatcher({ file: volume.path, pollIntervalMs: ONE_HOUR_MS }));
  const source = new TokenSource({ tokenFile: volume.path });
  const changes: string[] = [];
  watcher.on('change', (fingerprint) => changes.push(fingerprint));

  let detected = 0;
  for (let i = 1; i <= 50; i++) {
    const token = tokenFor(`rotation-${i}`);
    const changed = next(watcher, 'change', `rotation ${i}`);
    await volume.write(token);
    // The first 'change' after the swap must be this rotation's content, not an echo of the last.
    assert.equal(await changed, sha256(token), `rotation ${i}: 'change' carried another fingerprint`);
    assert.equal((await source.read()).value, token, `rotation ${i}: read() returned another token`);
    detected++;
  }
  assert.equal(detected, 50);
  // About 4 filesystem events per rotation, exactly one 'change' each.
  assert.equal(changes.length, 50);
});

test('poll path alone (no directory watch) picks up rotations', async (t) => {
  const volume = await KubeletTokenVolume.create(tokenFor('initial'));
  t.after(() => volume.cleanup());
  const watcher = await started(
    t,
    new FileWatcher({ file: volume.path, pollIntervalMs: 50, watchDirectory: false }),
  );
  for (let i = 1; i <= 3; i++) {
    const token = tokenFor(`polled-${i}`);
    const changed = next(watcher, 'change', `polled rotation ${i}`);
    await volume.write(token);
    assert.equal(await changed, sha256(token));
  }
});

test('a token file missing at start is noticed when the kubelet first writes it (chokidar path)', async (t) => {
  const volume = await KubeletTokenVolume.create(); // empty volume: no ..data, no token yet
  t.after(() => volume.cleanup());
  const watcher = await started(t, new FileWatcher({ file: volume.path, pollIntervalMs: ONE_HOUR_MS }));
  const token = tokenFor('first');
  const changed = next(watcher, 'change', 'first write');
  await volume.write(token);
  assert.equal(await changed, sha256(token));
});

const missingDirCases = [
  { path: 'chokidar', watchDirectory: true, pollIntervalMs: ONE_HOUR_MS },
  { path: 'poll', watchDirectory: false, pollIntervalMs: 50 },
];

for (const c of missingDirCases) {
  test(`${c.path} path: a token directory missing at start is noticed once it appears`, async (t) => {
    const parent = await mkdtemp(join(tmpdir(), 'sts-sidecar-mount-'));
    t.after(() => rm(parent, { recursive: true, force: true }));
    const mountDir = join(parent, 'tokens');
    const watcher = await started(t, new FileWatcher({ file: join(mountDir, 'token'), ...c }));

    // The whole volume appears at once, like a mount: built elsewhere, then renamed into place.
    const token = tokenFor('mounted');
    const volume = await KubeletTokenVolume.create(token);
    t.after(() => volume.cleanup());
    const changed = next(watcher, 'change', 'volume appeared');
    await rename(volume.dir, mountDir);
    assert.equal(await changed, sha256(token));
  });
}

test('close() releases a pending start(), and a closed watcher emits nothing', async (t) => {
  const volume = await KubeletTokenVolume.create(tokenFor('initial'));
  t.after(() => volume.cleanup());
  const events: string[] = [];
  const watcherFor = (name: string) => {
    const watcher = new FileWatcher({ file: volume.path, pollIntervalMs: 50 });
    watcher.on('checked', () => events.push(`${name} checked`));
    watcher.on('change', () => events.push(`${name} change`));
    return watcher;
  };
  const early = watcherFor('early');
  const starting = early.start();
  await early.close();
  await starting; // would never settle if close() did not release the wait for chokidar's 'ready'

  const late = watcherFor('late');
  await late.start();
  await late.close();
  events.length = 0; // late's baseline check

  // A rotation and two ticks of an independent 50 ms poller: time for both closed watchers'
  // chokidar events and 50 ms polls to have fired, had close() left them running.
  const witness = await started(
    t,
    new FileWatcher({ file: volume.path, pollIntervalMs: 50, watchDirectory: false }),
  );
  const witnessed = next(witness, 'change', 'witness');
  await volume.write(tokenFor('after-close'));
  await witnessed;
  await next(witness, 'checked', 'one more poll tick');
  assert.deepEqual(events, []);
});

test('rewriting identical content emits no change; the next real rotation does', async (t) => {
  const same = tokenFor('same');
  const volume = await KubeletTokenVolume.create(same);
  t.after(() => volume.cleanup());
  const watcher = new FileWatcher({ file: volume.path, pollIntervalMs: ONE_HOUR_MS });
  const changes: string[] = [];
  // Listening before start(): the content present at start must not count as a change either.
  watcher.on('change', (fingerprint) => changes.push(fingerprint));
  await started(t, watcher);

  // A full ..data swap with the same bytes. Wait until the watcher has re-hashed after it.
  const checked = next(watcher, 'checked', 'identical rewrite');
  await volume.write(same);
  assert.equal(await checked, sha256(same));

  const fresh = tokenFor('fresh');
  const changed = next(watcher, 'change', 'real rotation');
  await volume.write(fresh);
  await changed;
  assert.deepEqual(changes, [sha256(fresh)]);
});

test('a removed token file emits no change; the token coming back does', async (t) => {
  const first = tokenFor('before-removal');
  const volume = await KubeletTokenVolume.create(first);
  t.after(() => volume.cleanup());
  const watcher = await started(t, new FileWatcher({ file: volume.path, pollIntervalMs: ONE_HOUR_MS }));
  const changes: string[] = [];
  watcher.on('change', (fingerprint) => changes.push(fingerprint));

  const gone = next(watcher, 'checked', 'removal');
  await volume.remove();
  assert.equal(await gone, undefined);

  const back = tokenFor('after-removal');
  const changed = next(watcher, 'change', 'token back');
  await volume.write(back);
  assert.equal(await changed, sha256(back));
  assert.deepEqual(changes, [sha256(back)]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CredentialStore, MIN_REMAINING_MS } from '../../src/credentials/credential-store.ts';

const T0 = 1_800_000_000_000;
const creds = (expiresAt: number) => ({
  accessKeyId: 'AKIA',
  secretAccessKey: 'secret',
  sessionToken: 'session',
  expiration: new Date(expiresAt),
});

test('empty store serves nothing', () => {
  const store = new CredentialStore({ now: () => T0 });
  assert.equal(store.servable(), undefined);
  assert.equal(store.servableUntil(), undefined);
});

test('credentials are servable until exactly 60 s before expiry, never after', () => {
  let now = T0;
  const store = new CredentialStore({ now: () => now });
  const c = creds(T0 + 3_600_000);
  store.set(c);
  assert.equal(MIN_REMAINING_MS, 60_000);
  assert.equal(store.servable(), c);
  now = T0 + 3_600_000 - 60_000;
  assert.equal(store.servable(), c, 'exactly 60 s left is still servable');
  now += 1;
  assert.equal(store.servable(), undefined, '59.999 s left is not');
  assert.equal(store.servableUntil(), T0 + 3_600_000 - 60_000);
  assert.equal(store.expiration()?.getTime(), T0 + 3_600_000, 'expiry never changes');
});

test('set replaces and emits change; clear empties', () => {
  const store = new CredentialStore({ now: () => T0 });
  const seen: unknown[] = [];
  store.on('change', (c) => seen.push(c));
  const a = creds(T0 + 900_000);
  store.set(a);
  store.clear();
  assert.deepEqual(seen, [a, undefined]);
  assert.equal(store.servable(), undefined);
});

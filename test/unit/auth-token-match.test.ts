// The endpoint's token check, with header values shaped exactly as node:http delivers them
// (bytes decoded as latin1).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SidecarError } from '../../src/shared/errors.ts';
import { authTokenMatches, generateAuthToken, readAuthTokenFile } from '../../src/sidecar/auth-token.ts';

/** What node:http puts in rawHeaders when a client sends `value` as UTF-8 bytes. */
const asReceived = (value: string): string => Buffer.from(value, 'utf8').toString('latin1');

test('the generated token matches itself and nothing else', () => {
  const token = generateAuthToken();
  const expected = Buffer.from(token);
  assert.equal(authTokenMatches(asReceived(token), expected), true);
  assert.equal(authTokenMatches(undefined, expected), false);
  assert.equal(authTokenMatches('', expected), false);
  assert.equal(authTokenMatches(asReceived(`${token}0`), expected), false, 'longer');
  assert.equal(authTokenMatches(asReceived(token.slice(1)), expected), false, 'shorter');
  const lastFlipped = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
  assert.equal(authTokenMatches(asReceived(lastFlipped), expected), false, 'same length, last char differs');
});

test('comparisons back to back reuse nothing from the previous one', () => {
  const a = Buffer.from('a'.repeat(64));
  const b = Buffer.from('b'.repeat(32));
  assert.equal(authTokenMatches('a'.repeat(64), a), true);
  assert.equal(authTokenMatches('b'.repeat(32), b), true);
  assert.equal(authTokenMatches('a'.repeat(32), b), false);
  assert.equal(authTokenMatches('a'.repeat(64), a), true);
});

test('an operator-provided UTF-8 token matches when a client sends its bytes', () => {
  const token = 'jeton-opérateur-ünïcødé-0123456789';
  assert.equal(authTokenMatches(asReceived(token), Buffer.from(token)), true);
  assert.equal(authTokenMatches(asReceived(token.replace('é', 'e')), Buffer.from(token)), false);
});

// Issue #13 (the class of item 2): the operator's auth token file is read with a bound.
test('an auth token file over 4 KiB is AUTH_TOKEN_FILE_INVALID', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-auth-size-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'token');
  await writeFile(path, 'a'.repeat(5000));
  await assert.rejects(readAuthTokenFile(path), (e: SidecarError) => {
    assert.equal(e.code, 'AUTH_TOKEN_FILE_INVALID');
    assert.match(e.message, /larger than 4096 bytes/);
    return true;
  });
});

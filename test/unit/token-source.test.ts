import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ErrorCode, SidecarError } from '../../src/shared/errors.ts';
import { TokenSource } from '../../src/token/token-source.ts';
import { KubeletTokenVolume } from '../helpers/kubelet-token-volume.ts';

const NOW_MS = Date.UTC(2026, 10, 23, 12, 0, 0);
const NOW_S = NOW_MS / 1000;
const now = () => NOW_MS;

const b64u = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Decoding does not verify, so the signature is a fixed fake. */
const jwt = (payload: Record<string, unknown>) =>
  `${b64u({ alg: 'RS256', kid: 'k1' })}.${b64u({ aud: ['sts'], sub: 'system:serviceaccount:ns:sa', ...payload })}.c2lnbmF0dXJl`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const GOOD = jwt({ exp: NOW_S + 3600, jti: 'good' });
const EXPIRED = jwt({ exp: NOW_S, jti: 'expired' });

const root = await mkdtemp(join(tmpdir(), 'sts-sidecar-token-source-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
/** A fresh path in the temp dir, optionally holding `content`. */
async function file(content?: string): Promise<string> {
  const path = join(root, `token-${n++}`);
  if (content !== undefined) await writeFile(path, content);
  return path;
}

/** The token and each of its dot-separated parts: none may appear in an error. */
const secretsOf = (token: string) => [token, ...token.split('.').filter((p) => p.length >= 4)];

/** Asserts `read()` fails with `code`, names the file and the fix, and never echoes any of `secrets`. */
async function assertReadFails(path: string, code: ErrorCode, secrets: string[] = []): Promise<void> {
  const err = await new TokenSource({ tokenFile: path, now }).read().then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SidecarError, String(err));
  assert.equal(err.code, code, err.message);
  assert.ok(err.message.includes(path), `message should name the file: ${err.message}`);
  assert.ok(err.message.includes('STS_SIDECAR_TOKEN_FILE'), `message should name the fix: ${err.message}`);
  const text = [err.message, err.stack, String(err.cause), (err.cause as Error | undefined)?.stack].join(
    '\n',
  );
  for (const secret of secrets) assert.ok(!text.includes(secret), 'token content leaked into the error');
}

const errorCases: {
  name: string;
  code: ErrorCode;
  setup: () => Promise<{ path: string; secrets?: string[] }>;
}[] = [
  { name: 'missing file', code: 'TOKEN_FILE_MISSING', setup: async () => ({ path: await file() }) },
  {
    name: 'dangling symlink (the ..data target is gone)',
    code: 'TOKEN_FILE_MISSING',
    setup: async () => {
      const path = await file();
      await symlink(join(root, 'no-such-target'), path);
      return { path };
    },
  },
  { name: 'empty file', code: 'TOKEN_FILE_EMPTY', setup: async () => ({ path: await file('') }) },
  { name: 'only a newline', code: 'TOKEN_FILE_EMPTY', setup: async () => ({ path: await file('\n') }) },
  {
    name: 'only whitespace',
    code: 'TOKEN_FILE_EMPTY',
    setup: async () => ({ path: await file(' \t\r\n \n') }),
  },
  {
    // The tests run as root, where chmod 000 does not stop a read, so EACCES cannot be produced
    // here; a directory at the token path (EISDIR) takes the same UNREADABLE branch.
    name: 'a directory at the token path',
    code: 'TOKEN_FILE_UNREADABLE',
    setup: async () => {
      const path = await file();
      await mkdir(path);
      return { path };
    },
  },
  {
    name: 'not a JWT (opaque token)',
    code: 'TOKEN_NOT_JWT',
    setup: async () => ({
      path: await file('opaque-secret-value-1234'),
      secrets: ['opaque-secret-value-1234'],
    }),
  },
  {
    name: 'JWT-looking but payload is not JSON',
    code: 'TOKEN_NOT_JWT',
    setup: async () => {
      const content = `${b64u({ alg: 'RS256' })}.${Buffer.from('hunter2x').toString('base64url')}.c2ln`;
      // V8's JSON.parse would quote this short text whole in its own message.
      return { path: await file(content), secrets: [...secretsOf(content), 'hunter2x'] };
    },
  },
  {
    // Only ONE line ending is stripped; anything more is a mangled file, not silently repaired.
    name: 'two trailing newlines',
    code: 'TOKEN_NOT_JWT',
    setup: async () => ({ path: await file(`${GOOD}\n\n`), secrets: secretsOf(GOOD) }),
  },
  {
    name: 'expired: exp equal to now',
    code: 'TOKEN_EXPIRED',
    setup: async () => ({ path: await file(EXPIRED), secrets: secretsOf(EXPIRED) }),
  },
  {
    name: 'expired: exp an hour ago',
    code: 'TOKEN_EXPIRED',
    setup: async () => {
      const content = jwt({ exp: NOW_S - 3600 });
      return { path: await file(content), secrets: secretsOf(content) };
    },
  },
];

for (const c of errorCases) {
  test(`read() → ${c.code}: ${c.name}`, async () => {
    const { path, secrets } = await c.setup();
    await assertReadFails(path, c.code, secrets);
  });
}

test(
  'read() → TOKEN_FILE_UNREADABLE: chmod 000 (EACCES)',
  {
    skip: process.getuid?.() === 0 ? 'root reads mode-000 files; covered by the directory case' : false,
  },
  async () => {
    const path = await file(GOOD);
    await chmod(path, 0o000);
    await assertReadFails(path, 'TOKEN_FILE_UNREADABLE', secretsOf(GOOD));
  },
);

const okCases: { name: string; content: string }[] = [
  { name: 'exact token', content: GOOD },
  { name: 'one trailing \\n is stripped', content: `${GOOD}\n` },
  { name: 'one trailing \\r\\n is stripped', content: `${GOOD}\r\n` },
];

for (const c of okCases) {
  test(`read() returns the token: ${c.name}`, async () => {
    const source = new TokenSource({ tokenFile: await file(c.content), now });
    const token = await source.read();
    assert.equal(token.value, GOOD);
    assert.equal(token.fingerprint, sha256(GOOD));
    assert.deepEqual(token.claims.aud, ['sts']);
    assert.equal(token.claims.exp, NOW_S + 3600);
    assert.equal(await source.fingerprintNow(), token.fingerprint);
  });
}

test('read() accepts a token 1 s before exp (the boundary is exp <= now)', async () => {
  const source = new TokenSource({ tokenFile: await file(EXPIRED), now: () => NOW_MS - 1000 });
  assert.equal((await source.read()).value, EXPIRED);
});

test('read() uses the injected clock, not Date.now', async () => {
  // exp is in 2033: only the injected clock (exp + 1000 s) can make this expired.
  const path = await file(jwt({ exp: 2_000_000_000 }));
  await assert.rejects(new TokenSource({ tokenFile: path, now: () => 2_000_001_000_000 }).read(), {
    code: 'TOKEN_EXPIRED',
  });
});

test('read() reads the file again on every call (kubelet rotation)', async () => {
  const volume = await KubeletTokenVolume.create(GOOD);
  after(() => volume.cleanup());
  const source = new TokenSource({ tokenFile: volume.path, now });
  assert.equal((await source.read()).value, GOOD);
  const next = jwt({ exp: NOW_S + 7200, jti: 'next' });
  await volume.write(next);
  const token = await source.read();
  assert.equal(token.value, next);
  assert.equal(token.fingerprint, sha256(next));
  await volume.remove();
  await assert.rejects(source.read(), { code: 'TOKEN_FILE_MISSING' });
});

test('read() reads a plain file again after an in-place rewrite', async () => {
  const path = await file(GOOD);
  const source = new TokenSource({ tokenFile: path, now });
  assert.equal((await source.read()).value, GOOD);
  await writeFile(path, EXPIRED);
  await assert.rejects(source.read(), { code: 'TOKEN_EXPIRED' });
});

const fingerprintCases: { name: string; setup: () => Promise<string> }[] = [
  { name: 'missing file', setup: () => file() },
  { name: 'empty file', setup: () => file('\n') },
  {
    name: 'directory',
    setup: async () => {
      const path = await file();
      await mkdir(path);
      return path;
    },
  },
];

for (const c of fingerprintCases) {
  test(`fingerprintNow() is undefined and does not throw: ${c.name}`, async () => {
    assert.equal(await new TokenSource({ tokenFile: await c.setup() }).fingerprintNow(), undefined);
  });
}

test('fingerprintNow() hashes content without decoding or checking exp', async () => {
  const path = await file('not-a-jwt\n');
  assert.equal(await new TokenSource({ tokenFile: path }).fingerprintNow(), sha256('not-a-jwt'));
});

// Issue #13 (the class of item 2): every read from a file is bounded; the token file is read
// on every check, so a wrong mount of a big file must not grow the heap each time.
test('a token file over 64 KiB is refused unread as TOKEN_NOT_JWT; its fingerprint is undefined', async () => {
  const path = await file(`${GOOD}${'x'.repeat(64 * 1024)}`);
  await assertReadFails(path, 'TOKEN_NOT_JWT');
  assert.equal(await new TokenSource({ tokenFile: path, now }).fingerprintNow(), undefined);
});

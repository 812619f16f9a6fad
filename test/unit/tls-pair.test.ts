// src/shared/tls-pair.ts: the serving pair of the webhook and the issuer, re-read on every change
// of its mount, so every read is bounded.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSidecarError } from '../../src/shared/errors.ts';
import { readTlsPair } from '../../src/shared/tls-pair.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

const owner = { invalidCode: 'ISSUER_TLS_INVALID', mountHint: "mount the issuer's TLS Secret" } as const;

test('a matching pair is read', async (t) => {
  const cert = await createSelfSignedCert();
  t.after(() => rm(cert.dir, { recursive: true, force: true }));
  const pair = await readTlsPair({ certFile: cert.certFile, keyFile: cert.keyFile }, owner);
  assert.equal(pair.cert.toString('utf8'), cert.certPem);
});

test('a certificate file over the 1 MiB cap is refused unread (EFBIG), with the owner code', async (t) => {
  const cert = await createSelfSignedCert();
  t.after(() => rm(cert.dir, { recursive: true, force: true }));
  const huge = join(cert.dir, 'huge.pem');
  await writeFile(huge, cert.certPem + 'A'.repeat(1024 * 1024));
  await assert.rejects(
    readTlsPair({ certFile: huge, keyFile: cert.keyFile }, owner),
    (error: unknown) =>
      isSidecarError(error) && error.code === 'ISSUER_TLS_INVALID' && /\(EFBIG\)/.test(error.message),
  );
});

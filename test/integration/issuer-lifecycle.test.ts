// The publisher's start and stop: a bad serving pair or a taken port is fatal at start (and what
// had started is undone), and after SIGTERM it drains: unready while still serving documents.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadIssuerConfig } from '../../src/config/issuer-config.ts';
import { startIssuerApp } from '../../src/issuer/issuer-app.ts';
import { isSidecarError } from '../../src/shared/errors.ts';
import { createLogger } from '../../src/shared/log.ts';
import { IssuerHarness } from '../helpers/issuer-harness.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

async function files(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'sts-issuer-life-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await createSelfSignedCert({ dir: await mkdtemp(join(dir, 'a-')) });
  const b = await createSelfSignedCert({ dir: await mkdtemp(join(dir, 'b-')) });
  const caKey = join(dir, 'ca.key');
  await writeFile(
    caKey,
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  return { a, b, caKey };
}

const silent = createLogger({ level: 'silent' });

test('a certificate and key that do not match: ISSUER_TLS_INVALID (fatal) at start', async (t) => {
  const f = await files(t);
  const config = loadIssuerConfig(
    [
      `--tls-cert-file=${f.a.certFile}`,
      `--tls-key-file=${f.b.keyFile}`,
      `--ca-key-file=${f.caKey}`,
      '--listen-port=0',
      '--ops-port=0',
    ],
    {},
  );
  await assert.rejects(startIssuerApp(config, silent), (e: unknown) => {
    assert.ok(isSidecarError(e) && e.code === 'ISSUER_TLS_INVALID' && e.retry === 'fatal');
    assert.match(e.message, /are not a matching PEM certificate and key/);
    return true;
  });
});

test('a TLS file gone between configuration and start: ISSUER_TLS_INVALID naming the files and the Secret', async (t) => {
  const f = await files(t);
  const config = loadIssuerConfig(
    [
      `--tls-cert-file=${f.a.certFile}`,
      `--tls-key-file=${f.a.keyFile}`,
      `--ca-key-file=${f.caKey}`,
      '--listen-port=0',
      '--ops-port=0',
    ],
    {},
  );
  await rm(f.a.keyFile);
  await assert.rejects(startIssuerApp(config, silent), (e: unknown) => {
    assert.ok(isSidecarError(e) && e.code === 'ISSUER_TLS_INVALID');
    assert.match(e.message, /cannot read the TLS files .* \(ENOENT\); mount the issuer's TLS Secret\./);
    return true;
  });
});

test('the ops port taken: LISTEN_FAILED naming the flag; nothing reports listening', async (t) => {
  const f = await files(t);
  const blocker = createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const taken = (blocker.address() as { port: number }).port;
  const config = loadIssuerConfig(
    [
      `--tls-cert-file=${f.a.certFile}`,
      `--tls-key-file=${f.a.keyFile}`,
      `--ca-key-file=${f.caKey}`,
      '--listen-host=127.0.0.1',
      '--listen-port=0',
      '--ops-host=127.0.0.1',
      `--ops-port=${taken}`,
    ],
    {},
  );
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  });
  await assert.rejects(startIssuerApp(config, logger), (e: unknown) => {
    assert.ok(isSidecarError(e) && e.code === 'LISTEN_FAILED');
    assert.match(e.message, /Change --ops-port or --ops-host/);
    return true;
  });
  assert.equal(lines.filter((l) => l.event === 'listening').length, 0);
});

test('after SIGTERM the publisher drains: /readyz is 503 while the documents are still served', async (t) => {
  const h = await IssuerHarness.start(t, { args: ['--drain-seconds=1'] });
  await h.running.refresher.settled();
  assert.equal((await h.ops('/readyz')).status, 200);
  const stopped = h.running.shutdown('SIGTERM');
  assert.equal((await h.ops('/readyz')).status, 503, 'unready as soon as the drain starts');
  assert.equal((await h.fetch('/openid/v1/jwks')).status, 200, 'still served while draining');
  await stopped;
  await assert.rejects(h.fetch('/openid/v1/jwks'), 'closed after the drain');
  assert.ok(h.lines.some((l) => l.event === 'stopped'));
});

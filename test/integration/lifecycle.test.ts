import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SidecarProcess } from '../helpers/sidecar-process.ts';

test(
  'SIGTERM: refreshing stops, valid credentials are served through the grace period, then listeners close and exit 0',
  { timeout: 30_000 },
  async (t) => {
    const p = await SidecarProcess.start({
      // Refresh every second, so a refresh during the grace period would show up at the STS.
      env: { STS_SIDECAR_SHUTDOWN_GRACE_SECONDS: '2', STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS: '1' },
    });
    t.after(() => p.close());
    await p.ready();
    const token = await p.authToken();
    const stopping = await p.next(
      (l) => l.event === 'stop',
      () => p.child.kill('SIGTERM'),
    );
    assert.equal(stopping.reason, 'SIGTERM');
    const exchangesAtStop = p.sts.requests.length;

    const during = await fetch(p.credentialsUrl, { headers: { authorization: token } });
    assert.equal(during.status, 200, 'still served during the grace period');
    assert.equal(((await during.json()) as { AccessKeyId: string }).AccessKeyId, p.sts.issued?.accessKeyId);

    const stopped = await p.waitFor((l) => l.event === 'stopped');
    assert.equal(stopped.forcedClose, false);
    assert.equal(await p.exited, 0);
    assert.equal(p.sts.requests.length, exchangesAtStop, 'no exchange after SIGTERM');
    await assert.rejects(fetch(p.credentialsUrl, { headers: { authorization: token } }), 'listener closed');
  },
);

test(
  'a port already in use is a clear start-up error, exit 2, no stack trace',
  { timeout: 20_000 },
  async (t) => {
    const first = await SidecarProcess.start();
    t.after(() => first.close());
    const { port } = new URL(first.credentialsUrl);
    const second = SidecarProcess.start({ env: { STS_SIDECAR_LISTEN_PORT: port } });
    await assert.rejects(second, (error: Error) => {
      assert.match(error.message, /exited \(2\)/);
      assert.match(
        error.message,
        new RegExp(`LISTEN_FAILED: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`),
      );
      assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
      return true;
    });
  },
);

test(
  'a non-loopback listen address needs an explicit opt-in, and then is logged as a warning',
  { timeout: 20_000 },
  async (t) => {
    const refused = SidecarProcess.start({ env: { STS_SIDECAR_LISTEN_HOST: '0.0.0.0' } });
    await assert.rejects(refused, /exited \(2\).*0\.0\.0\.0 is not a loopback address/s);
    const p = await SidecarProcess.start({
      env: { STS_SIDECAR_LISTEN_HOST: '0.0.0.0', STS_SIDECAR_ALLOW_NON_LOOPBACK: 'true' },
    });
    t.after(() => p.close());
    const warning = await p.waitFor((l) => l.event === 'non_loopback_listen');
    assert.equal(warning.level, 'warn');
  },
);

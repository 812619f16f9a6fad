import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { isSidecarError } from '../../src/shared/errors.ts';
import { EngineHarness } from '../helpers/engine-harness.ts';
import { SidecarProcess } from '../helpers/sidecar-process.ts';

// Feeds known secrets (tokens, secret keys, session tokens) through the success and failure
// paths and looks for them, and for any 24-char run of them, in logs, metrics and errors.
test(
  'no token, secret key or session token reaches logs, metrics or error messages',
  {
    timeout: 30_000,
  },
  async (t) => {
    const h = await EngineHarness.create({ noToken: true });
    t.after(() => h.close());
    const secrets: string[] = [];

    // A token file holding garbage is still a secret: the error must not quote it.
    const garbage = 'SECRET-GARBAGE-0123456789abcdefghijklmnop';
    secrets.push(garbage);
    await h.volume.write(garbage);
    await h.sidecar.start();

    let token = '';
    const healed = await h.nextOutcome(async () => {
      token = await h.rotateToken();
    });
    assert.equal(healed.ok, true, 'the watcher saw the new file');
    secrets.push(token);
    const first = h.sidecar.store.servable()!;
    secrets.push(first.secretAccessKey, first.sessionToken);

    // STS echoing the token in its error message; then assorted failures; then success again.
    for (const fault of ['echo-token', 'http500', 'truncated', 'html', 'expired'] as const) {
      h.sts.injectFault(fault);
      const outcome = await h.runNextAttempt();
      assert.equal(outcome.ok, false, fault);
    }
    h.sts.injectFault({ code: 'AccessDenied', status: 403, message: `denied for ${secrets[1]}` });
    const denied = await h.runNextAttempt();
    assert.equal(denied.ok, false);
    // Refused: a new token file is retried at once.
    const ok = await h.nextOutcome(async () => {
      secrets.push(await h.rotateToken());
    });
    assert.equal(ok.ok, true);
    const second = h.sidecar.store.servable()!;
    secrets.push(second.secretAccessKey, second.sessionToken);
    // What the fake handed out in its 'expired' answer is secret too.
    for (const r of h.sts.requests)
      if (r.issued) secrets.push(r.issued.secretAccessKey, r.issued.sessionToken);

    const metrics = await h.metrics.registry.metrics();
    const errors = h.outcomes
      .filter((o) => !o.ok)
      .map((o) =>
        o.ok ? '' : `${o.error.message} ${JSON.stringify(isSidecarError(o.error) ? o.error.details : {})}`,
      )
      .join('\n');
    const places = { logs: h.logs, metrics, errors };

    assert.ok(
      h.logs.includes('"result":"failure"') && h.logs.includes('"result":"success"'),
      'both paths logged',
    );
    assert.ok(errors.includes('[REDACTED]'), 'the echoed token was scrubbed, not dropped silently');
    for (const [place, text] of Object.entries(places)) {
      for (const secret of secrets) {
        assert.ok(secret.length >= 24);
        for (let i = 0; i + 24 <= secret.length; i += 8) {
          const piece = secret.slice(i, i + 24);
          assert.ok(
            !text.includes(piece),
            `a piece of a secret (${secret.slice(0, 4)}…) leaked into ${place}`,
          );
        }
      }
    }
  },
);

// The same check on the running process: its stdout/stderr, every error body the endpoint
// sends, and /metrics. The endpoint's auth token and tokens clients send are secrets too.
test(
  'the running sidecar leaks no secret through logs, error bodies or /metrics',
  { timeout: 30_000 },
  async (t) => {
    const p = await SidecarProcess.start({
      env: { STS_SIDECAR_LOG_LEVEL: 'trace', STS_SIDECAR_MAX_REFRESH_INTERVAL_SECONDS: '1' },
    });
    t.after(() => p.close());
    await p.ready();
    const firstToken = await readFile(p.volume.path, 'utf8');
    // STS echoes the token in an error; a rotated token then heals it at once.
    const refused = await p.next(
      (l) => l.event === 'exchange' && l.result === 'failure',
      () => p.sts.injectFault('echo-token'),
    );
    assert.equal((refused.err as { code: string }).code, 'STS_REJECTED_TOKEN');
    await p.next(
      (l) => l.event === 'exchange' && l.result === 'success',
      () => p.rotateToken(),
    );
    const auth = await p.authToken();
    const projected = await readFile(p.volume.path, 'utf8');
    const clientSecret = `client-secret-${'x'.repeat(40)}`;
    const bodies: string[] = [];
    const ask = async (path: string, init: RequestInit = {}) => {
      const r = await fetch(new URL(path, p.credentialsUrl), init);
      const text = await r.text();
      if (r.status !== 200) bodies.push(text);
      return r.status;
    };
    assert.equal(await ask('/v1/credentials', { headers: { authorization: auth } }), 200);
    assert.equal(await ask('/v1/credentials', { headers: { authorization: clientSecret } }), 401);
    assert.equal(await ask('/v1/credentials', { headers: { authorization: projected } }), 401);
    assert.equal(await ask('/v1/credentialz', { headers: { authorization: auth } }), 404);
    assert.equal(await ask('/v1/credentials', { method: 'DELETE', headers: { authorization: auth } }), 405);
    assert.equal(
      await ask('/v1/credentials', { headers: { authorization: auth, 'x-forwarded-for': '1.2.3.4' } }),
      403,
    );
    const metrics = await (await fetch(`${p.opsUrl}/metrics`)).text();
    const readyz = await (await fetch(`${p.opsUrl}/readyz`)).text();
    assert.equal(await p.stop(), 0);

    const issued = p.sts.requests.filter((r) => r.issued).map((r) => r.issued!);
    const secrets = [
      auth,
      projected,
      firstToken,
      clientSecret,
      ...issued.flatMap((c) => [c.secretAccessKey, c.sessionToken]),
    ];
    const places = {
      stdout: JSON.stringify(p.lines),
      stderr: p.stderr,
      errorBodies: bodies.join('\n'),
      metrics,
      readyz,
    };
    assert.ok(bodies.length >= 5 && p.lines.length > 3, 'the paths were exercised');
    for (const [place, text] of Object.entries(places))
      for (const secret of secrets)
        for (let i = 0; i + 24 <= secret.length; i += 8)
          assert.ok(
            !text.includes(secret.slice(i, i + 24)),
            `a piece of a secret (${secret.slice(0, 4)}…) leaked into ${place}`,
          );
  },
);

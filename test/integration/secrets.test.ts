import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSidecarError } from '../../src/errors.ts';
import { EngineHarness } from '../helpers/engine-harness.ts';

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

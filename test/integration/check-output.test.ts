// Issue #12, part 3: what `sts-sidecar check` prints and exits with: human lines, --json, usage
// errors, no secret anywhere in its output; and the broken issuer documents it names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHECK_ONLY_OPTIONS } from '../../src/config/check-options.ts';
import { StaticHttp } from '../fakes/static-http.ts';
import { assertBrokenAt, runCheckBoth, runCheckCli, runCheckInProcess } from '../helpers/check-runner.ts';
import { checkWorld, podToken } from '../helpers/check-world.ts';

test('human output: one line per step with ✓/!/✗/-, the fix under a failure, the verdict last', async (t) => {
  const w = await checkWorld(t, { issuer: { x5c: false } });
  const run = await runCheckCli([], w.env);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, '');
  const lines = run.stdout.trimEnd().split('\n');
  assert.match(
    lines[0]!,
    /^sts-sidecar check: flavor rgw, STS http:\/\/127\.0\.0\.1:\d+\/, role arn:aws:iam:::role\/app, token /,
  );
  assert.match(lines[1]!, /^✓ token {5}\S/);
  assert.match(
    lines[2]!,
    /^- audience {2}not compared \(no --audience\); the token's aud is sts\.example\.test$/,
  );
  assert.match(lines[5]!, /^✗ x5c {7}CHECK_JWKS_NO_X5C: the JWKS at /);
  assert.match(lines[6]!, /^ {12}fix: Deploy `sts-sidecar issuer`/);
  assert.match(lines[7]!, /^- sts {7}not run: x5c failed$/);
  assert.equal(lines.at(-1), 'BROKEN: x5c (CHECK_JWKS_NO_X5C)');
  const ok = await runCheckCli(['--rgw-version', '20.2.0'], w.env);
  assert.equal(ok.code, 0, ok.stdout);
  assert.equal(ok.stdout.trimEnd().split('\n').at(-1), 'OK: every link holds');
});

test('secrets: the token, the issued secret key and session token never reach stdout or stderr', async (t) => {
  const w = await checkWorld(t);
  const token = podToken(w.issuer);
  await w.writeToken(token);
  const outputs: string[] = [];
  for (const args of [[], ['--json']]) {
    const cli = await runCheckCli(args, w.env);
    assert.equal(cli.code, 0, cli.stdout);
    const issued = w.sts.issued!;
    const local = await runCheckInProcess(args, w.env);
    const issuedLocally = w.sts.issued!;
    outputs.push(cli.stdout + cli.stderr + local.stdout + local.stderr);
    for (const out of outputs)
      for (const secret of [
        token,
        issued.secretAccessKey,
        issued.sessionToken,
        issuedLocally.secretAccessKey,
      ]) {
        assert.ok(secret.length > 20);
        assert.ok(!out.includes(secret), 'a secret was printed');
      }
  }
  // A store that echoes the token in its error message (fake-sts `echo-token`): scrubbed.
  w.sts.injectFault('echo-token', { times: 2 });
  const echoed = await runCheckCli(['--json'], w.env);
  const failure = assertBrokenAt(echoed, 'exchange', 'STS_REJECTED_TOKEN');
  assert.match(failure.message, /\[REDACTED\]/);
  assert.ok(
    w.sts.requests.some((r) => r.outcome === 'echo-token'),
    'the store did echo it',
  );
  assert.ok(!(echoed.stdout + echoed.stderr).includes(token), 'the echoed token was printed');
});

test('usage errors exit 2 with every problem on stderr; --json also prints a config report', async (t) => {
  const w = await checkWorld(t);
  const flag = await runCheckCli(['--no-such-flag'], w.env);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /no-such-flag/);
  const env = { ...w.env, STS_SIDECAR_FLAVOR: 'minio' };
  const both = await runCheckBoth(['--rgw-version', '19.2', '--max-clock-skew-seconds', '901'], env);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--rgw-version: must be a Ceph version such as 18\.2\.8/);
  assert.match(both.stderr, /--max-clock-skew-seconds: must be between 1 and 900/);
  assert.equal(both.report?.firstFailure?.step, 'config');
  assert.equal(both.report?.firstFailure?.code, 'CONFIG_INVALID');
  const minio = await runCheckInProcess(['--rgw-version', '19.2.3'], env);
  assert.match(minio.stderr, /applies to --flavor rgw only \(the flavor is minio\)/);
  assert.equal(minio.stdout, '', 'no report without --json');
});

test('check --help lists the sidecar options and its own', async () => {
  const help = await runCheckCli(['--help'], {});
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: sts-sidecar check \[flags\]/);
  assert.match(help.stdout, /Exit code 0: every link holds/);
  for (const o of CHECK_ONLY_OPTIONS) assert.match(help.stdout, new RegExp(`--${o.flag}\\s+${o.env}`));
  assert.match(help.stdout, /--sts-endpoint\s+STS_SIDECAR_STS_ENDPOINT/);
});

/** A pod token whose iss is a {@link StaticHttp} server serving broken documents. */
async function brokenIssuer(
  t: import('node:test').TestContext,
): Promise<{ env: NodeJS.ProcessEnv; kid: string; web: StaticHttp }> {
  const w = await checkWorld(t);
  const web = await StaticHttp.start();
  t.after(() => web.close());
  await w.writeToken(podToken(w.issuer, { issuer: web.url }));
  return { env: w.env, kid: w.issuer.currentKid, web };
}

const DOCUMENT_CASES: Array<{
  name: string;
  setUp: (web: StaticHttp, kid: string) => void;
  step: string;
  code: string;
  message: RegExp;
}> = [
  {
    name: 'discovery behind authentication',
    setUp: (web) => web.route('/.well-known/openid-configuration', { status: 401, body: 'Unauthorized' }),
    step: 'issuer',
    code: 'CHECK_ISSUER_UNREACHABLE',
    message: /answered HTTP 401: it wants credentials, and stores fetch it anonymously/,
  },
  {
    name: 'discovery not JSON',
    setUp: (web) => web.route('/.well-known/openid-configuration', { body: '<html>login</html>' }),
    step: 'issuer',
    code: 'CHECK_ISSUER_DOCUMENT_INVALID',
    message: /the body is not a JSON object/,
  },
  {
    name: 'discovery without jwks_uri',
    setUp: (web) => web.discovery({ jwks_uri: undefined }),
    step: 'issuer',
    code: 'CHECK_ISSUER_DOCUMENT_INVALID',
    message: /has no http\(s\) jwks_uri/,
  },
  {
    name: 'discovery larger than the cap',
    setUp: (web) =>
      web.discovery().route('/.well-known/openid-configuration', { body: {}, padBytes: 70_000 }),
    step: 'issuer',
    code: 'CHECK_ISSUER_DOCUMENT_INVALID',
    message: /larger than 65536 bytes/,
  },
  {
    name: 'JWKS answering 500',
    setUp: (web) => web.discovery().route('/keys', { status: 500, body: 'oops' }),
    step: 'jwks',
    code: 'CHECK_ISSUER_UNREACHABLE',
    message: /\/keys answered HTTP 500$/,
  },
  {
    name: 'JWKS without keys',
    setUp: (web) => web.discovery().route('/keys', { body: { keys: 'none' } }),
    step: 'jwks',
    code: 'CHECK_ISSUER_DOCUMENT_INVALID',
    message: /is not a JWKS: it has no "keys" array/,
  },
  {
    name: 'JWKS key that is not a public key',
    setUp: (web, kid) => web.discovery().route('/keys', { body: { keys: [{ kid, kty: 'RSA' }, null] } }),
    step: 'jwks',
    code: 'CHECK_ISSUER_DOCUMENT_INVALID',
    message: /is not a usable public key/,
  },
];

for (const c of DOCUMENT_CASES)
  test(`broken issuer document: ${c.name} → ${c.code}`, async (t) => {
    const { env, kid, web } = await brokenIssuer(t);
    c.setUp(web, kid);
    const run = await runCheckInProcess(['--json'], env);
    const failure = assertBrokenAt(run, c.step, c.code);
    assert.match(failure.message, c.message);
  });

test('an STS that never answers → CHECK_STS_UNREACHABLE after --sts-timeout-seconds', async (t) => {
  const w = await checkWorld(t);
  w.sts.injectFault('hang');
  const run = await runCheckInProcess(['--json', '--sts-timeout-seconds', '1'], w.env);
  const failure = assertBrokenAt(run, 'sts', 'CHECK_STS_UNREACHABLE');
  assert.match(failure.message, /no answer within 1 s/);
});

test('a token without iss → CHECK_ISSUER_MISMATCH: the store finds the issuer by it', async (t) => {
  const w = await checkWorld(t);
  await w.writeToken(podToken(w.issuer, { claims: { iss: undefined } }));
  const failure = assertBrokenAt(
    await runCheckInProcess(['--json'], w.env),
    'issuer',
    'CHECK_ISSUER_MISMATCH',
  );
  assert.match(failure.message, /the token has no iss claim/);
});

test('a store failing the exchange (5xx) → STS_SERVER_ERROR, with a fix the catalogue has no hint for', async (t) => {
  const w = await checkWorld(t);
  w.sts.injectFault('http503', { times: 2 }); // the GET probe takes one: any answer will do
  const failure = assertBrokenAt(await runCheckInProcess(['--json'], w.env), 'exchange', 'STS_SERVER_ERROR');
  assert.match(failure.message, /HTTP 503/);
  assert.match(failure.fix ?? '', /check its health and logs/);
});

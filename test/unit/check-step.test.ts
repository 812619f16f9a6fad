import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHuman } from '../../src/check/check-output.ts';
import { fail, ok, runSteps, skip, type Step, warn } from '../../src/check/check-step.ts';
import { discoveryUrl } from '../../src/check/issuer-steps.ts';
import { rgwNeedsX5c } from '../../src/check/rgw-versions.ts';
import { loadCheckConfig } from '../../src/config/check-config.ts';
import { SidecarError } from '../../src/shared/errors.ts';

const VERSIONS: Array<[string, boolean]> = [
  ['16.2.15', true],
  ['17.2.8', true],
  ['18.1.9', true],
  ['18.2.7', true],
  ['18.2.8', false],
  ['18.3.0', false],
  ['19.2.2', true],
  ['19.2.3', false],
  ['20.2.0', false],
  ['21.0.1', false],
];
for (const [version, needs] of VERSIONS)
  test(`rgwNeedsX5c(${version}) = ${needs}`, () => assert.equal(rgwNeedsX5c(version), needs));

test('discoveryUrl drops trailing slashes of iss', () => {
  assert.equal(discoveryUrl('https://i.example/'), 'https://i.example/.well-known/openid-configuration');
  assert.equal(discoveryUrl('https://i.example/x'), 'https://i.example/x/.well-known/openid-configuration');
});

const step = (name: Step<null>['name'], run: () => Promise<ReturnType<typeof ok>>): Step<null> => ({
  name,
  run,
});

test('runSteps stops at the first failure: later steps are skipped as not run', async () => {
  const ran: string[] = [];
  const report = await runSteps(
    [
      step('token', async () => (ran.push('token'), ok('fine'))),
      step('audience', async () => (ran.push('audience'), warn('CHECK_CLOCK_SKEW', 'odd'))),
      step('issuer', async () => (ran.push('issuer'), fail('CHECK_ISSUER_MISMATCH', 'broken'))),
      step('jwks', async () => (ran.push('jwks'), ok('never'))),
    ],
    null,
  );
  assert.deepEqual(ran, ['token', 'audience', 'issuer']);
  assert.equal(report.ok, false);
  assert.equal(report.firstFailure?.step, 'issuer');
  assert.match(report.firstFailure?.fix ?? '', /--service-account-issuer/, 'the fix defaults to the hint');
  assert.deepEqual(report.steps[3], {
    step: 'jwks',
    status: 'skip',
    code: null,
    message: 'not run: issuer failed',
    fix: null,
    details: {},
  });
});

test('a step that throws fails with its SidecarError code, or INTERNAL_ERROR for anything else', async () => {
  const coded = await runSteps(
    [
      step('token', async () => {
        throw new SidecarError('TOKEN_NOT_JWT', 'not a JWT');
      }),
    ],
    null,
  );
  assert.equal(coded.firstFailure?.code, 'TOKEN_NOT_JWT');
  const bug = await runSteps(
    [
      step('token', async () => {
        throw new TypeError('x is undefined');
      }),
    ],
    null,
  );
  assert.equal(bug.firstFailure?.code, 'INTERNAL_ERROR');
  assert.match(
    bug.firstFailure?.message ?? '',
    /the token step failed unexpectedly \(TypeError: x is undefined\)/,
  );
});

const CONFIG = loadCheckConfig([], {
  STS_SIDECAR_STS_ENDPOINT: 'http://sts.example',
  STS_SIDECAR_FLAVOR: 'minio',
});

test('formatHuman: marks, codes only off ok, a fix line under warn and fail, the verdict', () => {
  const text = formatHuman(
    {
      ok: true,
      firstFailure: null,
      steps: [
        { step: 'token', ...ok('fine') },
        { step: 'clock', ...warn('CHECK_CLOCK_SKEW', 'off by 90 s') },
        { step: 'exchange', ...skip('not run: --skip-exchange') },
      ],
    },
    CONFIG,
  );
  assert.equal(
    text,
    [
      'sts-sidecar check: flavor minio, STS http://sts.example/, token /var/run/secrets/sts-sidecar/serviceaccount/token',
      '✓ token     fine',
      '! clock     CHECK_CLOCK_SKEW: off by 90 s',
      `            fix: ${warn('CHECK_CLOCK_SKEW', '').fix}`,
      '- exchange  not run: --skip-exchange',
      'OK: every link holds (1 warning(s))',
      '',
    ].join('\n'),
  );
});

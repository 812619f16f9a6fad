import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOptions } from '../../src/config/option-loader.ts';
import { optionDoc, type OptionSpec } from '../../src/config/option-spec.ts';
import { SIDECAR_OPTIONS } from '../../src/config/sidecar-options.ts';
import { FLAVORS } from '../../src/config/stores.ts';
import { WEBHOOK_OPTIONS } from '../../src/config/webhook-options.ts';
import { ConfigError } from '../../src/shared/errors.ts';

type Key =
  'port' | 'count' | 'mode' | 'on' | 'url' | 'host' | 'cpu' | 'role' | 'name' | 'flavor' | 'duration';
const ROWS: readonly OptionSpec<Key>[] = [
  {
    key: 'port',
    env: 'T_PORT',
    flag: 'port',
    kind: 'integer',
    range: { min: 1024, max: 65_535 },
    allowZero: true,
    defaultValue: '8080',
    doc: '',
  },
  { key: 'count', env: 'T_COUNT', flag: 'count', kind: 'integer', range: { min: 1, max: 10 }, doc: '' },
  {
    key: 'mode',
    env: 'T_MODE',
    flag: 'mode',
    kind: 'enum',
    values: ['a', 'b'],
    required: 'is required: a or b.',
    doc: '',
  },
  { key: 'on', env: 'T_ON', flag: 'on', kind: 'boolean', defaultValue: 'false', doc: '' },
  { key: 'url', env: 'T_URL', flag: 'url', kind: 'url', doc: '' },
  { key: 'host', env: 'T_HOST', flag: 'host', kind: 'ip', defaultValue: '127.0.0.1', doc: '' },
  { key: 'cpu', env: 'T_CPU', flag: 'cpu', kind: 'quantity', defaultValue: '10m', doc: '' },
  { key: 'role', env: 'T_ROLE', flag: 'role', kind: 'arn', doc: '' },
  {
    key: 'name',
    env: 'T_NAME',
    flag: 'name',
    kind: 'string',
    pattern: { regex: /^[a-z]+$/, problem: 'lower-case only.' },
    doc: '',
  },
  { key: 'flavor', env: 'T_FLAVOR', flag: 'flavor', kind: 'enum', values: FLAVORS, doc: '' },
  {
    key: 'duration',
    env: 'T_DURATION',
    flag: 'duration',
    kind: 'integer',
    perStore: 'durationSeconds',
    defaultValue: '3600',
    doc: '',
  },
];
const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadOptions(ROWS, argv, env, 'Run --help.');
const MINIMAL = ['--mode=a'];

/** The problems of one load, as "flag: problem" lines. */
function problems(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    load(argv, env).throwIfInvalid();
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((i) => `${i.flag}: ${i.problem}`);
  }
}

test('values are parsed by kind: flag over env over default', () => {
  const o = load([...MINIMAL, '--count=3', '--on=true', '--url=https://x.example'], {
    T_COUNT: '9',
    T_PORT: '0',
  });
  assert.equal(o.value('count'), 3);
  assert.equal(o.value('port'), 0);
  assert.equal(o.value('on'), true);
  assert.equal(o.value('url'), 'https://x.example/');
  assert.equal(o.value('host'), '127.0.0.1');
  assert.equal(o.value('cpu'), '10m');
  assert.equal(o.value('duration'), 3600);
  assert.equal(o.value('role'), undefined);
  assert.deepEqual(problems(MINIMAL), []);
});

test('an empty env var counts as unset', () => {
  assert.equal(load(MINIMAL, { T_PORT: '' }).value('port'), 8080);
});

const rejected: Array<{ name: string; argv: string[]; env?: NodeJS.ProcessEnv; expect: RegExp }> = [
  { name: 'missing required enum', argv: [], expect: /^--mode: is required: a or b\.$/ },
  { name: 'enum outside its values', argv: ['--mode=c'], expect: /--mode: "c" is not one of a, b/ },
  {
    name: 'integer with a unit',
    argv: [...MINIMAL, '--count=3s'],
    expect: /--count: "3s" is not a whole number; use a value between 1 and 10/,
  },
  {
    name: 'negative integer',
    argv: [...MINIMAL, '--count=-1'],
    expect: /--count: "-1" is not a whole number/,
  },
  {
    name: 'integer above its range',
    argv: [...MINIMAL, '--count=11'],
    expect: /--count: must be between 1 and 10; got 11/,
  },
  {
    name: 'port below its range, zero allowed',
    argv: [...MINIMAL, '--port=80'],
    expect: /--port: must be 0 or between 1024 and 65535; got 80/,
  },
  { name: 'boolean spelled yes', argv: [...MINIMAL, '--on=yes'], expect: /--on: must be true or false/ },
  { name: 'URL without a scheme', argv: [...MINIMAL, '--url=x.example'], expect: /--url: is not a URL/ },
  {
    name: 'URL with a password',
    argv: [...MINIMAL, '--url=https://u:p@x.example'],
    expect: /--url: must not carry user:password/,
  },
  {
    name: 'host name for an IP',
    argv: [...MINIMAL, '--host=localhost'],
    expect: /--host: "localhost" is not an IP address; use 127\.0\.0\.1/,
  },
  {
    name: 'quantity with a space',
    argv: [...MINIMAL, '--cpu=1 G'],
    expect: /--cpu: "1 G" is not a Kubernetes quantity/,
  },
  { name: 'ARN without its parts', argv: [...MINIMAL, '--role=role/app'], expect: /--role: is not an ARN/ },
  { name: 'pattern mismatch', argv: [...MINIMAL, '--name=Ab'], expect: /--name: lower-case only\./ },
  {
    name: 'per-store range of the flavor',
    argv: [...MINIMAL, '--flavor=rgw', '--duration=86400'],
    expect: /--duration: must be between 900 and 43200 for flavor rgw; got 86400/,
  },
  {
    name: 'per-store range without a flavor: the widest',
    argv: [...MINIMAL, '--duration=40000000'],
    expect: /--duration: must be between 900 and 31536000; got 40000000/,
  },
  { name: 'unknown flag', argv: [...MINIMAL, '--nope=1'], expect: /\(command line\): .*nope.*Run --help\./ },
];
for (const c of rejected)
  test(`rejected: ${c.name}`, () => {
    const found = problems(c.argv, c.env);
    assert.ok(
      found.some((p) => c.expect.test(p)),
      `${c.expect} in ${JSON.stringify(found)}`,
    );
  });

test('every problem is reported at once', () => {
  assert.equal(problems(['--count=0', '--on=1', '--host=x']).length, 4);
});

test('the per-store range follows the flavor: minio accepts what rgw refuses', () => {
  assert.equal(load([...MINIMAL, '--flavor=minio', '--duration=86400']).value('duration'), 86_400);
});

for (const [name, rows] of [
  ['sidecar', SIDECAR_OPTIONS],
  ['webhook', WEBHOOK_OPTIONS],
] as const) {
  test(`${name} rows: every integer has a range or per-store limits, every enum its values`, () => {
    for (const r of rows as readonly OptionSpec[]) {
      if (r.kind === 'integer') assert.ok(r.range !== undefined || r.perStore !== undefined, r.key);
      if (r.kind === 'enum') assert.ok((r.values?.length ?? 0) > 0, r.key);
    }
  });
  test(`${name} rows: a doc that names a range renders it from the row, and defaults pass their own checks`, () => {
    for (const r of rows as readonly OptionSpec[]) {
      assert.doesNotMatch(optionDoc(r), /\{range\}|\{durations\}/, r.key);
      if (r.range !== undefined && r.doc.includes('{range}'))
        assert.match(optionDoc(r), new RegExp(`${r.range.min}-${r.range.max}`), r.key);
    }
    const o = loadOptions(rows as readonly OptionSpec[], [], {}, '');
    for (const r of rows as readonly OptionSpec[])
      if (r.defaultValue !== undefined) assert.equal(o.failed(r.key), false, `default of ${r.key}`);
  });
}

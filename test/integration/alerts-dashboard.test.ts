// The chart's PrometheusRule and Grafana dashboard, checked by the real tools: helm renders
// them, promtool checks and unit-tests exactly the rendered rules (test/fixtures/promtool/), and
// the objects are validated against their schemas. metric-names.test.ts checks the metric names
// against the running processes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { findGoTool } from '../helpers/go-tools.ts';
import { type KubeObject, parseManifests, validateObject } from '../helpers/k8s-schema.ts';

const run = promisify(execFile);
const CHART = new URL('../../charts/sts-sidecar/', import.meta.url).pathname;
const RULES_FILE = join(CHART, 'files', 'prometheus-rules.yaml');
const DASHBOARD_FILE = join(CHART, 'files', 'grafana-dashboard.json');
const PROMTOOL_FIXTURES = new URL('../fixtures/promtool/', import.meta.url).pathname;
/** The rule file's placeholders, each with the value the first render test sets. */
const PLACEHOLDERS = {
  '${CREDENTIALS_EXPIRING_MINUTES}': ['prometheusRule.credentialsExpiringMinutes', '7'],
  '${REFRESH_FAILING_WINDOW_MINUTES}': ['prometheusRule.refreshFailingWindowMinutes', '4'],
  '${REFRESH_FAILING_FOR_MINUTES}': ['prometheusRule.refreshFailingForMinutes', '3'],
} as const;

const helm = findGoTool('helm');
const promtool = findGoTool('promtool');
const needsHelm = { skip: helm.path === undefined ? helm.skipReason : false };
const needsBoth = {
  skip: helm.path === undefined ? helm.skipReason : promtool.path === undefined ? promtool.skipReason : false,
};

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleSpec {
  groups: { name: string; rules: Rule[] }[];
}

/** `helm template` of the chart with --set pairs; the chart needs a kube version >= 1.29. */
async function render(sets: string[], namespace = 'sts-system'): Promise<KubeObject[]> {
  const args = ['template', 'r', CHART, '--namespace', namespace, '--kube-version', '1.31.0'];
  for (const s of sets) args.push('--set', s);
  const { stdout } = await run(helm.path!, args, { maxBuffer: 16 * 1024 * 1024 });
  return parseManifests(stdout);
}

function only(objects: KubeObject[], kind: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind} expected, got ${found.length}`);
  return found[0]!;
}

const renderedRules = async (sets: string[] = []): Promise<RuleSpec> =>
  only(await render(['prometheusRule.enabled=true', ...sets]), 'PrometheusRule').spec as RuleSpec;

function alerts(spec: RuleSpec): Rule[] {
  return spec.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
}

test('neither object is rendered by default', needsHelm, async () => {
  const kinds = (await render([])).map((o) => o.kind);
  assert.ok(!kinds.includes('PrometheusRule'));
  assert.ok(
    !(await render([])).some((o) => o.kind === 'ConfigMap' && o.metadata.name?.endsWith('-dashboard')),
  );
});

test(
  'the PrometheusRule ships files/prometheus-rules.yaml with the thresholds and durations filled in',
  needsHelm,
  async () => {
    const objects = await render([
      'prometheusRule.enabled=true',
      ...Object.values(PLACEHOLDERS).map(([key, value]) => `${key}=${value}`),
      'prometheusRule.labels.release=kube-prometheus-stack',
    ]);
    const rule = only(objects, 'PrometheusRule');
    await validateObject(rule);
    assert.equal(rule.metadata.namespace, 'sts-system');
    assert.equal(rule.metadata.labels?.release, 'kube-prometheus-stack');
    assert.equal(rule.metadata.labels?.['app.kubernetes.io/component'], 'alerts');
    const source = await readFile(RULES_FILE, 'utf8');
    let filled = source;
    for (const [placeholder, [, value]] of Object.entries(PLACEHOLDERS)) {
      assert.ok(source.includes(placeholder), `the rule file has the placeholder ${placeholder}`);
      filled = filled.replaceAll(placeholder, value);
    }
    // Single source: the shipped spec is the file, placeholders aside, nothing added or dropped.
    assert.deepEqual(rule.spec, parseYaml(filled));
    const expiring = alerts(rule.spec as RuleSpec).find(
      (r) => r.alert === 'StsSidecarCredentialsExpiringSoon',
    );
    assert.match(expiring!.expr, /< 7 \* 60\s*$/);
    assert.match(expiring!.annotations!.description!, /threshold 7\s+minutes/);
    const failing = alerts(rule.spec as RuleSpec).find((r) => r.alert === 'StsSidecarRefreshFailing');
    assert.equal(failing!.for, '3m');
    assert.match(failing!.expr, /\[4m\]/);
    assert.match(failing!.expr, /time\(\) - 4 \* 60\s*$/);
    assert.doesNotMatch(JSON.stringify(rule.spec), /\$\{[A-Z_]+\}/);
  },
);

test('every alert has a severity, a summary, a description and a runbook hint', needsHelm, async () => {
  const list = alerts(await renderedRules());
  assert.ok(list.length >= 9, `${list.length} alerts`);
  for (const r of list) {
    assert.match(r.labels?.severity ?? '', /^(critical|warning|info)$/, `${r.alert}: severity`);
    for (const key of ['summary', 'description', 'runbook'])
      assert.ok((r.annotations?.[key] ?? '').length > 20, `${r.alert}: annotation ${key}`);
    assert.match(r.alert!, /^StsSidecar[A-Z]\w+$/);
    // Alerts with a code label name it, so the operator knows which error-table row to read.
    if (/\bcode\b/.test(r.expr.split('by (')[1]?.split(')')[0] ?? ''))
      assert.match(
        r.annotations!.summary! + r.annotations!.description!,
        /\{\{ \$labels\.code \}\}/,
        r.alert,
      );
  }
});

/** Writes the rendered spec and the unit-test files into one temp dir; returns it. */
async function promtoolDir(spec: RuleSpec): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sts-sidecar-promtool-'));
  await writeFile(join(dir, 'rules.yaml'), stringifyYaml(spec));
  for (const f of await readdir(PROMTOOL_FIXTURES))
    if (f.endsWith('.yaml')) await copyFile(join(PROMTOOL_FIXTURES, f), join(dir, f));
  return dir;
}

test('promtool check rules accepts the rendered rules', needsBoth, async (t) => {
  const dir = await promtoolDir(await renderedRules());
  t.after(() => rm(dir, { recursive: true, force: true }));
  t.diagnostic(promtool.path === undefined ? '' : promtool.version);
  const { stdout } = await run(promtool.path!, ['check', 'rules', join(dir, 'rules.yaml')]);
  assert.match(stdout, /SUCCESS: \d+ rules found/);
});

/** What promtool says about each placeholder left in the rules. */
const UNREPLACED: Record<keyof typeof PLACEHOLDERS, RegExp> = {
  '${CREDENTIALS_EXPIRING_MINUTES}': /"StsSidecarCredentialsExpiringSoon": could not parse expression/,
  '${REFRESH_FAILING_WINDOW_MINUTES}': /"StsSidecarRefreshFailing": could not parse expression/,
  '${REFRESH_FAILING_FOR_MINUTES}': /not a valid duration string: "\$\{REFRESH_FAILING_FOR_MINUTES\}m"/,
};

for (const [placeholder, refusal] of Object.entries(UNREPLACED))
  test(`promtool check rules refuses a chart that left ${placeholder} in`, needsBoth, async (t) => {
    let text = await readFile(RULES_FILE, 'utf8');
    for (const [other, [, value]] of Object.entries(PLACEHOLDERS))
      if (other !== placeholder) text = text.replaceAll(other, value);
    const dir = await promtoolDir(parseYaml(text) as RuleSpec);
    t.after(() => rm(dir, { recursive: true, force: true }));
    await assert.rejects(
      run(promtool.path!, ['check', 'rules', join(dir, 'rules.yaml')]),
      (e: Error & { stdout: string; stderr: string }) => {
        assert.match(e.stdout + e.stderr, refusal);
        return true;
      },
    );
  });

test(
  'promtool unit tests: each alert fires when it should and stays silent otherwise',
  needsBoth,
  async (t) => {
    const spec = await renderedRules();
    const dir = await promtoolDir(spec);
    t.after(() => rm(dir, { recursive: true, force: true }));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.test.yaml')).sort();
    assert.ok(files.length >= 2);
    const result = await run(promtool.path!, ['test', 'rules', ...files], { cwd: dir }).catch(
      (e: Error & { stdout: string; stderr: string }) => {
        assert.fail(`promtool test rules failed:\n${e.stdout}\n${e.stderr}`);
      },
    );
    assert.match(result.stdout, /SUCCESS/);

    // Coverage: every alert the chart ships has a case where it fires and one where it must not.
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const f of files) {
      const suite = parseYaml(await readFile(join(dir, f), 'utf8')) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      };
      for (const c of suite.tests.flatMap((x) => x.alert_rule_test ?? []))
        ((c.exp_alerts ?? []).length > 0 ? fires : silent).add(c.alertname);
    }
    for (const r of alerts(spec)) {
      assert.ok(fires.has(r.alert!), `${r.alert}: no promtool case where it fires`);
      assert.ok(silent.has(r.alert!), `${r.alert}: no promtool case where it must not fire`);
    }
  },
);

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

test('the dashboard ConfigMap carries the loader labels in the chosen namespace', needsHelm, async () => {
  const file = await readFile(DASHBOARD_FILE, 'utf8');
  for (const [sets, namespace] of [
    [[], 'sts-system'],
    [['grafanaDashboard.namespace=monitoring'], 'monitoring'],
  ] as const) {
    const objects = await render(['grafanaDashboard.enabled=true', ...sets]);
    const cm = only(
      objects.filter((o) => o.metadata.name?.endsWith('-dashboard')),
      'ConfigMap',
    );
    await validateObject(cm);
    assert.equal(cm.metadata.namespace, namespace);
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
    const data = cm.data as Record<string, string>;
    assert.deepEqual(Object.keys(data), ['sts-sidecar.json']);
    assert.deepEqual(JSON.parse(data['sts-sidecar.json']!), JSON.parse(file), 'shipped as written');
  }
  const custom = await render([
    'grafanaDashboard.enabled=true',
    'grafanaDashboard.labels.grafana_dashboard=null',
    'grafanaDashboard.labels.team=platform',
  ]);
  const labels = custom.find((o) => o.metadata.name?.endsWith('-dashboard'))!.metadata.labels!;
  assert.equal(labels.team, 'platform');
});

test('dashboard: every panel and query uses the datasource variable; ids unique; no overlaps', async () => {
  const dash = JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: unknown; datasource?: { uid: string } }[] };
  };
  assert.equal(dash.uid, 'sts-sidecar');
  const ds = dash.templating.list.find((v) => v.name === 'datasource');
  assert.equal(ds?.type, 'datasource');
  assert.equal(ds?.query, 'prometheus');
  for (const v of dash.templating.list.filter((x) => x.type === 'query'))
    assert.equal(v.datasource?.uid, '${datasource}', v.name);
  const ids = new Set<number>();
  const cells = new Set<string>();
  for (const p of dash.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} twice`);
    ids.add(p.id);
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        assert.ok(x < 24 && !cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    if (p.type === 'row') continue;
    assert.equal(p.datasource?.uid, '${datasource}', p.title);
    assert.ok((p.targets ?? []).length > 0, `${p.title}: no query`);
    for (const q of p.targets!) assert.equal(q.datasource?.uid, '${datasource}', p.title);
  }
  // The panels the chart promises (docs/monitoring.md, "Dashboard").
  const titles = dash.panels.map((p) => p.title).join('\n');
  for (const want of [
    /Exchanges by result and code/,
    /Exchange latency/,
    /Time to credentials expiry/,
    /Last success age/,
    /Credential requests by status/,
    /Token read errors/,
    /Injections by result/,
    /Admission latency/,
  ])
    assert.match(titles, want);
});

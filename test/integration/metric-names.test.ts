// Every metric the chart's alert rules and Grafana dashboard read exists in the real /metrics of
// the built sidecar and webhook, run as processes and driven until each series the queries select
// is there (a success and a failure, 200/401/503, a token read error, an injection, a rejection,
// a failed ServiceAccount GET, a failed TLS reload). Renaming a metric or a label in
// src/sidecar/sidecar-metrics.ts or src/webhook/webhook-metrics.ts (and rebuilding) fails this test; so does a
// stale dist/ (the bundle must expose every metric the sources register).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { type TestContext, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { EXCHANGE_CODE_LABELS, SidecarMetrics } from '../../src/sidecar/sidecar-metrics.ts';
import { WebhookMetrics } from '../../src/webhook/webhook-metrics.ts';
import { FakeKubeApi } from '../fakes/fake-kube-api.ts';
import { goldenWebhookArgs, loadFixture } from '../helpers/webhook-golden.ts';
import {
  type Exposition,
  grafanaVariableSelector,
  metricUses,
  type MetricUse,
  parseExposition,
} from '../helpers/promql-names.ts';
import { BUNDLE, type LogLine, SidecarProcess } from '../helpers/sidecar-process.ts';
import { createSelfSignedCert } from '../helpers/tls.ts';

const FILES = new URL('../../charts/sts-sidecar/files/', import.meta.url);

/** Labels the scrape adds (PodMonitor/ServiceMonitor target labels), never in /metrics itself. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'container', 'instance', 'job', 'service', 'endpoint']);

/**
 * Label values the queries select that this test cannot make the process produce, each with the
 * source line that proves it is one of the closed set (checked below).
 */
const NOT_PRODUCIBLE: { metric: string; label: string; value: string; source: string; declared: RegExp }[] = [
  {
    // An unexpected exception in the admission handler: a bug, so nothing can trigger it on purpose.
    metric: 'sts_sidecar_webhook_injections_total',
    label: 'result',
    value: 'error',
    source: '../../src/webhook/webhook-metrics.ts',
    declared: /export type InjectionResult = [^;]*'error'/,
  },
];

/** Every selector in the alert expressions and the dashboard's queries, with where it is from. */
function queriesOfChart(): { where: string; use: MetricUse }[] {
  const out: { where: string; use: MetricUse }[] = [];
  const rules = parseYaml(readFileSync(new URL('prometheus-rules.yaml', FILES), 'utf8')) as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  for (const r of rules.groups.flatMap((g) => g.rules))
    for (const use of metricUses(r.expr.replace(/\$\{[A-Z_]+\}/g, '10')))
      out.push({ where: `alert ${r.alert ?? r.record}`, use });
  const dash = JSON.parse(readFileSync(new URL('grafana-dashboard.json', FILES), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string; type: string; query?: { query: string } }[] };
  };
  for (const p of dash.panels)
    for (const t of p.targets ?? [])
      for (const use of metricUses(t.expr)) out.push({ where: `panel "${p.title}"`, use });
  for (const v of dash.templating.list.filter((x) => x.type === 'query'))
    for (const use of metricUses(grafanaVariableSelector(v.query!.query)))
      out.push({ where: `variable $${v.name}`, use });
  return out;
}

/** Problems of one selector against the scraped series (empty = fine). */
function problemsOf(where: string, use: MetricUse, series: Exposition): string[] {
  const labels = series.get(use.metric);
  if (!labels) return [`${where}: ${use.metric} is not in /metrics`];
  const problems: string[] = [];
  for (const m of use.matchers) {
    if (TARGET_LABELS.has(m.label)) continue;
    const seen = labels.get(m.label);
    if (!seen) {
      problems.push(`${where}: ${use.metric} has no label ${m.label}`);
      continue;
    }
    const known = new Set(seen);
    if (m.label === 'code') for (const c of EXCHANGE_CODE_LABELS) known.add(c);
    for (const n of NOT_PRODUCIBLE) if (n.metric === use.metric && n.label === m.label) known.add(n.value);
    if (m.op === '=' && !known.has(m.value))
      problems.push(
        `${where}: ${use.metric}{${m.label}="${m.value}"}: no such value (seen: ${[...known].join(', ')})`,
      );
    if (m.op === '=~' || m.op === '!~') {
      const re = new RegExp(`^(?:${m.value})$`);
      if (![...known].some((v) => re.test(v)))
        problems.push(`${where}: ${use.metric}{${m.label}${m.op}"${m.value}"} matches no known value`);
    }
  }
  return problems;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return res.text();
}

/** The sidecar bundle against the fake STS: STS failures, a bad token file, then a success. */
async function sidecarMetrics(t: TestContext): Promise<string> {
  const p = await SidecarProcess.start({
    beforeSpawn: (sts) => sts.injectFault('http503', { times: 1_000 }),
  });
  t.after(() => p.close());
  await p.waitFor((l) => l.event === 'exchange' && l.result === 'failure');
  const token = await p.authToken();
  assert.equal((await fetch(p.credentialsUrl, { headers: { authorization: token } })).status, 503);
  assert.equal((await fetch(p.credentialsUrl, { headers: { authorization: 'wrong' } })).status, 401);
  // A token change wakes a failing sidecar at once (a healthy one waits for its refresh time).
  await p.next(
    (l) => l.event === 'exchange' && (l.err as { code?: string } | undefined)?.code === 'TOKEN_NOT_JWT',
    () => p.volume.write('not-a-jwt'),
  );
  p.sts.clearFaults();
  await p.next(
    (l) => l.event === 'exchange' && l.result === 'success',
    () => p.rotateToken(),
  );
  assert.equal((await fetch(p.credentialsUrl, { headers: { authorization: token } })).status, 200);
  return scrape(`${p.opsUrl}/metrics`);
}

function postReview(port: number, ca: string, pod: unknown): Promise<number> {
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '8d2f0c9e-0000-4000-8000-000000000001',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      namespace: 'shop',
      object: pod,
    },
  });
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca, servername: 'localhost' },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The webhook bundle (`sts-sidecar webhook`) against the fake kube API, driven through each result. */
async function webhookMetrics(t: TestContext): Promise<string> {
  const cert = await createSelfSignedCert();
  const kube = new FakeKubeApi(cert);
  await kube.start();
  const kubeconfig = await kube.writeKubeconfig(cert.dir);
  const watching = kube.nextWatch();
  const child = spawn(
    process.execPath,
    [
      BUNDLE,
      'webhook',
      ...goldenWebhookArgs({ certFile: cert.certFile, keyFile: cert.keyFile, kubeconfig }),
      '--service-account-lookup-grace-ms=0',
      '--shutdown-grace-seconds=0',
    ],
    { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await kube.close();
    await rm(cert.dir, { recursive: true, force: true });
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const w of [...waiters]) if (w.match(line)) w.resolve(line);
  });
  const waitFor = (match: (l: LogLine) => boolean): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const seen = lines.find(match);
      if (seen) return resolve(seen);
      waiters.push({ match, resolve });
      child.once('exit', (code) => reject(new Error(`the webhook exited (${code}): ${stderr}`)));
    });

  const listening = await waitFor((l) => l.event === 'listening');
  await watching;
  const port = Number(listening.admissionPort);
  const ops = `http://127.0.0.1:${String(listening.opsPort)}`;

  const ok = loadFixture('one-container').pod; // no ServiceAccount: a GET answered 404 (not_found)
  assert.equal(await postReview(port, cert.certPem, ok), 200);
  assert.equal(await postReview(port, cert.certPem, loadFixture('invalid-annotation').pod), 200);
  kube.failGets(1);
  const other = { ...ok, spec: { ...(ok as { spec: object }).spec, serviceAccountName: 'unreadable' } };
  assert.equal(await postReview(port, cert.certPem, other), 200);
  // A renewed certificate that is not PEM: the reload fails, the old one stays in use.
  await writeFile(cert.certFile, 'not a certificate\n');
  await waitFor((l) => l.event === 'tls_reload_failed');
  return scrape(`${ops}/metrics`);
}

test(
  'every metric and label the alerts and the dashboard select exists in real /metrics',
  { timeout: 60_000 },
  async (t) => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build (npm test does)`);
    const [sidecarText, webhookText] = await Promise.all([sidecarMetrics(t), webhookMetrics(t)]);
    const sidecar = parseExposition(sidecarText);
    const webhook = parseExposition(webhookText);

    // dist/ is what runs: it must register what the sources declare (else: stale build).
    for (const [name, registry, series] of [
      ['sidecar', new SidecarMetrics({ processMetrics: false }).registry, sidecar],
      ['webhook', new WebhookMetrics({ processMetrics: false }).registry, webhook],
    ] as const)
      for (const m of registry.getMetricsAsArray())
        assert.ok(
          [...series.keys()].some((s) => s === m.name || s.startsWith(`${m.name}_`)),
          `${name}: src registers ${m.name} but the bundle's /metrics lacks it (stale dist/? run npm run build)`,
        );

    for (const n of NOT_PRODUCIBLE)
      assert.match(
        readFileSync(new URL(n.source, import.meta.url), 'utf8'),
        n.declared,
        `${n.metric} ${n.value}`,
      );

    const queries = queriesOfChart();
    assert.ok(queries.length > 30, `${queries.length} selectors found`);
    const problems: string[] = [];
    const used = new Set<string>();
    for (const { where, use } of queries) {
      used.add(use.metric);
      const series =
        use.metric.startsWith('sts_sidecar_webhook_') || where.includes('Webhook') ? webhook : sidecar;
      problems.push(...problemsOf(where, use, series));
    }
    assert.deepEqual(problems, []);
    // Histograms count through their series, process metrics too.
    for (const name of [
      'sts_sidecar_exchange_duration_seconds_bucket',
      'sts_sidecar_webhook_request_duration_seconds_bucket',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
    ])
      assert.ok(used.has(name), name);

    // The check itself: a renamed metric or label in the exposition is reported.
    const renamed = parseExposition(
      sidecarText.replaceAll(
        'sts_sidecar_credentials_expiry_timestamp_seconds',
        'sts_sidecar_credentials_expiry_seconds',
      ),
    );
    const expiring = queries.find(
      (q) => q.use.metric === 'sts_sidecar_credentials_expiry_timestamp_seconds',
    )!;
    assert.match(problemsOf(expiring.where, expiring.use, renamed).join(), /is not in \/metrics/);
    const relabelled = parseExposition(sidecarText.replaceAll('status="', 'http_status="'));
    const status = queries.find((q) => q.use.matchers.some((m) => m.label === 'status'))!;
    assert.match(problemsOf(status.where, status.use, relabelled).join(), /has no label status/);
  },
);

test('metricUses reads selectors, not functions, keywords, label lists or strings', () => {
  const uses = metricUses(
    'sum by (namespace, le) (rate(a_bucket{x="1", y=~"$v"}[$__rate_interval])) / on (pod) group_left (le) ' +
      'max_over_time(b[15m]) unless c offset 10m > time() - 15 * 60 or vector(0) and histogram_quantile(0.9, d)',
  );
  assert.deepEqual(
    uses.map((u) => u.metric),
    ['a_bucket', 'b', 'c', 'd'],
  );
  assert.deepEqual(uses[0]!.matchers, [
    { label: 'x', op: '=', value: '1' },
    { label: 'y', op: '=~', value: '5m' },
  ]);
  assert.equal(
    grafanaVariableSelector('label_values(m{namespace=~"$namespace"}, pod)'),
    'm{namespace=~"$namespace"}',
  );
});

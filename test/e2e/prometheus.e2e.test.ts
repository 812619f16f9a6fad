import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { EXCHANGE_CODE_LABELS } from '../../src/sidecar/sidecar-metrics.ts';
import { S3_APP_IMAGE, STS_SIDECAR_IMAGE } from '../helpers/e2e-images.ts';
import { findGoTool } from '../helpers/go-tools.ts';
import { CHART_DIR, renderChart } from '../helpers/helm-chart.ts';
import {
  apply,
  describePod,
  findKubeCluster,
  helmOn,
  type KubeCluster,
  kubectl,
  waitForLogLine,
} from '../helpers/kube-cluster.ts';
import { MinioServer, minioRoleArn } from '../helpers/minio-server.ts';
import { type PromAlert, PrometheusServer } from '../helpers/prometheus-server.ts';
import { DISCOVERY_RBAC_FILE, scrapeConfigsFor } from '../helpers/prometheus-scrape-config.ts';

// Issue 15: a real Prometheus (built from its Go module, Kubernetes SD only) on the real cluster
// of kube.e2e.test.ts discovers the injected sidecars and the webhook with the scrape config we
// ship for users without the Operator (deploy/prometheus/), loads the chart's alert rules as the
// chart renders them, and pages on a real STS outage: MinIO stopped under a running pod. A second
// pod, whose MinIO stays up, lives through a kubelet token rotation with nothing firing. The
// dashboard's queries run against the same Prometheus, and the series per sidecar are counted.
//
// Runs beside kube.e2e.test.ts on the same cluster: its own release, namespaces (the webhook
// injects only namespaces labelled sts-e2e-suite=prometheus) and MinIO ports.

const found = await findKubeCluster();
const helmTool = findGoTool('helm');
const promTool = findGoTool('prometheus');
const skip =
  'reason' in found
    ? found.reason
    : helmTool.path === undefined
      ? helmTool.skipReason
      : promTool.path === undefined
        ? promTool.skipReason
        : undefined;

const RELEASE = 'sts-prom';
const RELEASE_NS = 'sts-prom-system';
const APP_NS = 'sts-prom-app';
const MONITORING_NS = 'sts-prom-monitoring';
const SUITE_LABEL = { 'sts-e2e-suite': 'prometheus' };
const SERVICE_ACCOUNT = 's3-app';
const AUDIENCE = 'sts-prom-e2e';
/** Two MinIOs in the cluster's namespace (each also takes port + 1 for its console). */
const STEADY_MINIO_PORT = 19_010;
const OUTAGE_MINIO_PORT = 19_012;
const PROMETHEUS_PORT = 19_090;
/** The pod whose STS stays up, and the one whose STS goes away. */
const STEADY_POD = 'steady';
const OUTAGE_POD = 'outage';
const SIDECAR = 'sts-sidecar';
/** Kubernetes' minimum: the kubelet rotates the token at 80 %, ~8 min after the pod starts. */
const TOKEN_EXPIRATION_SECONDS = 600;
/** MinIO's minimum DurationSeconds. */
const DURATION_SECONDS = 900;
/** A refresh every minute: refreshes during the healthy run, and a recent success at the outage. */
const MAX_REFRESH_SECONDS = 60;
/**
 * The chart's rule durations for this run, rendered by the chart (defaults 15, 10, 10 minutes
 * would take 25 minutes to page). Window 2: transient failures are retried at most 60 s apart
 * (refresh-policy.ts BACKOFF_CAP_MS), so increase() sees two of them.
 */
const REFRESH_WINDOW_MINUTES = 2;
const REFRESH_FOR_MINUTES = 1;
/**
 * 12 of the 15-minute sessions: never reached while refreshes succeed every minute (≥ 14 min
 * left), reached 3 minutes after the last success.
 */
const EXPIRING_MINUTES = 12;
/** The expiry alert's `for` in files/prometheus-rules.yaml. */
const EXPIRING_FOR_MINUTES = 1;
/** Prometheus's scrape and rule evaluation interval in this run. */
const INTERVAL_SECONDS = 2;
/** Scrape, evaluation and poll steps on top of a documented alert time. */
const ALLOWANCE_MS = 30_000;
/** Recovery: the sidecar's next retry (backoff capped at 60 s) plus the same steps. */
const RESOLVE_DEADLINE_MS = 60_000 + ALLOWANCE_MS;
/** Rotation at 80 % of 600 s plus the kubelet's sync period, then up to one refresh interval. */
const ROTATION_DEADLINE_MS = 12 * 60_000;
/** Polling Prometheus's API, where there is no event to await. */
const POLL_MS = 1_000;
/** Grafana's $__rate_interval for a 2 s scrape interval is far below this; 30 s is safe. */
const RATE_INTERVAL = '30s';
/**
 * Dashboard panels that are empty while a sidecar is healthy (they count failures); every other
 * panel must return data for the steady pod.
 */
const FAILURE_PANELS = new Set([
  'Sidecars never succeeded',
  'Exchange failures (1h)',
  'Endpoint 503s (1h)',
  'Token read errors by code',
]);
/** Labels Kubernetes SD and the shipped relabeling add to every series. */
const TARGET_LABELS = new Set(['__name__', 'job', 'instance', 'namespace', 'pod', 'container']);
/**
 * Every other label a sidecar's series may carry, with its closed set of values: ours
 * (src/sidecar/sidecar-metrics.ts) and prom-client's default Node.js metrics (values from the runtime, never
 * from a token, a session name or pod-controlled text).
 */
const CLOSED_LABELS: Record<string, (value: string) => boolean> = {
  result: (v) => v === 'success' || v === 'failure',
  code: (v) => EXCHANGE_CODE_LABELS.includes(v),
  status: (v) => /^[1-5]\d\d$/.test(v),
  le: (v) => v === '+Inf' || Number.isFinite(Number(v)),
  // nodejs_version_info, nodejs_gc_duration_seconds, nodejs_heap_space_size_*, active resources.
  version: (v) => /^v\d+\.\d+\.\d+$/.test(v),
  major: (v) => /^\d+$/.test(v),
  minor: (v) => /^\d+$/.test(v),
  patch: (v) => /^\d+$/.test(v),
  kind: (v) => /^(major|minor|incremental|weakcb)$/.test(v),
  space: (v) => /^[a-z_]+$/.test(v),
  type: (v) => /^[A-Za-z]+$/.test(v),
  // sts_sidecar_connections_dropped_total: which of the sidecar's two listeners.
  listener: (v) => v === 'credentials' || v === 'ops',
};

interface DashboardPanel {
  title: string;
  targets?: { expr: string }[];
  panels?: DashboardPanel[];
}

describe(
  'a real Prometheus on the real cluster: discovery, the chart alerts on a real outage, the dashboard',
  { skip, timeout: 16 * 60_000 },
  () => {
    const cluster = 'cluster' in found ? found.cluster : (undefined as unknown as KubeCluster);
    const helm = helmTool.path ?? '';
    const endpoint = (port: number) => `http://${cluster?.nodeIp}:${port}`;
    const minio = (port: number) =>
      MinioServer.start({
        issuer: cluster.issuer,
        clientId: AUDIENCE,
        mode: 'role-policy',
        network: { netns: cluster.netns, host: cluster.nodeIp, port },
        caFile: cluster.caFile,
      });
    let steadyMinio: MinioServer | undefined;
    let outageMinio: MinioServer | undefined;
    let prometheus: PrometheusServer | undefined;
    let prom!: PrometheusServer;
    /** When Prometheus started: the healthy run's ALERTS are checked from here on. */
    let startedAt = 0;
    let firstSteadyTokenExp = '';
    /** The alert names of the rendered rules. */
    let renderedAlerts: string[] = [];

    const runHelm = (args: string[]) => helmOn(cluster, helm, args);

    /** Polls the alerts until one matches; resolves with it and the time it was seen. */
    const waitForAlert = async (
      what: string,
      match: (a: PromAlert) => boolean,
      deadlineMs: number,
    ): Promise<{ alert: PromAlert; atMs: number }> => {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const alert = (await prom.alerts()).find(match);
        if (alert) return { alert, atMs: Date.now() };
        if (Date.now() > deadline)
          throw new Error(
            `not within ${deadlineMs} ms: ${what}; alerts now: ${JSON.stringify(await prom.alerts())}`,
          );
        await sleep(POLL_MS);
      }
    };
    /** Polls the alerts until none matches (resolved alerts leave the list). */
    const waitForNoAlert = async (what: string, match: (a: PromAlert) => boolean, deadlineMs: number) => {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const left = (await prom.alerts()).filter(match);
        if (left.length === 0) return Date.now();
        if (Date.now() > deadline)
          throw new Error(`not within ${deadlineMs} ms: ${what}; still: ${JSON.stringify(left)}`);
        await sleep(POLL_MS);
      }
    };
    /** Polls an instant query until `ok` accepts its result. */
    const waitForQuery = async (expr: string, ok: (n: number) => boolean, deadlineMs: number) => {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const result = await prom.query(expr);
        if (result.length > 0 && ok(result.length)) return result;
        if (Date.now() > deadline)
          throw new Error(`not within ${deadlineMs} ms: ${expr} -> ${JSON.stringify(result)}`);
        await sleep(POLL_MS);
      }
    };
    /** Alerts that fired for `selector` (PromQL matchers) since Prometheus started. */
    const firedSince = (selector: string) =>
      prom.query(
        `max by (alertname, namespace, pod) (max_over_time(ALERTS{alertstate="firing", ${selector}}[${Math.ceil((Date.now() - startedAt) / 1000) + 10}s]))`,
      );
    const of = (pod: string) => (a: PromAlert) => a.labels.namespace === APP_NS && a.labels.pod === pod;

    const sidecarPod = (name: string, annotations: Record<string, string>, app: object) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: APP_NS,
        labels: { app: name, 'sts-sidecar.io/inject': 'true' },
        annotations: {
          'sts-sidecar.io/max-refresh-interval-seconds': String(MAX_REFRESH_SECONDS),
          ...annotations,
        },
      },
      spec: {
        serviceAccountName: SERVICE_ACCOUNT,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'app',
            image: S3_APP_IMAGE.ref,
            imagePullPolicy: 'Never',
            ...app,
            env: [
              { name: 'AWS_REGION', value: 'us-east-1' },
              { name: 'S3_CLIENT_PACE_MS', value: '2000' },
            ],
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
          },
        ],
      },
    });

    before(async () => {
      const rbac = parseYaml(readFileSync(DISCOVERY_RBAC_FILE, 'utf8')) as { metadata: { name: string } };
      await apply(
        cluster,
        ...[RELEASE_NS, MONITORING_NS].map((name) => ({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name },
        })),
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP_NS, labels: SUITE_LABEL } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SERVICE_ACCOUNT, namespace: APP_NS } },
        // Prometheus reads the API as users run it: its own ServiceAccount, bound to the
        // discovery ClusterRole we ship, nothing more (not the cluster admin's certificate).
        {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'prometheus', namespace: MONITORING_NS },
        },
        rbac,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'sts-prom-e2e-prometheus' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: rbac.metadata.name },
          subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: MONITORING_NS }],
        },
        // The stores read the issuer's discovery document and JWKS without credentials; our own
        // binding, so kube.e2e removing its copy does not affect this suite.
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'sts-prom-e2e-oidc-discovery' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'system:service-account-issuer-discovery',
          },
          subjects: [
            { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' },
          ],
        },
      );
      const [image, tag] = STS_SIDECAR_IMAGE.ref.split(':');
      const install = runHelm([
        'install',
        RELEASE,
        CHART_DIR,
        '-n',
        RELEASE_NS,
        ...[
          `image.repository=${image}`,
          `image.tag=${tag}`,
          'image.pullPolicy=Never',
          `sts.endpoint=${endpoint(STEADY_MINIO_PORT)}`,
          'sts.flavor=minio',
          `sts.roleArn=${minioRoleArn(AUDIENCE)}`,
          `sts.audience=${AUDIENCE}`,
          `sts.s3Endpoint=${endpoint(STEADY_MINIO_PORT)}`,
          `sts.durationSeconds=${DURATION_SECONDS}`,
          `sts.tokenExpirationSeconds=${TOKEN_EXPIRATION_SECONDS}`,
          ...Object.entries(SUITE_LABEL).map(([k, v]) => `webhook.namespaceMatchLabels.${k}=${v}`),
        ].flatMap((s) => ['--set', s]),
        '--wait',
        '--timeout',
        '4m',
      ]);
      [steadyMinio, outageMinio] = await Promise.all([minio(STEADY_MINIO_PORT), minio(OUTAGE_MINIO_PORT)]);
      await install;

      // The rules exactly as the chart renders them, with this run's durations.
      const rules = renderChart(
        helm,
        [],
        [
          'prometheusRule.enabled=true',
          `prometheusRule.credentialsExpiringMinutes=${EXPIRING_MINUTES}`,
          `prometheusRule.refreshFailingWindowMinutes=${REFRESH_WINDOW_MINUTES}`,
          `prometheusRule.refreshFailingForMinutes=${REFRESH_FOR_MINUTES}`,
        ],
      ).objects.find((o) => o.kind === 'PrometheusRule') as { spec: object } | undefined;
      assert.ok(rules, 'the chart rendered no PrometheusRule');
      renderedAlerts = (rules.spec as { groups: { rules: { alert?: string }[] }[] }).groups
        .flatMap((g) => g.rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert])))
        .sort();
      // A bounded token (TokenRequest), never logged; Prometheus re-reads credentials_file.
      const token = (
        await kubectl(cluster, ['create', 'token', 'prometheus', '-n', MONITORING_NS, '--duration=1h'])
      ).trim();
      prometheus = prom = await PrometheusServer.start({
        binary: promTool.path!,
        network: { netns: cluster.netns, host: cluster.nodeIp, port: PROMETHEUS_PORT },
        config: stringifyYaml({
          global: {
            scrape_interval: `${INTERVAL_SECONDS}s`,
            scrape_timeout: `${INTERVAL_SECONDS}s`,
            evaluation_interval: `${INTERVAL_SECONDS}s`,
          },
          rule_files: ['rules.yaml'],
          scrape_config_files: ['scrape-configs.yaml'],
        }),
        files: {
          'rules.yaml': stringifyYaml(rules.spec),
          token,
          // The shipped file; only how to reach the API server is added.
          'scrape-configs.yaml': scrapeConfigsFor({
            api_server: `https://${cluster.nodeIp}:6443`,
            tls_config: { ca_file: cluster.caFile },
            authorization: { credentials_file: 'token' },
          }),
        },
      });
      startedAt = Date.now();
    });

    after(async () => {
      await prometheus?.stop();
      await steadyMinio?.stop();
      await outageMinio?.stop();
      for (const ns of [APP_NS, MONITORING_NS, RELEASE_NS])
        await kubectl(cluster, ['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']).catch(
          () => {},
        );
      for (const name of ['sts-prom-e2e-prometheus', 'sts-prom-e2e-oidc-discovery'])
        await kubectl(cluster, ['delete', 'clusterrolebinding', name, '--ignore-not-found']).catch(() => {});
      await kubectl(cluster, ['delete', '-f', DISCOVERY_RBAC_FILE, '--ignore-not-found']).catch(() => {});
      await runHelm(['uninstall', RELEASE, '-n', RELEASE_NS, '--ignore-not-found']).catch(() => {});
    });

    test('versions', async (t) => {
      t.diagnostic(
        `Prometheus ${await prom.version()} (${promTool.path === undefined ? '' : promTool.version})`,
      );
      t.diagnostic(`MinIO ${steadyMinio?.version ?? ''}`);
    });

    test('Prometheus discovers both injected sidecars and the webhook through the shipped scrape config', async (t) => {
      await apply(
        cluster,
        sidecarPod(
          STEADY_POD,
          {},
          { command: ['/usr/local/bin/go-s3', endpoint(STEADY_MINIO_PORT), 'prom-e2e', '/nonexistent/stop'] },
        ),
        // No S3 client: the app only has to live while its sidecar's STS comes and goes.
        sidecarPod(
          OUTAGE_POD,
          { 'sts-sidecar.io/sts-endpoint': endpoint(OUTAGE_MINIO_PORT) },
          { command: ['/nodejs/bin/node', '-e', 'setInterval(() => {}, 1 << 30)'] },
        ),
      );
      for (const name of [STEADY_POD, OUTAGE_POD])
        await kubectl(
          cluster,
          ['wait', '--for=condition=Ready', `pod/${name}`, '-n', APP_NS, '--timeout=180s'],
          {
            timeoutMs: 200_000,
          },
        ).catch(async (e: Error) => {
          throw new Error(`${e.message}\n${await describePod(cluster, APP_NS, name)}`, { cause: e });
        });
      const first = await waitForLogLine(
        cluster,
        { namespace: APP_NS, pod: STEADY_POD, container: SIDECAR },
        'a successful exchange',
        (l) => l.includes('"event":"exchange"') && l.includes('"result":"success"'),
        60_000,
      );
      firstSteadyTokenExp = String((JSON.parse(first) as { tokenExp: unknown }).tokenExp);

      const up = `up{namespace=~"${APP_NS}|${RELEASE_NS}"} == 1`;
      // Both sidecars and the release's two webhook replicas.
      const targets = await waitForQuery(up, (n) => n >= 4, 60_000);
      const seen = targets
        .map((s) => `${s.metric.job} ${s.metric.namespace}/${s.metric.pod}/${s.metric.container}`)
        .sort();
      t.diagnostic(`targets up: ${seen.join(', ')}`);
      for (const pod of [STEADY_POD, OUTAGE_POD])
        assert.ok(
          seen.includes(`sts-sidecar ${APP_NS}/${pod}/${SIDECAR}`),
          `sidecar of ${pod} not scraped: ${seen}`,
        );
      const webhooks = seen.filter(
        (s) => s.startsWith(`sts-sidecar-webhook ${RELEASE_NS}/`) && s.endsWith('/webhook'),
      );
      assert.equal(webhooks.length, 2, `webhook replicas scraped: ${seen}`);
      // Exactly one target per sidecar pod (the sts-ops port), none for the app containers.
      const active = (await prom.targets()).filter((x) => x.labels.namespace === APP_NS);
      assert.equal(active.length, 2, JSON.stringify(active.map((x) => x.scrapeUrl)));
    });

    test('Prometheus loaded every rendered alert rule and evaluates each without error', async () => {
      const loaded = await prom.alertRules();
      assert.deepEqual(loaded.map((r) => r.name).sort(), renderedAlerts);
      // Every rule has been evaluated since the targets came up (2 s interval).
      for (const r of loaded) assert.equal(r.health, 'ok', `${r.name}: ${r.health} ${r.lastError ?? ''}`);
    });

    test("every dashboard query evaluates, and the steady pod's panels have data", async (t) => {
      const dashboard = JSON.parse(readFileSync(`${CHART_DIR}/files/grafana-dashboard.json`, 'utf8')) as {
        panels: DashboardPanel[];
        templating: { list: { type: string; query?: { query: string } }[] };
      };
      const panels = (list: DashboardPanel[]): DashboardPanel[] =>
        list.flatMap((p) => [p, ...panels(p.panels ?? [])]).filter((p) => (p.targets ?? []).length > 0);
      const fill = (expr: string) =>
        expr
          .replaceAll('$namespace', APP_NS)
          .replaceAll('$pod', STEADY_POD)
          .replaceAll('$__rate_interval', RATE_INTERVAL);
      const evaluate = async (p: DashboardPanel) =>
        (await Promise.all(p.targets!.map((x) => prom.query(fill(x.expr))))).flat().length;
      const all = panels(dashboard.panels);
      assert.ok(all.length >= 15, `${all.length} panels with queries`);
      // Rates need two scrapes in the window and the app's first credential request: poll.
      const deadline = Date.now() + 90_000;
      let empty: string[];
      for (;;) {
        empty = [];
        for (const p of all)
          if (!FAILURE_PANELS.has(p.title) && (await evaluate(p)) === 0) empty.push(p.title);
        if (empty.length === 0 || Date.now() > deadline) break;
        await sleep(POLL_MS);
      }
      assert.deepEqual(empty, [], 'core panels without data for a healthy pod');
      // A query error rejects in evaluate(); the failure panels must also show no failure.
      for (const title of FAILURE_PANELS) {
        const p = all.find((x) => x.title === title);
        assert.ok(p, `no panel "${title}"`);
        assert.equal(await evaluate(p), 0, `"${title}" shows data for a healthy pod`);
      }
      // The template variables list this namespace and pod.
      for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
        const m = /^label_values\((.+),\s*(\w+)\)$/s.exec(v.query!.query)!;
        const values = (await prom.query(fill(m[1]!))).map((s) => s.metric[m[2]!]);
        assert.ok(values.includes(m[2] === 'pod' ? STEADY_POD : APP_NS), `${v.query!.query}: ${values}`);
      }
      t.diagnostic(`${all.length} panels evaluated`);
    });

    test('STS unreachable from a running pod: RefreshFailing and CredentialsExpiringSoon fire in time, then resolve', async (t) => {
      // Nothing fired for this pod while its STS was up.
      assert.deepEqual(await firedSince(`namespace="${APP_NS}", pod="${OUTAGE_POD}"`), []);
      await outageMinio!.stop();
      outageMinio = undefined;
      const outageAt = Date.now();

      // Documented: at most window + for minutes after the last success (here: before the outage).
      const refreshDeadlineMs = (REFRESH_WINDOW_MINUTES + REFRESH_FOR_MINUTES) * 60_000 + ALLOWANCE_MS;
      // Expiry: the last credentials end at most DURATION_SECONDS after the outage; the alert
      // fires once fewer than EXPIRING_MINUTES are left, after its `for`.
      const expiryDeadlineMs =
        (DURATION_SECONDS - EXPIRING_MINUTES * 60 + EXPIRING_FOR_MINUTES * 60) * 1000 + ALLOWANCE_MS;
      const [failing, expiring] = await Promise.all([
        waitForAlert(
          'StsSidecarRefreshFailing firing',
          (a) =>
            of(OUTAGE_POD)(a) && a.labels.alertname === 'StsSidecarRefreshFailing' && a.state === 'firing',
          refreshDeadlineMs,
        ),
        waitForAlert(
          'StsSidecarCredentialsExpiringSoon firing',
          (a) =>
            of(OUTAGE_POD)(a) &&
            a.labels.alertname === 'StsSidecarCredentialsExpiringSoon' &&
            a.state === 'firing',
          expiryDeadlineMs,
        ),
      ]);
      assert.equal(failing.alert.labels.code, 'STS_UNREACHABLE');
      assert.equal(failing.alert.labels.severity, 'warning');
      assert.equal(expiring.alert.labels.severity, 'critical');
      // Before the credentials run out, and before the endpoint stops serving them (60 s left).
      const secondsLeft = Number(expiring.alert.value);
      assert.ok(secondsLeft > 60, `credentials had ${secondsLeft} s left when the alert fired`);
      t.diagnostic(
        `after the outage: StsSidecarRefreshFailing fired in ${Math.round((failing.atMs - outageAt) / 1000)} s (deadline ${refreshDeadlineMs / 1000} s), ` +
          `StsSidecarCredentialsExpiringSoon in ${Math.round((expiring.atMs - outageAt) / 1000)} s (deadline ${expiryDeadlineMs / 1000} s) with ${Math.round(secondsLeft)} s of credentials left`,
      );

      // The store comes back (a new MinIO on the same port): the sidecar's next retry succeeds.
      outageMinio = await minio(OUTAGE_MINIO_PORT);
      const backAt = Date.now();
      const resolvedAt = await waitForNoAlert(
        'both alerts resolved',
        (a) =>
          of(OUTAGE_POD)(a) &&
          ['StsSidecarRefreshFailing', 'StsSidecarCredentialsExpiringSoon'].includes(a.labels.alertname!),
        RESOLVE_DEADLINE_MS,
      );
      t.diagnostic(`both resolved ${Math.round((resolvedAt - backAt) / 1000)} s after the store came back`);
    });

    test('series per sidecar pod, every label value from a closed set', async (t) => {
      const perPod = await prom.query(`count by (pod) ({job="sts-sidecar", namespace="${APP_NS}"})`);
      const count = Object.fromEntries(perPod.map((s) => [s.metric.pod, Number(s.value[1])]));
      t.diagnostic(
        `series per sidecar pod: ${STEADY_POD} (no failure) ${count[STEADY_POD]}, ${OUTAGE_POD} (after failures) ${count[OUTAGE_POD]}`,
      );
      const ours = await prom.query(
        `count by (pod) ({job="sts-sidecar", namespace="${APP_NS}", __name__=~"sts_sidecar_.*"})`,
      );
      t.diagnostic(`of which sts_sidecar_*: ${ours.map((s) => `${s.metric.pod} ${s.value[1]}`).join(', ')}`);
      assert.ok((count[STEADY_POD] ?? 0) > 10 && (count[OUTAGE_POD] ?? 0) > 10, JSON.stringify(count));
      const series = await prom.query(`{job="sts-sidecar", namespace="${APP_NS}"}`);
      for (const s of series)
        for (const [label, value] of Object.entries(s.metric)) {
          if (TARGET_LABELS.has(label)) continue;
          const closed = CLOSED_LABELS[label];
          assert.ok(closed, `${s.metric.__name__}: label ${label} is not from a known closed set`);
          assert.ok(closed(value), `${s.metric.__name__}: ${label}="${value}" is not in its closed set`);
        }
    });

    test('a healthy run with refreshes and a kubelet token rotation: nothing fires', async (t) => {
      const rotated = await waitForLogLine(
        cluster,
        { namespace: APP_NS, pod: STEADY_POD, container: SIDECAR },
        'an exchange with a token the kubelet rotated',
        (l) => {
          if (!l.includes('"event":"exchange"') || !l.includes('"result":"success"')) return false;
          return String((JSON.parse(l) as { tokenExp: unknown }).tokenExp) !== firstSteadyTokenExp;
        },
        ROTATION_DEADLINE_MS,
      );
      // The log has the token's exp as an ISO time, the gauge as seconds since the epoch.
      const rotatedExp = Date.parse(String((JSON.parse(rotated) as { tokenExp: unknown }).tokenExp)) / 1000;
      assert.ok(Number.isFinite(rotatedExp), rotated);
      // Prometheus has scraped the sidecar since, and evaluated the rules on it.
      await waitForQuery(
        `sts_sidecar_token_expiry_timestamp_seconds{namespace="${APP_NS}", pod="${STEADY_POD}"} == ${rotatedExp}`,
        () => true,
        30_000,
      );
      const refreshes = await prom.query(
        `increase(sts_sidecar_exchanges_total{namespace="${APP_NS}", pod="${STEADY_POD}", result="success"}[15m])`,
      );
      t.diagnostic(
        `steady pod: ~${Math.round(Number(refreshes[0]?.value[1] ?? 0))} successful exchanges seen by Prometheus, token rotated`,
      );
      assert.ok(Number(refreshes[0]?.value[1] ?? 0) >= 3, 'refreshes were not scraped');
      assert.deepEqual(await firedSince(`namespace="${APP_NS}", pod="${STEADY_POD}"`), []);
      assert.deepEqual(await firedSince(`namespace="${RELEASE_NS}"`), [], "the release's webhook");
      assert.deepEqual(
        await prom.query(`ALERTS{alertstate="firing", namespace=~"${APP_NS}|${RELEASE_NS}"}`),
        [],
        'alerts firing now',
      );
    });
  },
);

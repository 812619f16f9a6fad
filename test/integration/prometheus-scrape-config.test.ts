// Issue 15: deploy/prometheus/scrape-configs.yaml (Prometheus without the Operator) must scrape
// exactly what the chart's PodMonitor and ServiceMonitor select, so the two paths cannot drift.
// The monitors are rendered from the chart's monitoring value set; discovered targets are built
// from what they select and pushed through the shipped relabelings the way Prometheus applies
// them. The e2e suite (test/e2e/prometheus.e2e.test.ts) runs a real Prometheus on the same file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findGoTool } from '../helpers/go-tools.ts';
import { renderChart } from '../helpers/helm-chart.ts';
import type { KubeObject } from '../helpers/k8s-schema.ts';
import {
  metaLabel,
  relabel,
  type ScrapeConfig,
  shippedScrapeConfigs,
} from '../helpers/prometheus-scrape-config.ts';

const helm = findGoTool('helm');
const needsHelm = { skip: helm.path === undefined ? helm.skipReason : false };

interface MonitorSpec {
  namespaceSelector?: { any?: boolean; matchNames?: string[] };
  selector: { matchLabels: Record<string, string> };
  podMetricsEndpoints?: { port: string; path: string }[];
  endpoints?: { port: string; path: string }[];
}

function monitors(): { pod: MonitorSpec; service: MonitorSpec } {
  const { objects } = renderChart(helm.path!, ['values-monitoring.yaml']);
  const one = (kind: string) => {
    const found = objects.filter((o: KubeObject) => o.kind === kind);
    assert.equal(found.length, 1, kind);
    return (found[0] as KubeObject & { spec: MonitorSpec }).spec;
  };
  return { pod: one('PodMonitor'), service: one('ServiceMonitor') };
}

function job(name: string): ScrapeConfig {
  const found = shippedScrapeConfigs().find((c) => c.job_name === name);
  assert.ok(found, `no job ${name} in deploy/prometheus/scrape-configs.yaml`);
  return found;
}

/** What Kubernetes SD (role pod) discovers for one declared container port of a pod. */
function podTarget(labels: Record<string, string>, port: string): Record<string, string> {
  const out: Record<string, string> = {
    __address__: '198.18.1.7:9180',
    __meta_kubernetes_namespace: 'shop',
    __meta_kubernetes_pod_name: 'app-7c9d',
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_container_name: 'sts-sidecar',
    __meta_kubernetes_pod_container_init: 'true',
    __meta_kubernetes_pod_container_port_name: port,
  };
  for (const [k, v] of Object.entries(labels)) {
    out[metaLabel('__meta_kubernetes_pod_label_', k)] = v;
    out[metaLabel('__meta_kubernetes_pod_labelpresent_', k)] = 'true';
  }
  return out;
}

/** What Kubernetes SD (role endpointslice) discovers for one port of a Service's endpoint. */
function serviceTarget(labels: Record<string, string>, port: string): Record<string, string> {
  const out: Record<string, string> = {
    __address__: '198.18.1.9:9188',
    __meta_kubernetes_namespace: 'sts-system',
    __meta_kubernetes_service_name: 'sts-sts-sidecar',
    __meta_kubernetes_pod_name: 'sts-sts-sidecar-5f8b',
    __meta_kubernetes_pod_container_name: 'webhook',
    __meta_kubernetes_endpointslice_port_name: port,
  };
  for (const [k, v] of Object.entries(labels)) {
    out[metaLabel('__meta_kubernetes_service_label_', k)] = v;
    out[metaLabel('__meta_kubernetes_service_labelpresent_', k)] = 'true';
  }
  return out;
}

/** Each selector label changed, then left out: every variant must be dropped. */
function offSelector(labels: Record<string, string>): Record<string, string>[] {
  return Object.keys(labels).flatMap((k) => {
    const { [k]: _, ...without } = labels;
    return [{ ...labels, [k]: `${labels[k]}-not` }, without];
  });
}

test('the sidecar job keeps exactly the pods and port the PodMonitor selects', needsHelm, () => {
  const { pod } = monitors();
  const sidecars = job('sts-sidecar');
  assert.deepEqual(
    sidecars.kubernetes_sd_configs.map((sd) => sd.role),
    ['pod'],
  );
  // namespaceSelector any: true <-> no namespaces restriction in the SD config.
  assert.equal(pod.namespaceSelector?.any, true);
  assert.equal(sidecars.kubernetes_sd_configs[0]!.namespaces, undefined);
  assert.equal(pod.podMetricsEndpoints?.length, 1);
  const endpoint = pod.podMetricsEndpoints![0]!;
  assert.equal(sidecars.metrics_path, endpoint.path);

  const kept = relabel(podTarget(pod.selector.matchLabels, endpoint.port), sidecars.relabel_configs);
  assert.ok(kept, 'the pod the PodMonitor selects is dropped');
  // The target labels the Operator adds and the alerts and dashboard read.
  assert.equal(kept.namespace, 'shop');
  assert.equal(kept.pod, 'app-7c9d');
  assert.equal(kept.container, 'sts-sidecar');

  for (const labels of offSelector(pod.selector.matchLabels))
    assert.equal(
      relabel(podTarget(labels, endpoint.port), sidecars.relabel_configs),
      undefined,
      `a pod labelled ${JSON.stringify(labels)} is kept`,
    );
  for (const port of ['http', 'sts-creds', `${endpoint.port}x`, ''])
    assert.equal(
      relabel(podTarget(pod.selector.matchLabels, port), sidecars.relabel_configs),
      undefined,
      `port ${port} is kept`,
    );
  const finished = {
    ...podTarget(pod.selector.matchLabels, endpoint.port),
    __meta_kubernetes_pod_phase: 'Succeeded',
  };
  assert.equal(relabel(finished, sidecars.relabel_configs), undefined, 'a finished pod is kept');
});

test('the webhook job keeps the Service port the ServiceMonitor selects, in every release', needsHelm, () => {
  const { service } = monitors();
  const webhook = job('sts-sidecar-webhook');
  assert.deepEqual(
    webhook.kubernetes_sd_configs.map((sd) => sd.role),
    ['endpointslice'],
  );
  assert.equal(service.endpoints?.length, 1);
  const endpoint = service.endpoints![0]!;
  assert.equal(webhook.metrics_path, endpoint.path);
  // The one intended difference: a ServiceMonitor belongs to one release, the shipped job
  // scrapes every release's webhook (it cannot know release names), in any namespace.
  const { 'app.kubernetes.io/instance': instance, ...selector } = service.selector.matchLabels;
  assert.equal(instance, 'sts', 'the ServiceMonitor selects its own release');
  assert.equal(webhook.kubernetes_sd_configs[0]!.namespaces, undefined);

  for (const release of ['sts', 'another-release']) {
    const kept = relabel(
      serviceTarget(
        { ...service.selector.matchLabels, 'app.kubernetes.io/instance': release },
        endpoint.port,
      ),
      webhook.relabel_configs,
    );
    assert.ok(kept, `the webhook Service of release ${release} is dropped`);
    assert.equal(kept.namespace, 'sts-system');
    assert.equal(kept.pod, 'sts-sts-sidecar-5f8b');
    assert.equal(kept.container, 'webhook');
  }
  for (const labels of offSelector(selector))
    assert.equal(
      relabel(serviceTarget(labels, endpoint.port), webhook.relabel_configs),
      undefined,
      `a Service labelled ${JSON.stringify(labels)} is kept`,
    );
  // https is the admission port on the same Service: never scraped.
  for (const port of ['https', `${endpoint.port}x`, ''])
    assert.equal(
      relabel(serviceTarget(service.selector.matchLabels, port), webhook.relabel_configs),
      undefined,
      `port ${port} is kept`,
    );
});

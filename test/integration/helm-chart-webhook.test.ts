// charts/sts-sidecar: the objects the webhook runs on: its MutatingWebhookConfiguration, the
// Deployment and PDB, the container and its env (only real webhook options), RBAC.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WEBHOOK_OPTIONS } from '../../src/config/webhook-options.ts';
import { LABEL_INJECT } from '../../src/webhook/annotations.ts';
import {
  containerOf,
  defaultOf,
  deploymentOf,
  envName,
  envOf,
  findOne,
  NAMESPACE,
  RELEASE,
  renderChart,
  VALUE_SETS,
  valuesOf,
  webhookOf,
  chartSuiteHelm,
} from '../helpers/helm-chart.ts';
import type { KubeObject } from '../helpers/k8s-schema.ts';

const { helm, skip } = chartSuiteHelm();

describe('helm chart', { skip }, () => {
  test('webhook configuration: Ignore by default, CREATE pods only, opt-in label, system namespaces excluded', () => {
    const objects = renderChart(helm).objects;
    const wh = webhookOf(objects);
    assert.equal(wh.failurePolicy, 'Ignore');
    assert.equal(
      webhookOf(renderChart(helm, [], ['webhook.failurePolicy=Fail']).objects).failurePolicy,
      'Fail',
    );
    assert.deepEqual(wh.rules, [
      {
        operations: ['CREATE'],
        apiGroups: [''],
        apiVersions: ['v1'],
        resources: ['pods'],
        scope: 'Namespaced',
      },
    ]);
    assert.deepEqual(wh.admissionReviewVersions, ['v1']);
    assert.equal(wh.sideEffects, 'None');
    assert.deepEqual(wh.objectSelector, { matchLabels: { [LABEL_INJECT]: 'true' } });
    assert.deepEqual(wh.namespaceSelector.matchExpressions, [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NAMESPACE] },
    ]);
    // The release namespace follows the release, and extra exclusions are added, not substituted.
    const other = webhookOf(renderChart(helm, ['values-cert-manager.yaml'], [], 'platform').objects);
    assert.deepEqual(other.namespaceSelector.matchExpressions[0]!.values, [
      'kube-system',
      'platform',
      'monitoring',
      'cert-manager',
    ]);
    assert.equal(other.timeoutSeconds, 5);
    // The API server calls the chart's Service on the path the admission server answers.
    const service = findOne(objects, 'Service') as KubeObject & {
      spec: { ports: { name: string; port: number; targetPort: string }[] };
    };
    assert.deepEqual(wh.clientConfig.service, {
      name: service.metadata.name,
      namespace: NAMESPACE,
      path: '/mutate',
      port: 443,
    });
    const ports = containerOf(objects).ports ?? [];
    const containerPort = (name: string) => ports.find((p) => p.name === name)?.containerPort;
    const servicePort = (name: string) => service.spec.ports.find((p) => p.name === name);
    assert.equal(servicePort('https')?.port, 443);
    assert.equal(containerPort(servicePort('https')!.targetPort), Number(defaultOf('listenPort')));
    assert.equal(servicePort('metrics')?.port, 9188);
    assert.equal(containerPort(servicePort('metrics')!.targetPort), Number(defaultOf('opsPort')));
  });

  test('deployment: 2 replicas spread by hostname, PDB minAvailable 1 over the same pods', () => {
    const objects = renderChart(helm).objects;
    const deployment = deploymentOf(objects);
    assert.equal(deployment.spec.replicas, 2);
    const podLabels = deployment.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(podLabels[k], v);
    const pdb = findOne(objects, 'PodDisruptionBudget') as KubeObject & {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    const anti = (
      deployment.spec.template.spec.affinity as {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: {
            podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } };
          }[];
        };
      }
    ).podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    assert.equal(anti[0]?.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(
      anti[0]?.podAffinityTerm.labelSelector.matchLabels,
      deployment.spec.selector.matchLabels,
    );
    // One replica: a PDB would block every drain, so there is none.
    const single = renderChart(helm, ['values-secret.yaml']).objects;
    assert.equal(deploymentOf(single).spec.replicas, 1);
    assert.equal(single.filter((o) => o.kind === 'PodDisruptionBudget').length, 0);
  });

  test('webhook container: args, probes on the ops port, restricted security context, TLS at the default paths', () => {
    const objects = renderChart(helm).objects;
    const container = containerOf(objects);
    const spec = deploymentOf(objects).spec.template.spec;
    assert.deepEqual(container.args, ['webhook']);
    const metricsPort = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
    assert.equal(metricsPort, 9188);
    assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'metrics' });
    assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'metrics' });
    assert.deepEqual(container.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    // The files the webhook reads by default are where the Secret is mounted.
    const mount = container.volumeMounts?.find((m) => m.name === 'tls');
    const volume = spec.volumes.find((v) => v.name === 'tls');
    assert.ok(mount?.readOnly && volume?.secret);
    const mounted = (volume.secret.items ?? []).map((i) => `${mount.mountPath}/${i.path}`);
    assert.deepEqual(mounted, [defaultOf('tlsCertFile'), defaultOf('tlsKeyFile')]);
    const env = envOf(objects);
    assert.equal(env.get(envName('tlsCertFile')), defaultOf('tlsCertFile'));
    assert.equal(env.get(envName('tlsKeyFile')), defaultOf('tlsKeyFile'));
    assert.equal(volume.secret.secretName, `${RELEASE}-sts-sidecar-webhook-tls`);
  });

  test('webhook env: every STS_SIDECAR_WEBHOOK_* name is a real option, and values reach it', () => {
    const known = new Set(WEBHOOK_OPTIONS.map((o) => o.env));
    for (const c of VALUE_SETS) {
      const env = envOf(renderChart(helm, c.files).objects);
      for (const name of env.keys()) {
        assert.match(name, /^STS_SIDECAR_WEBHOOK_/, `${c.name}: only webhook options are set`);
        assert.ok(known.has(name), `${c.name}: ${name} is not in src/config/webhook-options.ts`);
      }
    }
    const values = valuesOf('values-cert-manager.yaml');
    const sts = values.sts as Record<string, string | number>;
    const env = envOf(renderChart(helm, ['values-cert-manager.yaml']).objects);
    const expected: [string, string][] = [
      ['sidecarImage', `registry.example/sts-sidecar@${(values.image as { digest: string }).digest}`],
      ['imagePullPolicy', 'Always'],
      ['stsEndpoint', String(sts.endpoint)],
      ['flavor', String(sts.flavor)],
      ['roleArn', String(sts.roleArn)],
      ['audience', String(sts.audience)],
      ['s3Endpoint', String(sts.s3Endpoint)],
      ['durationSeconds', String(sts.durationSeconds)],
      ['tokenExpirationSeconds', String(sts.tokenExpirationSeconds)],
      ['logLevel', 'debug'],
    ];
    for (const [key, value] of expected) assert.equal(env.get(envName(key)), value, key);
    // Defaults: the image follows appVersion, resources and fsGroup come from values.yaml.
    const defaults = envOf(renderChart(helm).objects);
    assert.equal(defaults.get(envName('sidecarImage')), 'registry.example/sts-sidecar:0.1.0');
    assert.equal(defaults.has(envName('stsEndpoint')), false, 'an unset default is not rendered as ""');
    const sidecar = envOf(renderChart(helm, ['values-self-signed.yaml']).objects);
    for (const [key, value] of [
      ['sidecarCpuRequest', '50m'],
      ['sidecarMemoryRequest', '128Mi'],
      ['sidecarCpuLimit', '1'],
      ['sidecarMemoryLimit', '256Mi'],
      ['fsGroup', '2000'],
      // A float64 from YAML must not become 3.1536e+07.
      ['durationSeconds', '31536000'],
    ])
      assert.equal(sidecar.get(envName(key!)), value, key);
    assert.equal(sidecar.has(envName('roleArn')), false);
  });

  test('RBAC: read-only ServiceAccounts, bound to the Deployment ServiceAccount', () => {
    const objects = renderChart(helm).objects;
    const role = findOne(objects, 'ClusterRole') as KubeObject & { rules: unknown[] };
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = findOne(objects, 'ClusterRoleBinding') as KubeObject & {
      roleRef: { name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    assert.equal(binding.roleRef.name, role.metadata.name);
    const sa = findOne(objects, 'ServiceAccount');
    assert.equal(deploymentOf(objects).spec.template.spec.serviceAccountName, sa.metadata.name);
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE },
    ]);
  });
});

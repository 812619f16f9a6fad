// deploy/webhook and its example overlays, asserted by meaning on the rendered objects: selectors
// evaluated, ports resolved by name, env names checked against the webhook's own options.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { LABEL_INJECT } from '../../src/webhook/annotations.ts';
import {
  DEPLOY,
  kubectlVersion,
  objectsOf,
  one,
  optionDefault,
  resolvePort,
  selects,
  template,
  WEBHOOK_ENV_NAMES,
  type LabelSelector,
} from '../helpers/kustomize.ts';

const kubectl = kubectlVersion();
const skip = 'reason' in kubectl ? kubectl.reason : undefined;

describe('deploy/webhook', { skip }, () => {
  const objects = () => objectsOf('webhook');
  const deployment = () => one(objects(), 'Deployment', 'sts-sidecar-webhook');
  const container = () => template(deployment()).spec.containers.find((c) => c.name === 'webhook')!;

  test('MutatingWebhookConfiguration: Ignore, v1, no side effects, CREATE pods only', () => {
    const mwc = one(objects(), 'MutatingWebhookConfiguration');
    const webhooks = mwc.webhooks as Record<string, unknown>[];
    assert.equal(webhooks.length, 1);
    const w = webhooks[0]!;
    assert.equal(w.failurePolicy, 'Ignore');
    assert.equal(w.sideEffects, 'None');
    assert.deepEqual(w.admissionReviewVersions, ['v1']);
    assert.deepEqual(
      (w.rules as Record<string, unknown>[]).map(({ scope: _scope, ...rule }) => rule),
      [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    );
  });

  test('selectors: only labelled pods, never in kube-system or the webhook namespace', () => {
    const w = (one(objects(), 'MutatingWebhookConfiguration').webhooks as Record<string, unknown>[])[0]!;
    const objectSelector = w.objectSelector as LabelSelector;
    assert.ok(selects(objectSelector, { [LABEL_INJECT]: 'true' }), 'a labelled pod is sent to the webhook');
    assert.ok(!selects(objectSelector, {}), 'an unlabelled pod is not');
    assert.ok(!selects(objectSelector, { [LABEL_INJECT]: 'false' }), 'inject=false is not');
    const namespaceSelector = w.namespaceSelector as LabelSelector;
    const ns = (name: string) => ({ 'kubernetes.io/metadata.name': name });
    const own = one(objects(), 'Namespace').metadata.name!;
    assert.equal(own, deployment().metadata.namespace);
    assert.ok(!selects(namespaceSelector, ns('kube-system')), 'kube-system excluded');
    assert.ok(!selects(namespaceSelector, ns(own)), `${own} (the webhook's own) excluded`);
    assert.ok(selects(namespaceSelector, ns('shop')), 'other namespaces included');
  });

  test('clientConfig reaches the webhook: Service 443 -> container https port = --listen-port default', () => {
    const w = (one(objects(), 'MutatingWebhookConfiguration').webhooks as Record<string, unknown>[])[0]!;
    const svcRef = (
      w.clientConfig as { service: { name: string; namespace: string; path: string; port: number } }
    ).service;
    assert.equal(svcRef.path, '/mutate');
    const service = one(objects(), 'Service', svcRef.name);
    assert.equal(service.metadata.namespace, svcRef.namespace);
    const spec = service.spec as {
      selector: Record<string, string>;
      ports: { port: number; targetPort: string }[];
    };
    const port = spec.ports.find((p) => p.port === svcRef.port);
    assert.ok(port, `Service has port ${svcRef.port}`);
    assert.equal(svcRef.port, 443);
    assert.equal(String(resolvePort(container(), port.targetPort)), optionDefault('listenPort'));
    assert.ok(selects({ matchLabels: spec.selector }, template(deployment()).metadata.labels ?? {}));
  });

  test('cert-manager: inject-ca-from names a CA-issued Certificate for the Service, mounted where the webhook reads TLS', () => {
    const mwc = one(objects(), 'MutatingWebhookConfiguration');
    const [certNs, certName] = mwc.metadata.annotations?.['cert-manager.io/inject-ca-from']?.split('/') ?? [];
    const cert = one(objects(), 'Certificate', certName);
    assert.equal(cert.metadata.namespace, certNs);
    const spec = cert.spec as {
      secretName: string;
      dnsNames: string[];
      issuerRef: { name: string; kind: string };
    };
    const w = (mwc.webhooks as { clientConfig: { service: { name: string; namespace: string } } }[])[0]!;
    assert.ok(
      spec.dnsNames.includes(`${w.clientConfig.service.name}.${w.clientConfig.service.namespace}.svc`),
    );
    // A CA issuer (stable caBundle across renewals) backed by an isCA Certificate.
    assert.equal(spec.issuerRef.kind, 'Issuer');
    const issuer = one(objects(), 'Issuer', spec.issuerRef.name);
    const caSecret = (issuer.spec as { ca?: { secretName: string } }).ca?.secretName;
    assert.ok(caSecret, 'the serving certificate comes from a CA issuer');
    const caCert = objects().find(
      (o) => o.kind === 'Certificate' && (o.spec as { secretName: string }).secretName === caSecret,
    );
    assert.equal((caCert?.spec as { isCA?: boolean } | undefined)?.isCA, true);
    const tls = template(deployment()).spec.volumes?.find((v) => v.secret?.secretName === spec.secretName);
    assert.ok(tls, `the Deployment mounts Secret ${spec.secretName}`);
    const mount = container().volumeMounts?.find((m) => m.name === tls.name);
    for (const key of ['tlsCertFile', 'tlsKeyFile'])
      assert.equal(mount?.mountPath, dirname(optionDefault(key)!), `${key} default is under the mount`);
    assert.equal(mount?.readOnly, true);
  });

  test('Deployment: 2 replicas of `webhook`, restricted security context, probes on the ops port, PDB', () => {
    const d = deployment();
    assert.equal((d.spec as { replicas: number }).replicas, 2);
    const t = template(d);
    const c = container();
    assert.deepEqual(c.args, ['webhook']);
    const sc = { ...t.spec.securityContext, ...c.securityContext };
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.runAsUser, 65532);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
    assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(c.readinessProbe?.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe?.httpGet.path, '/healthz');
    for (const probe of [c.readinessProbe!, c.livenessProbe!])
      assert.equal(String(resolvePort(c, probe.httpGet.port)), optionDefault('opsPort'));
    const pdb = one(objects(), 'PodDisruptionBudget');
    const pdbSpec = pdb.spec as { minAvailable: number; selector: LabelSelector };
    assert.ok(selects(pdbSpec.selector, t.metadata.labels ?? {}), 'the PDB covers the webhook pods');
    assert.equal(pdbSpec.minAvailable, 1);
  });

  test('RBAC: the webhook ServiceAccount may get, list and watch serviceaccounts cluster-wide', () => {
    const saName = template(deployment()).spec.serviceAccountName;
    const sa = one(objects(), 'ServiceAccount', saName);
    const binding = one(objects(), 'ClusterRoleBinding');
    const subjects = binding.subjects as { kind: string; name: string; namespace: string }[];
    assert.ok(
      subjects.some(
        (s) => s.kind === 'ServiceAccount' && s.name === saName && s.namespace === sa.metadata.namespace,
      ),
    );
    const role = one(objects(), 'ClusterRole', (binding.roleRef as { name: string }).name);
    const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    for (const verb of ['get', 'list', 'watch'])
      assert.ok(
        rules.some(
          (r) =>
            r.apiGroups.includes('') && r.resources.includes('serviceaccounts') && r.verbs.includes(verb),
        ),
        `${verb} serviceaccounts`,
      );
  });

  test('webhook defaults: the ConfigMap is the env of the container, with real names and the image it runs', () => {
    const c = container();
    const cmName = c.envFrom?.[0]?.configMapRef?.name;
    const cm = one(objects(), 'ConfigMap', cmName);
    const data = cm.data as Record<string, string>;
    for (const name of Object.keys(data))
      assert.ok(WEBHOOK_ENV_NAMES.has(name), `${name} is a webhook option`);
    assert.equal(
      data.STS_SIDECAR_WEBHOOK_SIDECAR_IMAGE,
      c.image,
      'the injected sidecar is the image the webhook runs',
    );
    // Every variable named in webhook.env, commented out or not, is one the webhook reads.
    const source = readFileSync(join(DEPLOY, 'webhook/webhook.env'), 'utf8');
    const named = [...source.matchAll(/^#?\s*(STS_SIDECAR_WEBHOOK_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    assert.ok(named.length >= 10, `webhook.env lists the defaults (${named.length})`);
    for (const name of named)
      assert.ok(WEBHOOK_ENV_NAMES.has(name), `webhook.env: ${name} is not a webhook option`);
  });
});

describe('deploy/examples: webhook variants', { skip }, () => {
  test('webhook-overlay: a new image reaches the injected-sidecar setting; store defaults are real options', () => {
    const objects = objectsOf('examples/webhook-overlay');
    const d = one(objects, 'Deployment', 'sts-sidecar-webhook');
    const c = template(d).spec.containers[0]!;
    assert.match(c.image!, /^registry\.internal\.example\//);
    const cm = one(objects, 'ConfigMap', c.envFrom?.[0]?.configMapRef?.name);
    const data = cm.data as Record<string, string>;
    assert.equal(data.STS_SIDECAR_WEBHOOK_SIDECAR_IMAGE, c.image);
    assert.equal(data.STS_SIDECAR_WEBHOOK_FLAVOR, 'rgw');
    for (const name of Object.keys(data)) assert.ok(WEBHOOK_ENV_NAMES.has(name), name);
  });

  test('webhook-without-cert-manager: no cert-manager objects or annotation, the webhook intact', () => {
    const objects = objectsOf('examples/webhook-without-cert-manager');
    assert.deepEqual(
      objects.filter((o) => o.apiVersion.startsWith('cert-manager.io/')).map((o) => o.kind),
      [],
    );
    const mwc = one(objects, 'MutatingWebhookConfiguration');
    assert.equal(mwc.metadata.annotations?.['cert-manager.io/inject-ca-from'], undefined);
    const base = objectsOf('webhook').filter((o) => !o.apiVersion.startsWith('cert-manager.io/'));
    assert.deepEqual(
      objects.filter((o) => o.kind !== 'MutatingWebhookConfiguration'),
      base.filter((o) => o.kind !== 'MutatingWebhookConfiguration'),
    );
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { S3_APP_IMAGE, STS_SIDECAR_IMAGE } from '../helpers/e2e-images.ts';
import { findGoTool } from '../helpers/go-tools.ts';
import { CHART_DIR, RENDER_FIXTURES, VALUE_SETS } from '../helpers/helm-chart.ts';
import {
  apply,
  describePod,
  findKubeCluster,
  getJson,
  helmOn,
  jsonLogs,
  type KubeCluster,
  kubectl,
  streamUntil,
  waitForLogLine,
} from '../helpers/kube-cluster.ts';
import { MinioServer, minioRoleArn } from '../helpers/minio-server.ts';
import { missingPeer } from '../helpers/required-peer.ts';

// Issue 11: the whole Kubernetes journey on a real cluster (.ci/peers/kube.sh: etcd,
// kube-apiserver, controller-manager, scheduler, kubelet, containerd, runc, a CNI bridge), with
// the image built from the repo's Dockerfile (.ci/build-images.sh): `helm install` of the chart,
// the webhook injecting a labelled Deployment in a Pod Security `restricted` namespace, real SDK
// clients in the app containers doing S3 I/O at a real MinIO that trusts the API server's own OIDC
// discovery, with the token the kubelet wrote and rotated; a Job; a pod deletion; every chart
// value set against the API server; upgrade and uninstall.

const CRDS_SCRIPT = fileURLToPath(new URL('../../.ci/crds.sh', import.meta.url));

const found = await findKubeCluster();
const helmTool = findGoTool('helm');
const crds = findCrds();
const skip =
  'reason' in found
    ? found.reason
    : helmTool.path === undefined
      ? helmTool.skipReason
      : 'reason' in crds
        ? crds.reason
        : undefined;

const RELEASE = 'sts';
const RELEASE_NS = 'sts-system';
const APP_NS = 'shop';
const SERVICE_ACCOUNT = 's3-app';
/** The OIDC client ID MinIO trusts and the projected token's audience. */
const AUDIENCE = 'sts-e2e';
/** MinIO inside the cluster's namespace, at the node address; pods reach it there. */
const MINIO_PORT = 19_000;
const SIDECAR = 'sts-sidecar';
/**
 * The namespace label this suite's release injects (webhook.namespaceMatchLabels): another e2e
 * suite's release on the same cluster never sees this suite's pods, nor this one its.
 */
const SUITE_LABEL = { 'sts-e2e-suite': 'kube' };
/** Kubernetes' minimum (TokenRequest): the kubelet rotates it at 80 %, ~8 min in. */
const TOKEN_EXPIRATION_SECONDS = 600;
/** MinIO's minimum DurationSeconds. */
const DURATION_SECONDS = 900;
/** Refresh every minute, so an exchange follows the kubelet's rotation within a minute. */
const MAX_REFRESH_SECONDS = 60;
/** Pause between a client's S3 rounds: the clients run for ten minutes. */
const CLIENT_PACE_MS = '2000';
/** Rotation at 80 % of 600 s plus the kubelet's sync period, then up to one refresh interval. */
const ROTATION_DEADLINE_MS = 12 * 60_000;
/** The sidecar's exchange with STS down must have failed this often before the app is checked. */
const FAILURES_BEFORE_CHECK = 5;

type Json = Record<string, unknown>;
interface ContainerStatus {
  name: string;
  started?: boolean;
  ready?: boolean;
  state?: {
    waiting?: { reason?: string };
    running?: Json;
    terminated?: { exitCode: number; reason?: string };
  };
}
interface PodJson {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    initContainers?: {
      name: string;
      restartPolicy?: string;
      volumeMounts?: { name: string; mountPath: string }[];
    }[];
    containers: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
  };
  status: {
    phase?: string;
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

describe(
  'a real Kubernetes: helm install to S3 I/O with kubelet-issued tokens',
  { skip, timeout: 25 * 60_000 },
  () => {
    const cluster = 'cluster' in found ? found.cluster : (undefined as unknown as KubeCluster);
    const helm = helmTool.path ?? '';
    const crdDir = 'dir' in crds ? crds.dir : '';
    const endpoint = `http://${cluster?.nodeIp}:${MINIO_PORT}`;
    let minio: MinioServer | undefined;
    let appPod = '';
    let firstTokenExp = '';
    let podCreatedAt = 0;

    const runHelm = (args: string[]) => helmOn(cluster, helm, args);
    const chartValues = [
      `image.repository=${STS_SIDECAR_IMAGE.ref.split(':')[0]}`,
      `image.tag=${STS_SIDECAR_IMAGE.ref.split(':')[1]}`,
      'image.pullPolicy=Never',
      `sts.endpoint=${endpoint}`,
      'sts.flavor=minio',
      `sts.roleArn=${minioRoleArn(AUDIENCE)}`,
      `sts.audience=${AUDIENCE}`,
      `sts.s3Endpoint=${endpoint}`,
      `sts.durationSeconds=${DURATION_SECONDS}`,
      `sts.tokenExpirationSeconds=${TOKEN_EXPIRATION_SECONDS}`,
      ...Object.entries(SUITE_LABEL).map(([k, v]) => `webhook.namespaceMatchLabels.${k}=${v}`),
    ].flatMap((s) => ['--set', s]);
    const pod = (name: string) => getJson<PodJson>(cluster, ['pod', '-n', APP_NS, name]);
    const explain = async (name: string, error: unknown): Promise<never> => {
      throw new Error(`${(error as Error).message}\n${await describePod(cluster, APP_NS, name)}`, {
        cause: error,
      });
    };

    /** One app container running a real SDK client from the e2e app image, restricted-compliant. */
    const client = (name: 'go' | 'js', bucket: string, loop: boolean) => ({
      name,
      image: S3_APP_IMAGE.ref,
      imagePullPolicy: 'Never',
      command:
        name === 'go'
          ? ['/usr/local/bin/go-s3', endpoint, bucket, ...(loop ? ['/nonexistent/stop'] : [])]
          : ['/nodejs/bin/node', '/app/js-s3.mjs', endpoint, bucket, ...(loop ? ['/nonexistent/stop'] : [])],
      env: [
        { name: 'AWS_REGION', value: 'us-east-1' },
        { name: 'S3_CLIENT_PACE_MS', value: CLIENT_PACE_MS },
      ],
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    });
    const podSpec = (containers: object[], extra: Json = {}) => ({
      serviceAccountName: SERVICE_ACCOUNT,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers,
      ...extra,
    });
    const injectMeta = (app: string) => ({
      labels: { app, 'sts-sidecar.io/inject': 'true' },
      annotations: { 'sts-sidecar.io/max-refresh-interval-seconds': String(MAX_REFRESH_SECONDS) },
    });

    before(async () => {
      // A previous run's namespaces may still be terminating; content cannot be created in them.
      await kubectl(
        cluster,
        ['wait', '--for=delete', `namespace/${APP_NS}`, `namespace/${RELEASE_NS}`, '--timeout=180s'],
        { timeoutMs: 190_000 },
      );
      await apply(
        cluster,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: RELEASE_NS } },
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: {
            name: APP_NS,
            labels: {
              ...SUITE_LABEL,
              'pod-security.kubernetes.io/enforce': 'restricted',
              'pod-security.kubernetes.io/enforce-version': 'latest',
            },
          },
        },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SERVICE_ACCOUNT, namespace: APP_NS } },
        // What an operator grants so a store can read the issuer's discovery document and JWKS
        // without credentials (Kubernetes' built-in ClusterRole for exactly this).
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'sts-e2e-oidc-discovery' },
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
    });

    after(async () => {
      await minio?.stop();
      for (const ns of [APP_NS, RELEASE_NS])
        await kubectl(cluster, ['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']).catch(
          () => {},
        );
      await kubectl(cluster, [
        'delete',
        'clusterrolebinding',
        'sts-e2e-oidc-discovery',
        '--ignore-not-found',
      ]).catch(() => {});
      await runHelm(['uninstall', RELEASE, '-n', RELEASE_NS, '--ignore-not-found']).catch(() => {});
    });

    test('versions', (t) => {
      t.diagnostic(cluster.versions);
    });

    test('helm install: the webhook pods are scheduled, Running and Ready, and the PDB exists', async () => {
      await runHelm([
        'install',
        RELEASE,
        CHART_DIR,
        '-n',
        RELEASE_NS,
        ...chartValues,
        '--wait',
        '--timeout',
        '4m',
      ]);
      const pods = await getJson<{ items: PodJson[] }>(cluster, [
        'pods',
        '-n',
        RELEASE_NS,
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
      ]);
      assert.equal(pods.items.length, 2, 'the chart runs two webhook replicas');
      for (const p of pods.items) {
        assert.equal(p.status.phase, 'Running', `${p.metadata.name} is ${p.status.phase}`);
        assert.ok(
          p.status.containerStatuses?.every((c) => c.ready),
          `${p.metadata.name} is not Ready`,
        );
      }
      const pdbs = await getJson<{ items: { spec: { minAvailable: number } }[] }>(cluster, [
        'pdb',
        '-n',
        RELEASE_NS,
      ]);
      assert.equal(pdbs.items.length, 1);
      assert.equal(pdbs.items[0]!.spec.minAvailable, 1);
    });

    test('an app Deployment in a restricted namespace: injected, held until the sidecar holds credentials, S3 I/O from Go and JS', async (t) => {
      await apply(cluster, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 's3-app', namespace: APP_NS },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 's3-app' } },
          template: {
            metadata: injectMeta('s3-app'),
            spec: podSpec([client('go', 'e2e-go', true), client('js', 'e2e-js', true)]),
          },
        },
      });
      podCreatedAt = Date.now();
      // The store is not up yet: the sidecar must fail its exchange, and hold the app back.
      appPod = await waitForPodName('app=s3-app');
      const target = { namespace: APP_NS, pod: appPod, container: SIDECAR };
      await waitForLogLine(
        cluster,
        target,
        `${FAILURES_BEFORE_CHECK} failed exchanges while MinIO is down`,
        (line) =>
          isExchange(line, 'failure') && Number(parse(line).consecutiveFailures) >= FAILURES_BEFORE_CHECK,
        120_000,
      ).catch((e: unknown) => explain(appPod, e));
      const held = await pod(appPod);
      const sidecarStatus = held.status.initContainerStatuses?.find((c) => c.name === SIDECAR);
      assert.equal(
        sidecarStatus?.started,
        false,
        'the sidecar counts as started before it holds credentials',
      );
      for (const c of held.status.containerStatuses ?? [])
        assert.ok(
          c.state?.waiting !== undefined,
          `app container ${c.name} started before the sidecar held credentials: ${JSON.stringify(c.state)}`,
        );

      minio = await MinioServer.start({
        issuer: cluster.issuer,
        clientId: AUDIENCE,
        mode: 'role-policy',
        network: { netns: cluster.netns, host: cluster.nodeIp, port: MINIO_PORT },
        caFile: cluster.caFile,
      });
      t.diagnostic(`MinIO ${minio.version} at ${minio.url}, trusting ${cluster.issuer}`);
      await kubectl(
        cluster,
        ['wait', '--for=condition=Ready', `pod/${appPod}`, '-n', APP_NS, '--timeout=180s'],
        {
          timeoutMs: 200_000,
        },
      ).catch((e: unknown) => explain(appPod, e));

      const first = parse(
        await waitForLogLine(
          cluster,
          target,
          'a successful exchange',
          (l) => isExchange(l, 'success'),
          60_000,
        ),
      );
      // The token the sidecar exchanged is the kubelet's: the pod's ServiceAccount, our audience.
      assert.equal(first.tokenSub, `system:serviceaccount:${APP_NS}:${SERVICE_ACCOUNT}`);
      assert.ok(
        JSON.stringify(first.tokenAud).includes(AUDIENCE),
        `token aud ${JSON.stringify(first.tokenAud)}`,
      );
      firstTokenExp = String(first.tokenExp);
      const issued = new Set([String(first.accessKeyId)]);

      for (const name of ['go', 'js'] as const) {
        const line = await waitForLogLine(
          cluster,
          { namespace: APP_NS, pod: appPod, container: name },
          'a GetObject that read its bytes back',
          (l) => l.includes('"op":"GetObject"') && l.includes('"ok":true'),
          120_000,
        );
        const calls = (await jsonLogs(cluster, { namespace: APP_NS, pod: appPod, container: name })).filter(
          (c) => 'op' in c,
        );
        assert.deepEqual(
          calls.filter((c) => c.ok !== true),
          [],
          `${name}: failed S3 calls`,
        );
        for (const op of ['CreateBucket', 'PutObject', 'GetObject'])
          assert.ok(
            calls.some((c) => c.op === op && c.ok === true),
            `${name}: no successful ${op}`,
          );
        assert.ok(
          issued.has(String(parse(line).accessKeyId)),
          `${name} signed with a key the sidecar did not issue`,
        );
        t.diagnostic(`${name}: ${calls.length} S3 calls, 0 failed`);
      }
    });

    test('sts-sidecar check in the injected sidecar container: every link holds, the audience compared', async () => {
      // What an operator runs (docs/check.md). The container trusts no cluster CA (it mounts no
      // API token volume), so the API server's CA, which signed the issuer's certificate, comes
      // in on stdin.
      const out = await kubectl(
        cluster,
        ['exec', '-i', '-n', APP_NS, appPod, '-c', SIDECAR, '--'].concat([
          '/nodejs/bin/node',
          '/app/sts-sidecar.mjs',
          'check',
          '--json',
          '--issuer-ca-file',
          '/dev/stdin',
        ]),
        { input: await readFile(cluster.caFile, 'utf8') },
      );
      const report = JSON.parse(out) as { ok: boolean; steps: Array<{ step: string; status: string }> };
      assert.equal(report.ok, true, out);
      const status = Object.fromEntries(report.steps.map((st) => [st.step, st.status]));
      // ok, not skipped: the webhook injected the audience it projected (STS_SIDECAR_CHECK_AUDIENCE).
      assert.equal(status.audience, 'ok', out);
      assert.equal(status.exchange, 'ok', out);
    });

    test('the injected sidecar holds no Kubernetes API credential (the app containers still do)', async () => {
      const stored = await pod(appPod);
      const sidecar = stored.spec.initContainers?.find((c) => c.name === SIDECAR);
      assert.equal(sidecar?.restartPolicy, 'Always', 'injected as a native sidecar');
      const apiTokenMounts = (mounts: { name: string; mountPath: string }[] = []) =>
        mounts.filter((m) => m.name.startsWith('kube-api-access-'));
      assert.deepEqual(apiTokenMounts(sidecar?.volumeMounts), [], 'the sidecar mounts the pod API token');
      // The ServiceAccount plugin did run on this pod: the app containers got the token.
      for (const c of stored.spec.containers)
        assert.equal(apiTokenMounts(c.volumeMounts).length, 1, `${c.name} has no kube-api-access mount`);
    });

    test('a Job with an injected sidecar completes, and its sidecar exits 0', async () => {
      await apply(cluster, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 's3-once', namespace: APP_NS },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: injectMeta('s3-once'),
            spec: podSpec([client('go', 'e2e-job', false)], { restartPolicy: 'Never' }),
          },
        },
      });
      const name = await waitForPodName('app=s3-once');
      await kubectl(
        cluster,
        ['wait', '--for=jsonpath={.status.phase}=Succeeded', `pod/${name}`, '-n', APP_NS, '--timeout=180s'],
        {
          timeoutMs: 200_000,
        },
      ).catch((e: unknown) => explain(name, e));
      await kubectl(cluster, [
        'wait',
        '--for=condition=Complete',
        'job/s3-once',
        '-n',
        APP_NS,
        '--timeout=60s',
      ]);
      const done = await pod(name);
      const sidecar = done.status.initContainerStatuses?.find((c) => c.name === SIDECAR);
      assert.equal(sidecar?.state?.terminated?.exitCode, 0, `sidecar: ${JSON.stringify(sidecar?.state)}`);
      const app = done.status.containerStatuses?.find((c) => c.name === 'go');
      assert.equal(app?.state?.terminated?.exitCode, 0, `go client: ${JSON.stringify(app?.state)}`);
    });

    test('deleting a pod: the sidecar gets SIGTERM and exits 0 within its grace period', async (t) => {
      const name = 's3-deleteme';
      await apply(cluster, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: APP_NS, ...injectMeta(name) },
        spec: podSpec([client('go', 'e2e-delete', true)], { terminationGracePeriodSeconds: 30 }),
      });
      await kubectl(
        cluster,
        ['wait', '--for=condition=Ready', `pod/${name}`, '-n', APP_NS, '--timeout=180s'],
        {
          timeoutMs: 200_000,
        },
      ).catch((e: unknown) => explain(name, e));
      // The kubelet reports each container's end before it removes the pod; the watch sees it.
      // Fields are split by "|": kubectl's watch printer aligns tabs into spaces.
      let watching!: () => void;
      const firstEvent = new Promise<void>((resolve) => (watching = resolve));
      const watch = streamUntil(
        cluster,
        [
          'get',
          'pod',
          name,
          '-n',
          APP_NS,
          '--watch',
          '--output-watch-events',
          '-o',
          'jsonpath={.type}{"|"}{.object.status.initContainerStatuses[0].name}{"|"}{.object.status.initContainerStatuses[0].state.terminated.exitCode}{"|"}{.object.status.initContainerStatuses[0].state.terminated.reason}{"\\n"}',
        ],
        'the pod deleted',
        (line) => line.startsWith('DELETED'),
        100_000,
        () => watching(),
      );
      // The watch's first event is the pod as it is now: from then on, no change is missed.
      await Promise.race([firstEvent, watch]);
      const deletedAt = Date.now();
      await kubectl(cluster, ['delete', 'pod', name, '-n', APP_NS, '--wait=true', '--timeout=60s'], {
        timeoutMs: 70_000,
      });
      t.diagnostic(`pod deleted ${Date.now() - deletedAt} ms after the request (grace period 30 s)`);
      const events = (await watch).filter((l) => l !== '');
      const ends = events
        .map((l) => l.split('|'))
        .filter(([, container, code]) => container === SIDECAR && code !== '');
      assert.ok(ends.length > 0, `no terminated state of the sidecar was reported:\n${events.join('\n')}`);
      assert.equal(ends[0]![2], '0', `the sidecar ended with ${ends[0]![2]} (${ends[0]![3]}), not 0`);
    });

    test('every chart value set of the chart tests installs on this API server (server-side dry run)', async (t) => {
      const install = async (set: (typeof VALUE_SETS)[number]) => {
        const args = ['install', `vs-${set.name}`, CHART_DIR, '-n', `vs-${set.name}`, '--create-namespace'];
        args.push('--dry-run=server', ...set.files.flatMap((f) => ['-f', `${RENDER_FIXTURES}/${f}`]));
        return runHelm(args).then(
          () => 'installs',
          (e: Error) => e.message,
        );
      };
      // Without their CRDs the API server refuses exactly the optional kinds: cert-manager's
      // (tls.mode=cert-manager) and the Prometheus Operator's (monitoring values).
      const needsCrds: Record<string, RegExp> = {
        'cert-manager': /no matches for kind "(Certificate|Issuer)" in version "cert-manager\.io\/v1"/,
        monitoring:
          /no matches for kind "(PodMonitor|ServiceMonitor|PrometheusRule)" in version "monitoring\.coreos\.com\/v1"/,
      };
      // A previous run on the same cluster may have left them (its clean-up does not wait).
      await kubectl(cluster, ['delete', '-f', crdDir, '--ignore-not-found', '--wait=true'], {
        timeoutMs: 120_000,
      });
      for (const [name, refusal] of Object.entries(needsCrds))
        assert.match(await install(VALUE_SETS.find((v) => v.name === name)!), refusal, `value set ${name}`);
      // With the CRDs both projects ship (.ci/crds.sh), every value set installs. The monitoring
      // set puts its dashboard in the namespace a Grafana sidecar watches, which must exist.
      await kubectl(cluster, ['apply', '--server-side', '-f', crdDir]);
      await kubectl(cluster, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
      await apply(cluster, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'grafana' } });
      for (const set of VALUE_SETS) assert.equal(await install(set), 'installs', `value set ${set.name}`);
      t.diagnostic(`${VALUE_SETS.length} value sets accepted: ${VALUE_SETS.map((v) => v.name).join(', ')}`);
    });

    test('helm upgrade keeps the caBundle, and the webhook still injects with it', async () => {
      const caBundle = async () =>
        kubectl(cluster, [
          'get',
          'mutatingwebhookconfiguration',
          '-l',
          `app.kubernetes.io/instance=${RELEASE}`,
          '-o',
          'jsonpath={.items[0].webhooks[0].clientConfig.caBundle}',
        ]);
      const before = await caBundle();
      assert.ok(before.length > 100, 'no caBundle after install');
      await runHelm([
        'upgrade',
        RELEASE,
        CHART_DIR,
        '-n',
        RELEASE_NS,
        '--reuse-values',
        '--wait',
        '--timeout',
        '4m',
      ]);
      assert.equal(await caBundle(), before, 'helm upgrade replaced the caBundle');
      // A server-side dry run goes through admission: the webhook must answer over TLS with that CA.
      const created = JSON.parse(
        await kubectl(cluster, ['create', '--dry-run=server', '-o', 'json', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'after-upgrade', namespace: APP_NS, ...injectMeta('after-upgrade') },
            spec: podSpec([client('go', 'e2e-upgrade', true)]),
          }),
        }),
      ) as PodJson;
      assert.equal(created.metadata.annotations?.['sts-sidecar.io/status'], 'injected');
    });

    test('a real kubelet rotation: the next exchange uses the new token, S3 I/O keeps working', async (t) => {
      assert.notEqual(appPod, '', 'the app Deployment test did not run');
      const target = { namespace: APP_NS, pod: appPod, container: SIDECAR };
      const rotated = parse(
        await waitForLogLine(
          cluster,
          target,
          'an exchange with a token the kubelet rotated',
          (l) => isExchange(l, 'success') && String(parse(l).tokenExp) !== firstTokenExp,
          ROTATION_DEADLINE_MS,
        ),
      );
      t.diagnostic(
        `token rotated and exchanged ${Math.round((Date.now() - podCreatedAt) / 1000)} s after the pod was created (token exp ${firstTokenExp} -> ${String(rotated.tokenExp)})`,
      );
      // The keys issued from the first token; every later exchange uses the rotated one.
      const exchanges = await jsonLogs(cluster, target);
      const firstTokenKeys = new Set(
        exchanges
          .filter((l) => l.event === 'exchange' && l.result === 'success' && l.tokenExp === firstTokenExp)
          .map((l) => String(l.accessKeyId)),
      );
      // Each client moves on to a key issued from the rotated token when its SDK refreshes (5 min
      // before the old key's expiry for both), and no call fails on the way.
      for (const name of ['go', 'js'] as const) {
        const line = await waitForLogLine(
          cluster,
          { namespace: APP_NS, pod: appPod, container: name },
          'a GetObject signed with a key issued from the rotated token',
          (l) => {
            if (!l.includes('"op":"GetObject"') || !l.includes('"ok":true')) return false;
            const key = parse(l).accessKeyId;
            return typeof key === 'string' && !firstTokenKeys.has(key);
          },
          ROTATION_DEADLINE_MS,
        );
        const key = String(parse(line).accessKeyId);
        const issuedFor = (await jsonLogs(cluster, target)).find(
          (l) => l.event === 'exchange' && l.result === 'success' && l.accessKeyId === key,
        );
        assert.ok(issuedFor, `${name} signed with ${key}, which the sidecar never issued`);
        assert.notEqual(issuedFor.tokenExp, firstTokenExp, `${key} was issued from the first token`);
        const calls = (await jsonLogs(cluster, { namespace: APP_NS, pod: appPod, container: name })).filter(
          (c) => 'op' in c,
        );
        assert.deepEqual(
          calls.filter((c) => c.ok !== true),
          [],
          `${name}: failed S3 calls across the rotation`,
        );
        t.diagnostic(
          `${name}: ${calls.length} S3 calls across the rotation, 0 failed; now signing with a key from the rotated token`,
        );
      }
    });

    test('helm uninstall leaves nothing of the chart behind', async () => {
      await runHelm(['uninstall', RELEASE, '-n', RELEASE_NS, '--wait', '--timeout', '3m']);
      // The webhook pods are not the chart's objects but its ReplicaSet's: they go once they have
      // drained and stopped (helm's --wait does not wait for them).
      await kubectl(
        cluster,
        [
          'wait',
          '--for=delete',
          'pod',
          '-l',
          `app.kubernetes.io/instance=${RELEASE}`,
          '-n',
          RELEASE_NS,
          '--timeout=90s',
        ],
        { timeoutMs: 100_000 },
      );
      const left = await kubectl(cluster, [
        'get',
        'all,secrets,configmaps,serviceaccounts,roles,rolebindings,poddisruptionbudgets,networkpolicies,clusterroles,clusterrolebindings,mutatingwebhookconfigurations',
        '-A',
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
        '-o',
        'name',
      ]);
      assert.equal(left.trim(), '', `left behind:\n${left}`);
      // Nothing unlabelled either: the release namespace holds only what Kubernetes puts in any.
      const inNamespace = (
        await kubectl(cluster, [
          'get',
          'all,secrets,configmaps,serviceaccounts,roles,rolebindings',
          '-n',
          RELEASE_NS,
          '-o',
          'name',
        ])
      )
        .split('\n')
        .filter((n) => n !== '' && n !== 'serviceaccount/default' && n !== 'configmap/kube-root-ca.crt');
      assert.deepEqual(inNamespace, []);
    });

    /** The name of the first pod with `selector`, once it exists (a watch, not a poll). */
    async function waitForPodName(selector: string): Promise<string> {
      const lines = await streamUntil(
        cluster,
        ['get', 'pods', '-n', APP_NS, '-l', selector, '--watch', '-o', 'name'],
        `a pod with ${selector}`,
        (line) => line.startsWith('pod/'),
        120_000,
      );
      return lines.at(-1)!.slice('pod/'.length);
    }
  },
);

/** The CRDs of .ci/crds.sh, or why they are missing. */
function findCrds(): { dir: string } | { reason: string } {
  try {
    const dir = execFileSync('bash', [CRDS_SCRIPT, 'dir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { dir: dir.trim() };
  } catch {
    return {
      reason: missingPeer(
        'the CRDs of cert-manager and the Prometheus Operator are missing: run bash .ci/crds.sh install',
      ),
    };
  }
}

function parse(line: string): Json {
  return JSON.parse(line) as Json;
}

function isExchange(line: string, result: 'success' | 'failure'): boolean {
  try {
    const l = parse(line);
    return l.event === 'exchange' && l.result === result;
  } catch {
    return false;
  }
}

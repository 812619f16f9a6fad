// The only import of @kubernetes/client-node. It is loaded by the `webhook` subcommand alone
// (cli.ts lazy-imports webhook/webhook-app.ts), so the sidecar never pays for it.
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type V1ServiceAccount,
} from '@kubernetes/client-node';

/** What the webhook needs of a ServiceAccount: our own type, not the generated model. */
export interface ServiceAccountRecord {
  readonly namespace: string;
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
}

export type ServiceAccountEvent = 'add' | 'update' | 'delete';

/** A list+watch of every ServiceAccount plus a direct read, narrowed to our types. */
export interface ServiceAccountApi {
  /** Lists, then watches; resolves once the first list is in the cache. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** From the informer's cache; undefined when not (yet) seen. */
  cached(namespace: string, name: string): ServiceAccountRecord | undefined;
  cachedCount(): number;
  on(event: ServiceAccountEvent, listener: (sa: ServiceAccountRecord) => void): void;
  /** The list or watch failed; client-node's informer then stops and the caller restarts it. */
  onError(listener: (error: unknown) => void): void;
  /** GET /api/v1/namespaces/{ns}/serviceaccounts/{name}; undefined on 404. */
  read(namespace: string, name: string): Promise<ServiceAccountRecord | undefined>;
}

export interface KubeClientOptions {
  /** Kubeconfig path; undefined = client-node's loadFromDefault (KUBECONFIG, then in-cluster). */
  kubeconfig: string | undefined;
}

const toRecord = (sa: V1ServiceAccount): ServiceAccountRecord => ({
  namespace: sa.metadata?.namespace ?? '',
  name: sa.metadata?.name ?? '',
  annotations: { ...sa.metadata?.annotations },
});

/** RBAC needed: get, list, watch on serviceaccounts (cluster-wide). */
export function createServiceAccountApi(options: KubeClientOptions): ServiceAccountApi {
  const kc = new KubeConfig();
  if (options.kubeconfig === undefined) kc.loadFromDefault();
  else kc.loadFromFile(options.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1ServiceAccount>(kc, '/api/v1/serviceaccounts', () =>
    core.listServiceAccountForAllNamespaces(),
  );
  return {
    start: () => informer.start(),
    stop: () => informer.stop(),
    cached(namespace, name) {
      const sa = informer.get(name, namespace);
      return sa === undefined ? undefined : toRecord(sa);
    },
    cachedCount: () => informer.list().length,
    on(event, listener) {
      informer.on(event, (sa) => listener(toRecord(sa)));
    },
    onError(listener) {
      informer.on('error', listener);
    },
    async read(namespace, name) {
      try {
        return toRecord(await core.readNamespacedServiceAccount({ namespace, name }));
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw error;
      }
    },
  };
}

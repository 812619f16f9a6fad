/**
 * The few Pod fields the webhook reads, as our own types: the patch code stays independent of
 * `@kubernetes/client-node` (which only src/kube/ imports) and of fields we never touch.
 * Everything is optional because an AdmissionReview is untrusted input.
 */

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface Container {
  name: string;
  restartPolicy?: string;
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    serviceAccountName?: string;
    hostNetwork?: boolean;
    securityContext?: { fsGroup?: number };
    volumes?: { name: string }[];
    initContainers?: Container[];
    containers?: Container[];
  };
}

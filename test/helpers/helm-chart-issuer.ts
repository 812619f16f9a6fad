// The issuer side of charts/sts-sidecar renders, shared by test/integration/helm-chart-issuer*.test.ts.
import { ISSUER_OPTIONS } from '../../src/config/issuer-options.ts';
import { type Deployment, findOne, RELEASE } from './helm-chart.ts';
import type { KubeObject } from './k8s-schema.ts';

/** Value sets: the issuer alone (as an e2e installs it), and the issuer with the webhook. */
export const ONLY = ['issuer-values-only.yaml'];
export const FULL = ['issuer-values-full.yaml'];
/** Prefix of every issuer object of the test release. */
export const NAME = `${RELEASE}-sts-sidecar-issuer`;

export const optionDefault = (key: string): string =>
  ISSUER_OPTIONS.find((o) => o.key === key)!.defaultValue!;
export const optionEnv = (key: string): string => ISSUER_OPTIONS.find((o) => o.key === key)!.env;

export const issuerDeployment = (objects: KubeObject[]): Deployment =>
  findOne(objects, 'Deployment', NAME) as Deployment;

/** The issuer container's env as name → value. */
export const issuerEnv = (objects: KubeObject[]): Map<string, string | undefined> =>
  new Map(
    (issuerDeployment(objects).spec.template.spec.containers[0]!.env ?? []).map((e) => [e.name, e.value]),
  );

export type Secret = KubeObject & { type: string; data: Record<string, string> };

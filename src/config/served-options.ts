import { LOG_LEVELS } from '../shared/log.ts';
import type { OptionSpec } from './option-spec.ts';

/**
 * The API server connection of a component that reads from it (the webhook, the issuer): the
 * variable kubectl and client-node read too, so it is not prefixed.
 */
export const KUBECONFIG_OPTION: OptionSpec<'kubeconfig'> = {
  key: 'kubeconfig',
  env: 'KUBECONFIG',
  flag: 'kubeconfig',
  doc: 'Kubeconfig file. Default: the in-cluster service account.',
  kind: 'string',
};

/**
 * The stop and log options of a component served behind a Service (the webhook, the issuer):
 * one definition of their ranges and defaults, each table adding them under its own env prefix.
 * `drainDoc` says what a refused request costs that component.
 */
export function servedComponentOptions(
  envPrefix: string,
  drainDoc: string,
): Array<OptionSpec<'drainSeconds' | 'shutdownGraceSeconds' | 'logLevel'>> {
  return [
    {
      key: 'drainSeconds',
      env: `${envPrefix}DRAIN_SECONDS`,
      flag: 'drain-seconds',
      defaultValue: '5',
      doc: drainDoc,
      kind: 'integer',
      range: { min: 0, max: 60 },
    },
    {
      key: 'shutdownGraceSeconds',
      env: `${envPrefix}SHUTDOWN_GRACE_SECONDS`,
      flag: 'shutdown-grace-seconds',
      defaultValue: '5',
      doc: 'After the drain, finish requests in progress for at most this long ({range}).',
      kind: 'integer',
      range: { min: 0, max: 60 },
    },
    {
      key: 'logLevel',
      env: `${envPrefix}LOG_LEVEL`,
      flag: 'log-level',
      defaultValue: 'info',
      doc: `Log level: ${LOG_LEVELS.join(', ')}.`,
      kind: 'enum',
      values: LOG_LEVELS,
    },
  ];
}

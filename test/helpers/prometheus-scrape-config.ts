// The scrape configuration shipped in deploy/prometheus/ for Prometheus without the Operator:
// loading it, filling in how to reach an API server (the e2e suite), and applying its
// relabelings to a discovered target the way Prometheus does (the drift test against the
// chart's PodMonitor and ServiceMonitor).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export const SCRAPE_CONFIG_FILE = join(
  import.meta.dirname,
  '..',
  '..',
  'deploy',
  'prometheus',
  'scrape-configs.yaml',
);
export const DISCOVERY_RBAC_FILE = join(import.meta.dirname, '..', '..', 'deploy', 'prometheus', 'rbac.yaml');

/** The subset of a relabel_config the shipped file uses. */
export interface RelabelConfig {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: 'replace' | 'keep' | 'drop';
}

export interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  kubernetes_sd_configs: Record<string, unknown>[];
  relabel_configs: RelabelConfig[];
}

/** The shipped file, parsed. */
export function shippedScrapeConfigs(): ScrapeConfig[] {
  return (parseYaml(readFileSync(SCRAPE_CONFIG_FILE, 'utf8')) as { scrape_configs: ScrapeConfig[] })
    .scrape_configs;
}

/**
 * The shipped file with `connection` (api_server, tls_config, authorization) added to every
 * kubernetes_sd_configs entry, and nothing else changed: what a Prometheus outside the cluster
 * uses, and what the e2e suite runs.
 */
export function scrapeConfigsFor(connection: Record<string, unknown>): string {
  const configs = shippedScrapeConfigs();
  for (const c of configs)
    c.kubernetes_sd_configs = c.kubernetes_sd_configs.map((sd) => ({ ...sd, ...connection }));
  return stringifyYaml({ scrape_configs: configs });
}

/**
 * Prometheus's relabeling of one target for the actions the shipped file uses: the regex is
 * anchored at both ends, source values are joined with the separator (";"), `replace` expands
 * $1 in the replacement and skips a non-matching source (upstream model/relabel/relabel.go,
 * prometheus v0.315.0). Returns the labels after relabeling, or undefined when dropped.
 */
export function relabel(
  labels: Readonly<Record<string, string>>,
  configs: readonly RelabelConfig[],
): Record<string, string> | undefined {
  const out = { ...labels };
  for (const c of configs) {
    const value = (c.source_labels ?? []).map((l) => out[l] ?? '').join(c.separator ?? ';');
    const match = new RegExp(`^(?:${c.regex ?? '(.*)'})$`).exec(value);
    switch (c.action ?? 'replace') {
      case 'keep':
        if (!match) return undefined;
        break;
      case 'drop':
        if (match) return undefined;
        break;
      case 'replace': {
        if (!match || c.target_label === undefined) break;
        const replaced = (c.replacement ?? '$1').replace(
          /\$(\d+)|\$\{(\d+)\}/g,
          (_, a, b) => match[Number(a ?? b)] ?? '',
        );
        if (replaced === '') delete out[c.target_label];
        else out[c.target_label] = replaced;
        break;
      }
    }
  }
  return out;
}

/** Kubernetes SD's meta label name for a Kubernetes label (non-alphanumerics become "_"). */
export function metaLabel(prefix: string, kubernetesLabel: string): string {
  return `${prefix}${kubernetesLabel.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

import { durationRangesText, type Range } from './stores.ts';

/** How the loader parses and checks an option's text (config/option-loader.ts). */
export type OptionKind =
  /** Any text; further checks, if any, are the subcommand's. */
  | 'string'
  /** A whole number within `range` (or 0, with `allowZero`). */
  | 'integer'
  /** One of `values`. */
  | 'enum'
  /** `true` or `false`. */
  | 'boolean'
  /** An http(s) URL without user:password. */
  | 'url'
  /** An IPv4 or IPv6 literal. */
  | 'ip'
  /** A Kubernetes resource quantity (100m, 128Mi). */
  | 'quantity'
  /** An IAM role ARN. */
  | 'arn';

/**
 * One option of a subcommand: the single source for flag parsing, environment, defaults,
 * validation, `--help` and the docs' tables. In `doc`, `{range}` renders `range` and
 * `{durations}` the per-store DurationSeconds ranges (config/stores.ts), so the text cannot
 * drift from the check.
 */
export interface OptionSpec<Key extends string = string> {
  readonly key: Key;
  /** Environment variable; flags win over it. */
  readonly env: string;
  /** Long flag without the dashes, for node:util parseArgs. */
  readonly flag: string;
  /** Default shown to users and applied; `undefined` means none (required, or derived: see `doc`). */
  readonly defaultValue?: string;
  /** One sentence for --help and the docs. */
  readonly doc: string;
  readonly kind: OptionKind;
  /** When set, a missing value is a problem with this text (e.g. `is required: the URL of…`). */
  readonly required?: string;
  /** `integer`: the accepted range. */
  readonly range?: Range;
  /** `integer`: 0 is accepted besides `range` (a port: pick a free one, for tests). */
  readonly allowZero?: boolean;
  /** `enum`: the accepted values. */
  readonly values?: readonly string[];
  /** `string`: the text must match `regex`, else `problem` is reported. */
  readonly pattern?: { readonly regex: RegExp; readonly problem: string };
  /** `integer`: the range is the DurationSeconds of the configured flavor (config/stores.ts). */
  readonly perStore?: 'durationSeconds';
}

/** `{range}` → "1-120", `{durations}` → "900-43200 (rgw, aws) or …", as rendered for humans. */
export function optionDoc(spec: Pick<OptionSpec, 'doc' | 'range'>): string {
  return spec.doc
    .replace('{range}', spec.range === undefined ? '' : `${spec.range.min}-${spec.range.max}`)
    .replace('{durations}', durationRangesText());
}

/** The range of an integer row (a bug in the table when there is none). */
export function rangeOf<Key extends string>(rows: readonly OptionSpec<Key>[], key: Key): Range {
  const range = rows.find((r) => r.key === key)?.range;
  if (range === undefined) throw new Error(`option ${key} has no range`);
  return range;
}

/** The default of a row (a bug in the table when there is none). */
export function defaultOf<Key extends string>(rows: readonly OptionSpec<Key>[], key: Key): string {
  const value = rows.find((r) => r.key === key)?.defaultValue;
  if (value === undefined) throw new Error(`option ${key} has no default`);
  return value;
}

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError, type ConfigIssue } from '../shared/errors.ts';
import type { OptionSpec } from './option-spec.ts';
import { durationRange, FLAVORS } from './stores.ts';
import {
  parseQuantity,
  parseWhole,
  quantityProblem,
  validateArn,
  validateEnum,
  validateUrl,
} from './validators.ts';

/** A parsed option value: a number for `integer`, a boolean for `boolean`, else the (normalised) text. */
export type OptionValue = string | number | boolean;

/** The options of one subcommand, parsed and checked row by row. */
export interface LoadedOptions<Key extends string> {
  /** The text in effect: flag, else env var, else default; undefined when none (or empty). */
  text(key: Key): string | undefined;
  /** The parsed value; undefined when absent or invalid (its problem is then recorded). */
  value(key: Key): OptionValue | undefined;
  /** Records a problem of `key` that only the subcommand can see (a cross-field rule). */
  problem(key: Key, text: string): void;
  /** True when `key` has a problem recorded. */
  failed(key: Key): boolean;
  /** Throws one ConfigError listing every problem, if there is any. */
  throwIfInvalid(): void;
}

/**
 * Turns flags and environment into values, row by row. Precedence, per option:
 *  1. the command-line flag,
 *  2. the environment variable,
 *  3. the row's default.
 * An empty value counts as unset. Each row is checked by its kind, range, values and per-store
 * limits; a `perStore` row is checked against the range of the `flavor` row's value (or the
 * widest range when it has none). Problems are collected, never thrown one by one, so an
 * operator fixes everything in one round trip.
 *
 * @param helpHint appended to a command-line parse error, e.g. `Run sts-sidecar webhook --help.`
 */
export function loadOptions<Key extends string>(
  rows: readonly OptionSpec<Key>[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  helpHint: string,
): LoadedOptions<Key> {
  const issues: ConfigIssue[] = [];
  const failed = new Set<Key>();
  const byKey = new Map(rows.map((row) => [row.key, row]));
  const row = (key: Key): OptionSpec<Key> => byKey.get(key)!;
  const problem = (key: Key, text: string): void => {
    const r = row(key);
    failed.add(key);
    issues.push({ env: r.env, flag: `--${r.flag}`, problem: text });
  };

  let flags: Record<string, string | undefined> = {};
  try {
    const options = Object.fromEntries(rows.map((r) => [r.flag, { type: 'string' as const }]));
    flags = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | undefined
    >;
  } catch (error) {
    // parseArgs names the offending flag; it never holds a secret value we would echo back.
    const text = error instanceof Error ? error.message : String(error);
    issues.push({ env: '-', flag: '(command line)', problem: `${text}. ${helpHint}` });
  }

  const text = (key: Key): string | undefined => {
    const r = row(key);
    const value = flags[r.flag] ?? env[r.env];
    return value === undefined || value === '' ? r.defaultValue : value;
  };
  const flavorKey = rows.find((r) => r.key === 'flavor')?.key;
  const values = new Map<Key, OptionValue | undefined>();
  for (const r of rows)
    values.set(
      r.key,
      parse(r, text(r.key), (t) => problem(r.key, t)),
    );

  function parse(
    r: OptionSpec<Key>,
    value: string | undefined,
    report: (t: string) => void,
  ): OptionValue | undefined {
    if (value === undefined) {
      if (r.required !== undefined) report(r.required);
      return undefined;
    }
    switch (r.kind) {
      case 'string':
        if (r.pattern === undefined || r.pattern.regex.test(value)) return value;
        report(r.pattern.problem);
        return undefined;
      case 'integer': {
        if (r.perStore === 'durationSeconds') {
          const flavor = flavorKey === undefined ? undefined : text(flavorKey);
          const known = FLAVORS.find((f) => f === flavor);
          return parseWhole(value, durationRange(known), report, {
            note: known === undefined ? '' : ` for flavor ${known}`,
          });
        }
        return parseWhole(value, r.range!, report, { allowZero: r.allowZero });
      }
      case 'enum':
        return validateEnum(value, r.values!, report);
      case 'boolean':
        if (value === 'true' || value === 'false') return value === 'true';
        report('must be true or false.');
        return undefined;
      case 'url':
        return validateUrl(value, report);
      case 'ip':
        if (isIP(value) !== 0) return value;
        report(`"${value}" is not an IP address; use ${r.defaultValue ?? '127.0.0.1'}.`);
        return undefined;
      case 'quantity':
        if (parseQuantity(value) !== undefined) return value;
        report(quantityProblem(value));
        return undefined;
      case 'arn':
        return validateArn(value, report);
    }
  }

  return {
    text,
    value: (key) => values.get(key),
    problem,
    failed: (key) => failed.has(key),
    throwIfInvalid() {
      if (issues.length > 0) throw new ConfigError(issues);
    },
  };
}

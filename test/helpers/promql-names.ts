// Which metrics and label matchers a PromQL expression (or a Grafana query) uses, and which
// series a Prometheus text exposition holds: the two sides of the "every metric our alerts and
// dashboard read exists" check. A small scanner, not a full PromQL parser: it knows the
// syntax our rules and dashboard use (selectors, functions, aggregations with by/without,
// vector matching, offset, ranges, Grafana's $variables).

/** One label matcher inside a selector's braces. */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** A metric a query selects, with the matchers it was selected with (one entry per selector). */
export interface MetricUse {
  metric: string;
  matchers: LabelMatcher[];
}

/** Words that may stand where a metric name could, but are PromQL syntax. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);
/** Keywords followed by a parenthesised list of label names (never metrics). */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Grafana's query variables: label_values(<selector>, <label>) selects only its first argument. */
export function grafanaVariableSelector(query: string): string {
  const m = /^\s*label_values\(\s*(.+?)\s*,\s*[a-zA-Z_]\w*\s*\)\s*$/s.exec(query);
  return m ? m[1]! : query;
}

/** Every selector in `expr`: metric name plus its label matchers. */
export function metricUses(expr: string): MetricUse[] {
  // Grafana variables are not PromQL: `[$__rate_interval]` is a range, "$namespace" a string.
  const text = expr.replace(/\$\{?\w+\}?/g, '5m');
  const uses: MetricUse[] = [];
  let i = 0;
  let afterLabelListKeyword = false;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (rest[0] === '[') {
      i = skipPast(text, i, ']');
      continue;
    }
    if (rest[0] === '"' || rest[0] === "'" || rest[0] === '`') {
      i = skipString(text, i);
      continue;
    }
    const number = /^(?:0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|[smhdwy])?)/i.exec(rest);
    if (number) {
      i += number[0].length;
      continue;
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest);
    if (ident) {
      const word = ident[0];
      i += word.length;
      const next = /^\s*(.?)/.exec(text.slice(i))![1];
      if (LABEL_LIST_KEYWORDS.has(word.toLowerCase())) {
        afterLabelListKeyword = true;
        continue;
      }
      // A function or an aggregation: `f(`, or `sum by (...) (` / `sum without (...) (`.
      if (KEYWORDS.has(word.toLowerCase()) || next === '(' || /^\s*(?:by|without)\b/i.test(text.slice(i)))
        continue;
      const use: MetricUse = { metric: word, matchers: [] };
      if (next === '{') {
        const open = text.indexOf('{', i);
        const close = skipPast(text, open, '}');
        use.matchers = parseMatchers(expr, text.slice(open + 1, close - 1));
        i = close;
      }
      uses.push(use);
      continue;
    }
    if (rest[0] === '(' && afterLabelListKeyword) {
      i = skipPast(text, i, ')');
      afterLabelListKeyword = false;
      continue;
    }
    if (rest[0] === '{') {
      // A selector without a metric name ({__name__=~"..."}): refuse, it cannot be checked.
      throw new Error(`selector without a metric name in: ${expr}`);
    }
    afterLabelListKeyword = false;
    i += 1;
  }
  return uses;
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote) i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Index just past the `close` that ends the bracket opened at `start` (strings skipped). */
function skipPast(text: string, start: number, close: string): number {
  let i = start + 1;
  while (i < text.length && text[i] !== close) {
    if (text[i] === '"' || text[i] === "'" || text[i] === '`') i = skipString(text, i);
    else i += 1;
  }
  if (i >= text.length) throw new Error(`unclosed bracket in: ${text}`);
  return i + 1;
}

function parseMatchers(expr: string, inside: string): LabelMatcher[] {
  const matchers: LabelMatcher[] = [];
  const re = /\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(inside)) !== null) {
    matchers.push({ label: m[1]!, op: m[2] as LabelMatcher['op'], value: m[3]! });
    if (re.lastIndex >= inside.length) break;
  }
  if (inside.trim() !== '' && re.lastIndex < inside.trimEnd().length)
    throw new Error(`cannot read the label matchers {${inside}} in: ${expr}`);
  return matchers;
}

/** Sample names of a text exposition, each with the values seen per label. */
export type Exposition = Map<string, Map<string, Set<string>>>;

/** Reads the sample lines (not # HELP / # TYPE) of a Prometheus text exposition. */
export function parseExposition(text: string): Exposition {
  const series: Exposition = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+/.exec(line);
    if (!m) throw new Error(`not an exposition sample line: ${line}`);
    const labels = series.get(m[1]!) ?? new Map<string, Set<string>>();
    series.set(m[1]!, labels);
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      const values = labels.get(l[1]!) ?? new Set<string>();
      labels.set(l[1]!, values.add(l[2]!));
    }
  }
  return series;
}

// Blocks of Markdown that scripts write into the docs themselves, between
// `<!-- name:start -->` and `<!-- name:end -->`: the generated tables (doc-tables.ts) and the
// results of `npm run bench`, `npm run soak` and `npm run simulate`, so no figure is pasted by
// hand. Everything outside the markers is left as it is.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The page the bench, soak and simulation write their results into; the one place it is named. */
export const PERFORMANCE_DOC = new URL('../docs/performance.md', import.meta.url);

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`, markers kept. */
export function replaceBlock(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the file lacks the ${start} ... ${end} markers`);
  if (text.indexOf(start, from + 1) >= 0) throw new Error(`${start} appears more than once`);
  return `${text.slice(0, from + start.length)}\n${body.trim()}\n${text.slice(to)}`;
}

/** Rewrites block `name` of `file` (default {@link PERFORMANCE_DOC}) with `body`. */
export function writeResultsBlock(name: string, body: string, file: URL = PERFORMANCE_DOC): void {
  writeFileSync(file, replaceBlock(readFileSync(file, 'utf8'), name, body));
  process.stdout.write(`wrote the ${name} block of ${fileURLToPath(file)}\n`);
}

/** One line of machine facts for a results block: CPU, cores, memory, kernel, Node. */
export function machineLine(): string {
  let kernel = process.platform as string;
  try {
    kernel = `Linux ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}`;
  } catch {
    // not Linux: the platform name will do
  }
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'}, ${list.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${kernel}, Node ${process.version}`;
}

/** A Markdown table from a header row and data rows. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

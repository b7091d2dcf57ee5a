/**
 * The one place Markdown and CSV tables are written (metrics.md/.csv, deltas.md,
 * ablation.md, paper-table.md/.csv, the CLI's printed tables).
 *
 * CSV goes through arquero's `toCSV` (quoting per RFC 4180). Markdown is written here: arquero's
 * `toMarkdown` prints `null` for an empty cell and takes no cell text of its own (a missing
 * value shown as `–`, an interval `[a, b]`), which the tables need; the cells arrive as text.
 */
import * as aq from 'arquero';

/** Alignment of a Markdown column: left (labels) or right (numbers). */
export type Align = 'left' | 'right';

/**
 * A Markdown table: header, the alignment row, one line per row (cells as given).
 * @example toMarkdown(['lang', 'ndcg@10'], [['de', '0.573']], ['left', 'right']) // '| lang | ndcg@10 |\n|---|---:|\n| de | 0.573 |'
 */
export function toMarkdown(columns: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  // an empty cell is one space: `| mean | | 0.5 |`
  const line = (cells: readonly string[]) => `|${cells.map((c) => (c === '' ? ' ' : ` ${c} `)).join('|')}|`;
  const lines = [line(columns), `|${columns.map((_, i) => ((align[i] ?? 'left') === 'right' ? '---:' : '---')).join('|')}|`];
  for (const r of rows) lines.push(line(r));
  return lines.join('\n');
}

/**
 * A CSV text (header and rows, numbers in full precision, `undefined`/`null` empty), ending in a newline.
 * @example toCSV(['a', 'b'], [['x,1', 1.5]]) // 'a,b\n"x,1",1.5\n'
 */
export function toCSV(columns: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  if (new Set(columns).size !== columns.length) throw new Error(`toCSV: duplicate column names in ${columns.join(', ')}`);
  const data = Object.fromEntries(columns.map((c, j) => [c, rows.map((r) => r[j] ?? undefined)]));
  const csv = aq.table(data).toCSV();
  return csv.endsWith('\n') ? csv : csv + '\n';
}

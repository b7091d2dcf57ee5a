import { xlError } from '../util/errors.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import type { MetricRow } from './metric-rows.js';
import { toCSV, toMarkdown } from './table-format.js';

/** One metric column group of the study's tables: the metric name in `metrics.json`, its label, and the factor it is printed with. */
export interface PaperMetric {
  metric: string;
  label: string;
  /** The study prints Comp@10 and Max@R_norm ×100, Max@R as is. */
  scale: number;
}

/** The study's columns (arXiv 2604.05684, main table): Comp@10 ×100, Max@R, Max@R_norm ×100. */
export const PAPER_METRICS: readonly PaperMetric[] = [
  { metric: 'complete@10', label: 'Comp@10', scale: 100 },
  { metric: 'maxr', label: 'Max@R', scale: 1 },
  { metric: 'maxr_norm', label: 'Max@R_norm', scale: 100 },
];

/** The query sides of the study's tables: English (pivot) queries and target-language queries on the same pool. */
export const QUERY_SIDES = ['En', 'Tgt'] as const;
export type QuerySide = (typeof QUERY_SIDES)[number];

/** A table ready to print: label columns, then numeric columns (undefined = not measured). */
export interface PaperTable {
  title: string;
  labels: string[];
  columns: string[];
  rows: { labels: string[]; values: (number | undefined)[] }[];
  /** Notes printed under the Markdown table (what is missing, what the scale is). */
  notes: string[];
}

/** Options of {@link paperMainTable} and {@link paperAblationTable}; defaults in the field comments. */
export interface PaperTableOptions {
  /** The scenario the table reads: `mixed` (default; the study's "Multi": English ∪ target pool, both parallel documents relevant), `mono` (Mono-Same), `cross` (Mono-Cross). */
  scenario?: string;
  /** The pivot language, whose queries are "Query En". Default `en`. */
  pivot?: string;
  /** The metric columns. Default {@link PAPER_METRICS}. */
  metrics?: readonly PaperMetric[];
}

/**
 * The query side of a metric row: `En` when its query language is the pivot, `Tgt` when it
 * is the pool's target language. Rows without a `queryLang` field (written before
 * `--query-langs`) are target-language queries, as every two-language scenario was then.
 */
export function querySide(row: MetricRow, pivot: string): QuerySide | undefined {
  const queryLang = (row as MetricRow & { queryLang?: string }).queryLang ?? row.lang;
  if (queryLang === pivot && row.lang !== pivot) return 'En';
  if (queryLang === row.lang) return 'Tgt';
  return undefined;
}

function columnsOf(metrics: readonly PaperMetric[]): string[] {
  return QUERY_SIDES.flatMap((side) => metrics.map((m) => `Query ${side} ${m.label}${m.scale === 100 ? ' ×100' : ''}`));
}

/** cell key -> values (several when a mean is taken). */
function collect(rows: readonly MetricRow[], o: Required<PaperTableOptions>, key: (r: MetricRow) => string): Map<string, number[]> {
  const cells = new Map<string, number[]>();
  for (const r of rows) {
    if (r.scenario !== o.scenario) continue;
    const m = o.metrics.find((x) => x.metric === r.metric);
    const side = querySide(r, o.pivot);
    if (!m || !side) continue;
    const k = `${key(r)}\u0000${side}\u0000${m.metric}`;
    if (!cells.has(k)) cells.set(k, []);
    cells.get(k)!.push(r.value * m.scale);
  }
  return cells;
}

const mean = (xs: number[] | undefined) => (xs?.length ? xs.reduce((s, x) => s + x, 0) / xs.length : undefined);

function missingNotes(table: PaperTable, o: Required<PaperTableOptions>): string[] {
  const notes: string[] = [];
  const missing = table.columns.filter((_, j) => table.rows.every((r) => r.values[j] === undefined));
  if (missing.length) notes.push(`Not in these results (–): ${missing.join(', ')}.`);
  const sides = QUERY_SIDES.filter((_, s) => table.rows.some((r) => r.values.slice(s * o.metrics.length, (s + 1) * o.metrics.length).some((v) => v !== undefined)));
  if (sides.length === 1 && sides[0] === 'Tgt') notes.push('Only target-language queries were evaluated (run with `--query-langs target,pivot` for Query En).');
  return notes;
}

/**
 * The study's main table (arXiv 2604.05684): one row per retriever × language pair
 * (`en-de`, ...), columns Query En / Query Tgt × Comp@10 (×100), Max@R, Max@R_norm (×100),
 * read from the metric rows of one scenario (default `mixed`, the study's "Multi"), and a
 * `mean` row per retriever over its language pairs (each pair weighs the same). A cell the
 * results lack is undefined (printed `–`). The dataset is part of the retriever label when
 * the rows hold several datasets, the settings id when one retriever has rows of several
 * settings records (no cell or mean mixes settings).
 *
 * @throws XlalignError when no row belongs to the scenario.
 * @example
 * const t = paperMainTable(JSON.parse(readFileSync('results/metrics.json', 'utf8')));
 * console.log(paperTableMarkdown(t));
 */
export function paperMainTable(rows: readonly MetricRow[], options: PaperTableOptions = {}): PaperTable {
  const o = { scenario: 'mixed', pivot: 'en', metrics: PAPER_METRICS, ...options };
  const inScenario = rows.filter((r) => r.scenario === o.scenario && r.lang !== o.pivot);
  if (!inScenario.length) throw xlError('paperMainTable', `no metric rows of scenario '${o.scenario}' with a non-pivot language; scenarios present: ${[...new Set(rows.map((r) => r.scenario))].join(', ') || 'none'}`);
  const severalDatasets = new Set(inScenario.map((r) => r.dataset)).size > 1;
  // rows of one retriever made under several settings (config.json) are never averaged together
  const settingsOf = new Map<string, Set<string>>();
  for (const r of inScenario) settingsOf.set(`${r.dataset}\u0000${r.retriever}`, (settingsOf.get(`${r.dataset}\u0000${r.retriever}`) ?? new Set()).add(r.settings ?? '(none)'));
  const retrieverOf = (r: MetricRow) =>
    `${severalDatasets ? `${r.retriever} (${r.dataset})` : r.retriever}${settingsOf.get(`${r.dataset}\u0000${r.retriever}`)!.size > 1 ? ` [settings ${r.settings ?? '(none)'}]` : ''}`;
  const cells = collect(inScenario, o, (r) => `${retrieverOf(r)}\u0000${r.lang}`);
  const table: PaperTable = {
    title: `${o.scenario}: Query En / Query Tgt (Comp@10 and Max@R_norm ×100, Max@R as a rank)`,
    labels: ['Retriever', 'Pair'],
    columns: columnsOf(o.metrics),
    rows: [],
    notes: [],
  };
  for (const retriever of [...new Set(inScenario.map(retrieverOf))]) {
    const langs = [...new Set(inScenario.filter((r) => retrieverOf(r) === retriever).map((r) => r.lang))];
    const valuesOf = (lang: string) => QUERY_SIDES.flatMap((side) => o.metrics.map((m) => mean(cells.get(`${retriever}\u0000${lang}\u0000${side}\u0000${m.metric}`))));
    const perLang = langs.map(valuesOf);
    langs.forEach((lang, i) => table.rows.push({ labels: [retriever, `${o.pivot}-${lang}`], values: perLang[i] }));
    if (langs.length > 1) {
      const values = table.columns.map((_, j) => (perLang.every((v) => v[j] !== undefined) ? mean(perLang.map((v) => v[j]!)) : undefined));
      table.rows.push({ labels: [retriever, 'mean'], values });
    }
  }
  table.notes = missingNotes(table, o);
  return table;
}

/** One trained variant of an ablation: its name, and the metric rows of the base retriever (`before`) and the trained one (`after`). */
export interface AblationVariantRows {
  variant: string;
  before: readonly MetricRow[];
  after: readonly MetricRow[];
}

/**
 * The study's ablation table: one row for the base retriever (before training, from the
 * first variant) and one per loss variant (after training), columns as in
 * {@link paperMainTable}, each cell the mean over the language pairs of the scenario
 * (each pair weighs the same).
 *
 * @throws XlalignError when no variant is given.
 * @example
 * const t = paperAblationTable([{ variant: 'study', before, after }, { variant: 'study-no-jsd', before, after: after2 }]);
 */
export function paperAblationTable(variants: readonly AblationVariantRows[], options: PaperTableOptions = {}): PaperTable {
  const o = { scenario: 'mixed', pivot: 'en', metrics: PAPER_METRICS, ...options };
  if (!variants.length) throw xlError('paperAblationTable', 'no variants');
  const table: PaperTable = {
    title: `Loss ablation, ${o.scenario}, mean over language pairs (Comp@10 and Max@R_norm ×100, Max@R as a rank)`,
    labels: ['Loss'],
    columns: columnsOf(o.metrics),
    rows: [],
    notes: [],
  };
  const meanRow = (rows: readonly MetricRow[]) => {
    const cells = collect(rows.filter((r) => r.lang !== o.pivot), o, () => '');
    return QUERY_SIDES.flatMap((side) => o.metrics.map((m) => mean(cells.get(`\u0000${side}\u0000${m.metric}`))));
  };
  table.rows.push({ labels: ['before training'], values: meanRow(variants[0].before) });
  for (const v of variants) table.rows.push({ labels: [v.variant], values: meanRow(v.after) });
  table.notes = missingNotes(table, o);
  return table;
}

/** A table as Markdown: a `###` title, the table (numbers with `digits` decimals, default 2; `–` when missing), and its notes. */
export function paperTableMarkdown(table: PaperTable, options: { digits?: number } = {}): string {
  const { digits = 2 } = options;
  const body = table.rows.map((r) => [...r.labels, ...r.values.map((v) => (v === undefined ? '–' : v.toFixed(digits)))]);
  const align = [...table.labels.map(() => 'left' as const), ...table.columns.map(() => 'right' as const)];
  const lines = [`### ${table.title}`, '', toMarkdown([...table.labels, ...table.columns], body, align)];
  if (table.notes.length) lines.push('', ...table.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

/** A table as CSV: a header of labels and columns, numbers in full precision, empty when missing. */
export function paperTableCsv(table: PaperTable): string {
  return toCSV([...table.labels, ...table.columns], table.rows.map((r) => [...r.labels, ...r.values]));
}

/**
 * Write `<dir>/<base>.md` and `<dir>/<base>.csv` (`paper-table` or `paper-ablation`) atomically; returns the Markdown.
 * @example writePaperTable('results', 'paper-table', paperMainTable(rows), { digits: 2 })
 */
export function writePaperTable(dir: string, base: 'paper-table' | 'paper-ablation', table: PaperTable, options: { digits?: number } = {}): string {
  const md = paperTableMarkdown(table, options);
  writeFileAtomic(join(dir, `${base}.md`), md);
  writeFileAtomic(join(dir, `${base}.csv`), paperTableCsv(table));
  return md;
}

import { writeFileAtomic } from '../util/fs.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { withFileLock } from '../util/file-lock.js';
import { toCSV, toMarkdown } from './table-format.js';

/** One line of results: the mean of `metric` over the queries of (scenario, lang, queryLang). */
export interface MetricRow {
  dataset: string;
  retriever: string;
  scenario: string;
  /** The pool's language L (the target language of a two-language scenario). */
  lang: string;
  /**
   * The language of the pool's queries: `lang`, or the pivot for pivot-language queries.
   * `runEvaluation` always sets it; rows from files written before it existed lack it (read
   * it as `lang`).
   */
  queryLang?: string;
  metric: string;
  value: number;
  /**
   * The id of the settings record the row was made under (`config.json` `settings`, see
   * `settings.ts`): dataset content, pivot, doc unit, split, model content, pooling,
   * prefixes, token limit, adapter, run depth, tie policy, package version. Absent in rows
   * written before it existed and in rows of `xlalign score`.
   */
  settings?: string;
}

/** The columns of `metrics.csv`. */
export const METRIC_CSV_COLUMNS = ['dataset', 'retriever', 'scenario', 'lang', 'queryLang', 'metric', 'value', 'settings'] as const;

/** Write rows as `metrics.json` (an array) and `metrics.csv` beside it, atomically. */
export function writeMetricRows(dir: string, rows: readonly MetricRow[]): void {
  writeFileAtomic(`${dir}/metrics.json`, JSON.stringify(rows, null, 1) + '\n');
  writeFileAtomic(`${dir}/metrics.csv`, toCSV(METRIC_CSV_COLUMNS, rows.map((r) => [r.dataset, r.retriever, r.scenario, r.lang, r.queryLang ?? r.lang, r.metric, r.value, r.settings ?? ''])));
}

/**
 * Markdown tables, one per (dataset, retriever, scenario, query language, settings): languages
 * as rows, metrics as columns; pools with pivot-language queries get their own table. When
 * one (dataset, retriever) has rows of several settings records, each gets its own tables,
 * headed `· settings <id>`: no table or mean mixes settings. Metrics that are undefined for a
 * scenario (e.g. PivotInclination in `mono`) are left out.
 */
export function markdownTables(rows: readonly MetricRow[], options: { digits?: number } = {}): string {
  const { digits = 3 } = options;
  const settingsOf = new Map<string, Set<string>>();
  for (const r of rows) {
    const k = `${r.dataset}\u0000${r.retriever}`;
    if (!settingsOf.has(k)) settingsOf.set(k, new Set());
    settingsOf.get(k)!.add(r.settings ?? '(none)');
  }
  const groups = new Map<string, MetricRow[]>();
  for (const r of rows) {
    const several = settingsOf.get(`${r.dataset}\u0000${r.retriever}`)!.size > 1;
    const key = `${r.dataset} · ${r.retriever} · ${r.scenario}${r.queryLang && r.queryLang !== r.lang ? ` · ${r.queryLang} queries` : ''}${several ? ` · settings ${r.settings ?? '(none)'}` : ''}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const out: string[] = [];
  const fmt = (v: number | undefined) => (v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toFixed(digits));
  for (const [key, rs] of groups) {
    const metrics = [...new Set(rs.map((r) => r.metric))];
    const langs = [...new Set(rs.map((r) => r.lang))];
    const cell = new Map(rs.map((r) => [`${r.lang}\u0000${r.metric}`, r.value]));
    const body = langs.map((l) => [l, ...metrics.map((m) => fmt(cell.get(`${l}\u0000${m}`)))]);
    if (langs.length > 1) {
      body.push(['**mean**', ...metrics.map((m) => {
        const vs = rs.filter((r) => r.metric === m).map((r) => r.value);
        return (vs.reduce((a, b) => a + b, 0) / vs.length).toFixed(digits);
      })]);
    }
    out.push(`### ${key}`, '', toMarkdown(['lang', ...metrics], body, ['left', ...metrics.map(() => 'right' as const)]), '');
  }
  return out.join('\n');
}

/** zod schema of one `metrics.json` row (extra fields pass through): the one schema `plot`, `cli` and `eval` read rows with. */
export const MetricRowSchema = z.looseObject({
  dataset: z.string().min(1),
  retriever: z.string().min(1),
  scenario: z.string().min(1),
  lang: z.string().min(1),
  queryLang: z.string().min(1).optional(),
  metric: z.string().min(1),
  value: z.number(),
  settings: z.string().min(1).optional(),
});

/**
 * Validate parsed `metrics.json` content: an array of rows, or an object holding that array
 * under `rows` (or `metrics`). Non-finite values (`NaN`, written as `null` in JSON) are
 * rejected, since a bar of NaN silently disappears from a plot.
 * @throws XlalignError naming the file, row index and field, e.g. `out/metrics.json: [3].value: Invalid input: expected number, received string`.
 * @example const rows = parseMetricRows(JSON.parse(text), { file: 'out/metrics.json' });
 */
export function parseMetricRows(json: unknown, options: { file?: string } = {}): MetricRow[] {
  const file = options.file ?? 'metrics.json';
  let rows: unknown = json;
  let prefix = '';
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    if (Array.isArray(o.rows)) [rows, prefix] = [o.rows, 'rows'];
    else if (Array.isArray(o.metrics)) [rows, prefix] = [o.metrics, 'metrics'];
  }
  if (!Array.isArray(rows)) throw xlError('parseMetricRows', `${file}: expected an array of metric rows { dataset, retriever, scenario, lang, metric, value } or an object with such an array under 'rows'`);
  return rows.map((row, i) => {
    const r = MetricRowSchema.safeParse(row);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const field = issue.path.map(String).join('.');
      throw xlError('parseMetricRows', `${file}: ${prefix}[${i}]${field ? '.' + field : ''}: ${issue.message}`);
    }
    if (!Number.isFinite(r.data.value)) throw xlError('parseMetricRows', `${file}: ${prefix}[${i}].value: must be a finite number, got ${r.data.value}`);
    return r.data as MetricRow;
  });
}

/**
 * Read a `metrics.json` file (see {@link parseMetricRows}).
 * @throws XlalignError when the file is missing, not JSON, or a row is malformed.
 * @example readMetricRowsFile('out/metrics.json')
 */
export function readMetricRowsFile(file: string): MetricRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw xlError('readMetricRows', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw xlError('readMetricRows', `${file}: not valid JSON (${(e as Error).message}); move it away to start a new results folder`);
  }
  return parseMetricRows(json, { file });
}

/**
 * Read `<dir>/metrics.json`; an absent file gives `[]`.
 * @throws XlalignError naming the file, row and field of a malformed row.
 */
export function readMetricRows(dir: string): MetricRow[] {
  const file = `${dir}/metrics.json`;
  return existsSync(file) ? readMetricRowsFile(file) : [];
}

/**
 * The identity of a row: (dataset, retriever, scenario, lang, queryLang, metric, settings), a
 * missing `queryLang` counting as equal to `lang`. Rows of other settings never share a key,
 * so a merge never replaces them.
 */
export function metricRowKey(r: MetricRow): string {
  return [r.dataset, r.retriever, r.scenario, r.lang, r.queryLang ?? r.lang, r.metric, r.settings ?? ''].join('\u0000');
}

/**
 * Merge fresh rows into existing ones: a fresh row replaces the existing row with the same
 * {@link metricRowKey} (in its place); the other existing rows stay; fresh rows with a new
 * key are appended in their order.
 *
 * @example mergeMetricRows(old, fresh).length // old.length + (fresh rows with a new key)
 */
export function mergeMetricRows(existing: readonly MetricRow[], fresh: readonly MetricRow[]): MetricRow[] {
  const freshByKey = new Map(fresh.map((r) => [metricRowKey(r), r]));
  const out: MetricRow[] = [];
  const used = new Set<string>();
  for (const r of existing) {
    const k = metricRowKey(r);
    if (used.has(k)) continue;
    used.add(k);
    out.push(freshByKey.get(k) ?? r);
  }
  for (const [k, r] of freshByKey) if (!used.has(k)) out.push(r);
  return out;
}

/**
 * Accumulate results: under a lock file (`<dir>/metrics.lock`, created with O_EXCL, see
 * `withFileLock`), read `metrics.json`, merge `rows` into it ({@link mergeMetricRows}) and
 * write `metrics.json`, `metrics.csv` and `metrics.md` atomically. Two evaluations writing
 * into one folder at once both keep their rows. Returns every row of the folder.
 *
 * @example const all = await accumulateMetricRows('out', res.rows);
 */
export async function accumulateMetricRows(dir: string, rows: readonly MetricRow[]): Promise<MetricRow[]> {
  mkdirSync(dir, { recursive: true });
  return withFileLock(`${dir}/metrics.lock`, () => {
    const merged = mergeMetricRows(readMetricRows(dir), rows);
    writeMetricRows(dir, merged);
    writeFileAtomic(`${dir}/metrics.md`, markdownTables(merged));
    return merged;
  });
}

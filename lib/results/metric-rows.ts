import { writeFileAtomic } from '../util/fs.js';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { withFileLock } from '../util/file-lock.js';

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
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Write rows as `metrics.json` (an array) and `metrics.csv` beside it, atomically. */
export function writeMetricRows(dir: string, rows: MetricRow[]): void {
  writeFileAtomic(`${dir}/metrics.json`, JSON.stringify(rows, null, 1) + '\n');
  const head = 'dataset,retriever,scenario,lang,queryLang,metric,value';
  const lines = rows.map((r) => [r.dataset, r.retriever, r.scenario, r.lang, r.queryLang ?? r.lang, r.metric, r.value].map(csvCell).join(','));
  writeFileAtomic(`${dir}/metrics.csv`, [head, ...lines].join('\n') + '\n');
}

/**
 * Markdown tables, one per (retriever, scenario, query language): languages as rows,
 * metrics as columns; pools with pivot-language queries get their own table.
 * Metrics that are undefined for a scenario (e.g. PivotInclination in `mono`) are left out.
 */
export function markdownTables(rows: MetricRow[], options: { digits?: number } = {}): string {
  const { digits = 3 } = options;
  const groups = new Map<string, MetricRow[]>();
  for (const r of rows) {
    const key = `${r.dataset} · ${r.retriever} · ${r.scenario}${r.queryLang && r.queryLang !== r.lang ? ` · ${r.queryLang} queries` : ''}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const out: string[] = [];
  for (const [key, rs] of groups) {
    const metrics = [...new Set(rs.map((r) => r.metric))];
    const langs = [...new Set(rs.map((r) => r.lang))];
    const cell = new Map(rs.map((r) => [`${r.lang}\u0000${r.metric}`, r.value]));
    out.push(`### ${key}`, '', `| lang | ${metrics.join(' | ')} |`, `|---|${metrics.map(() => '---:').join('|')}|`);
    for (const l of langs) {
      const vals = metrics.map((m) => {
        const v = cell.get(`${l}\u0000${m}`);
        return v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toFixed(digits);
      });
      out.push(`| ${l} | ${vals.join(' | ')} |`);
    }
    if (langs.length > 1) {
      const means = metrics.map((m) => {
        const vs = rs.filter((r) => r.metric === m).map((r) => r.value);
        return (vs.reduce((a, b) => a + b, 0) / vs.length).toFixed(digits);
      });
      out.push(`| **mean** | ${means.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** zod schema of one `metrics.json` row (extra fields pass through). */
const MetricRowSchema = z.looseObject({
  dataset: z.string().min(1),
  retriever: z.string().min(1),
  scenario: z.string().min(1),
  lang: z.string().min(1),
  queryLang: z.string().min(1).optional(),
  metric: z.string().min(1),
  value: z.number(),
});

/**
 * Read `<dir>/metrics.json`; an absent file gives `[]`.
 * @throws XlalignError naming the file, row and field of a malformed row.
 */
export function readMetricRows(dir: string): MetricRow[] {
  const file = `${dir}/metrics.json`;
  if (!existsSync(file)) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw xlError('readMetricRows', `${file}: not valid JSON (${(e as Error).message}); move it away to start a new results folder`);
  }
  if (!Array.isArray(json)) throw xlError('readMetricRows', `${file}: expected an array of metric rows`);
  return json.map((row, i) => {
    const r = MetricRowSchema.safeParse(row);
    if (!r.success) throw xlError('readMetricRows', `${file}: [${i}].${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
    return r.data as MetricRow;
  });
}

/**
 * The identity of a row: (dataset, retriever, scenario, lang, queryLang, metric), a missing
 * `queryLang` counting as equal to `lang`.
 */
export function metricRowKey(r: MetricRow): string {
  return [r.dataset, r.retriever, r.scenario, r.lang, (r as { queryLang?: string }).queryLang ?? r.lang, r.metric].join('\u0000');
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
  return withFileLock(`${dir}/metrics.lock`, () => {
    const merged = mergeMetricRows(readMetricRows(dir), rows);
    writeMetricRows(dir, merged);
    writeFileAtomic(`${dir}/metrics.md`, markdownTables(merged));
    return merged;
  });
}

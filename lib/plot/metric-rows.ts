import type { MetricRow } from './types.js';

/**
 * Metric rows as `xlalign eval` writes them to `metrics.json`, validated with the one schema
 * of `lib/results/metric-rows.ts` (re-exported for the figures).
 */
export { parseMetricRows } from '../results/metric-rows.js';

/**
 * The distinct values of `field` over `rows`, in a stable order: `preferred` values first (in
 * that order, when present), then the rest sorted.
 *
 * @example distinct(rows, 'lang', ['en']) // ['en', 'ar', 'de', ...]
 */
export function distinct(rows: readonly MetricRow[], field: keyof MetricRow & string, preferred: readonly string[] = []): string[] {
  const seen = new Set(rows.map((r) => String(r[field])));
  const first = preferred.filter((p) => seen.has(p));
  const rest = [...seen].filter((v) => !first.includes(v)).sort();
  return [...first, ...rest];
}

/**
 * Rows whose `retriever` is made a series label that keeps apart what must not be averaged:
 * `bm25 (en queries)` for pivot-language queries (a `queryLang` other than `lang`), and
 * `bm25 [settings <id>]` when one retriever has rows of several settings records
 * (`config.json`). Figures group by this label, so duplicates are averaged only when they
 * are the same measurement.
 * @example seriesRows(rows).map((r) => r.retriever) // ['bm25', 'bm25 (en queries)', ...]
 */
export function seriesRows<R extends MetricRow>(rows: readonly R[]): R[] {
  const settingsOf = new Map<string, Set<string>>();
  for (const r of rows) settingsOf.set(`${r.dataset}\u0000${r.retriever}`, (settingsOf.get(`${r.dataset}\u0000${r.retriever}`) ?? new Set()).add(r.settings ?? ''));
  return rows.map((r) => {
    const q = r.queryLang && r.queryLang !== r.lang ? ` (${r.queryLang} queries)` : '';
    const s = settingsOf.get(`${r.dataset}\u0000${r.retriever}`)!.size > 1 ? ` [settings ${r.settings ?? 'none'}]` : '';
    return q || s ? { ...r, retriever: `${r.retriever}${q}${s}` } : r;
  });
}

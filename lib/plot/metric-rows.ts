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

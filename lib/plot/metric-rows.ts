import { z } from 'zod';
import { xlError } from '../util/errors.js';
import type { MetricRow } from './types.js';

/** zod schema of one metric row (extra fields pass through). */
const metricRowSchema = z.looseObject({
  dataset: z.string().min(1),
  retriever: z.string().min(1),
  scenario: z.string().min(1),
  lang: z.string().min(1),
  metric: z.string().min(1),
  value: z.number(),
});

/**
 * Validate metric rows as `xlalign eval` writes them to `metrics.json`: either an array of
 * `{ dataset, retriever, scenario, lang, metric, value }` or an object holding that array
 * under `rows` (or `metrics`). Non-finite values (`NaN`, written as `null` in JSON) are
 * rejected, since a bar of NaN silently disappears from a plot.
 *
 * Validation uses zod (a well-kept schema library) so every error names the row and field.
 *
 * @param json - the parsed JSON.
 * @param options.file - the file name to put in error messages. Default `'metrics.json'`.
 * @returns the rows, typed.
 * @throws XlalignError naming the file, row index and field, e.g.
 *   `parseMetricRows: out/metrics.json: rows[3].value: expected number, received string`.
 *
 * @example
 * const rows = parseMetricRows(JSON.parse(readFileSync('out/metrics.json', 'utf8')), { file: 'out/metrics.json' });
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
  if (!Array.isArray(rows)) {
    throw xlError('parseMetricRows', `${file}: expected an array of metric rows { dataset, retriever, scenario, lang, metric, value } or an object with such an array under 'rows'`);
  }
  const out: MetricRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = metricRowSchema.safeParse(rows[i]);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const field = issue.path.map(String).join('.');
      throw xlError('parseMetricRows', `${file}: ${prefix}[${i}]${field ? '.' + field : ''}: ${issue.message}`);
    }
    if (!Number.isFinite(r.data.value)) {
      throw xlError('parseMetricRows', `${file}: ${prefix}[${i}].value: must be a finite number, got ${r.data.value}`);
    }
    out.push(r.data as MetricRow);
  }
  return out;
}

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

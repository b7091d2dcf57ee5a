import { writeFileAtomic } from '../util/fs.js';

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

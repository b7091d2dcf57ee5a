import { pairedBootstrap, type BootstrapOptions } from './bootstrap.js';
import type { EvaluationResult } from './run-evaluation.js';

/** One metric of one pool, before and after, with a paired bootstrap interval of the change. */
export interface DeltaRow {
  scenario: string;
  lang: string;
  metric: string;
  before: number;
  after: number;
  /** after − before (of the aggregates). */
  delta: number;
  /** 95% paired bootstrap interval of the mean per-query change (absent for median aggregates). */
  deltaLow?: number;
  deltaHigh?: number;
  /** Queries compared. */
  queries?: number;
}

/**
 * Compare two evaluations of the same pools (before and after training): per scenario,
 * language and metric, the two aggregates, their difference, and a seeded paired bootstrap
 * interval over queries (`pairedBootstrap`, default 1000 resamples, 95%). Aggregates that
 * are not means (`maxr.median`) get the difference only.
 *
 * @example const deltas = compareEvaluations(before, after, { seed: 42 });
 */
export function compareEvaluations(before: EvaluationResult, after: EvaluationResult, options: BootstrapOptions = {}): DeltaRow[] {
  const out: DeltaRow[] = [];
  const afterRows = new Map(after.rows.map((r) => [`${r.scenario}\u0000${r.lang}\u0000${r.metric}`, r.value]));
  for (const b of before.rows) {
    const a = afterRows.get(`${b.scenario}\u0000${b.lang}\u0000${b.metric}`);
    if (a === undefined) continue;
    const row: DeltaRow = { scenario: b.scenario, lang: b.lang, metric: b.metric, before: b.value, after: a, delta: a - b.value };
    if (!b.metric.endsWith('.median')) {
      const key = `${b.scenario}.${b.lang}`;
      const pick = (pq: Record<string, Record<string, number>> | undefined) => {
        const m: Record<string, number> = {};
        for (const [qid, scores] of Object.entries(pq ?? {})) if (Number.isFinite(scores[b.metric])) m[qid] = scores[b.metric];
        return m;
      };
      const pb = pick(before.perQuery[key]);
      const pa = pick(after.perQuery[key]);
      if (Object.keys(pb).some((q) => q in pa)) {
        const ci = pairedBootstrap(pb, pa, options);
        Object.assign(row, { deltaLow: ci.low, deltaHigh: ci.high, queries: ci.queries });
      }
    }
    out.push(row);
  }
  return out;
}

/**
 * Markdown tables of deltas, one per (scenario, metric): languages as rows, with before,
 * after, delta and the interval.
 */
export function deltaTables(rows: DeltaRow[], options: { metrics?: readonly string[]; digits?: number } = {}): string {
  const { digits = 3 } = options;
  const metrics = options.metrics ?? [...new Set(rows.map((r) => r.metric))];
  const f = (v: number | undefined) => (v === undefined ? '' : v.toFixed(digits));
  const out: string[] = [];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    for (const metric of metrics) {
      const rs = rows.filter((r) => r.scenario === scenario && r.metric === metric);
      if (!rs.length) continue;
      out.push(`#### ${scenario} · ${metric}`, '', '| lang | before | after | Δ | 95% CI of Δ |', '|---|---:|---:|---:|---|');
      for (const r of rs) out.push(`| ${r.lang} | ${f(r.before)} | ${f(r.after)} | ${r.delta >= 0 ? '+' : ''}${f(r.delta)} | ${r.deltaLow === undefined ? '' : `[${f(r.deltaLow)}, ${f(r.deltaHigh)}]`} |`);
      const mean = (k: 'before' | 'after' | 'delta') => rs.reduce((s, r) => s + r[k], 0) / rs.length;
      if (rs.length > 1) out.push(`| **mean** | ${f(mean('before'))} | ${f(mean('after'))} | ${mean('delta') >= 0 ? '+' : ''}${f(mean('delta'))} | |`);
      out.push('');
    }
  }
  return out.join('\n');
}

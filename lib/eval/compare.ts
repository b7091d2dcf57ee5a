import { pairedBootstrap, pairedBootstrapOfGroupMean, type BootstrapOptions } from './bootstrap.js';
import type { EvaluationResult } from './run-evaluation.js';
import { poolName, type Scenario } from '../pools/types.js';
import { canonicalJson } from '../results/settings.js';
import { toMarkdown } from '../results/table-format.js';
import { xlError } from '../util/errors.js';

/** What a comparison reads of an evaluation: its rows, per-query scores and (when recorded) settings. */
export type ComparedEvaluation = Pick<EvaluationResult, 'rows' | 'perQuery'> & Partial<Pick<EvaluationResult, 'settings' | 'settingsId'>>;

/**
 * Before and after must rank the same pools: the same dataset, content, pivot, doc unit and
 * split (retriever settings may differ: that is what is compared).
 * @throws XlalignError naming the first pool setting that differs.
 */
function checkSamePools(before: ComparedEvaluation, after: ComparedEvaluation): void {
  if (!before.settings || !after.settings) return;
  const b = before.settings;
  const a = after.settings;
  const common = Object.keys(b.dataset.langHashes).filter((l) => l in a.dataset.langHashes);
  const fields: [string, unknown, unknown][] = [
    ['dataset', b.dataset.name, a.dataset.name], ['pivot', b.pivot, a.pivot], ['docUnit', b.docUnit, a.docUnit], ['split', b.split, a.split],
    ...common.map((l): [string, unknown, unknown] => [`dataset content (${l})`, b.dataset.langHashes[l], a.dataset.langHashes[l]]),
  ];
  for (const [name, x, y] of fields) {
    if (canonicalJson(x) !== canonicalJson(y)) throw xlError('compareEvaluations', `before and after were evaluated with different ${name} (${canonicalJson(x)} vs ${canonicalJson(y)}); a paired comparison needs the same pools`);
  }
}

/** One metric of one pool, before and after, with a paired bootstrap interval of the change. */
export interface DeltaRow {
  scenario: string;
  lang: string;
  /** Language of the queries (the pool's `lang` unless pivot-language queries were asked for). */
  queryLang?: string;
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
  /** Settings ids of the before and after rows (`config.json`), when recorded. */
  settingsBefore?: string;
  settingsAfter?: string;
}

/**
 * Compare two evaluations of the same pools (before and after training): per scenario,
 * language and metric, the two aggregates, their difference, and a seeded paired bootstrap
 * interval over queries (`pairedBootstrap`, default 1000 resamples, 95%). Aggregates that
 * are not means (`maxr.median`) get the difference only.
 *
 * @example const deltas = compareEvaluations(before, after, { seed: 42 });
 */
export function compareEvaluations(before: ComparedEvaluation, after: ComparedEvaluation, options: BootstrapOptions = {}): DeltaRow[] {
  checkSamePools(before, after);
  const out: DeltaRow[] = [];
  const key = (r: { scenario: string; lang: string; queryLang?: string; metric: string }) => `${r.scenario}\u0000${r.lang}\u0000${r.queryLang ?? r.lang}\u0000${r.metric}`;
  const afterRows = new Map(after.rows.map((r) => [key(r), r]));
  for (const b of before.rows) {
    const ar = afterRows.get(key(b));
    if (ar === undefined) continue;
    const a = ar.value;
    const queryLang = b.queryLang ?? b.lang;
    const row: DeltaRow = { scenario: b.scenario, lang: b.lang, ...(queryLang !== b.lang ? { queryLang } : {}), metric: b.metric, before: b.value, after: a, delta: a - b.value };
    if (b.settings) row.settingsBefore = b.settings;
    if (ar.settings) row.settingsAfter = ar.settings;
    if (!b.metric.endsWith('.median')) {
      const { pb, pa } = pairedScores(before, after, b.scenario, b.lang, queryLang, b.metric);
      if (Object.keys(pb).some((q) => q in pa)) {
        const ci = pairedBootstrap(pb, pa, options);
        Object.assign(row, { deltaLow: ci.low, deltaHigh: ci.high, queries: ci.queries });
      }
    }
    out.push(row);
  }
  return out;
}

/** Per-query scores of one metric in one pool, before and after (finite values only). */
function pairedScores(before: ComparedEvaluation, after: ComparedEvaluation, scenario: string, lang: string, queryLang: string, metric: string) {
  const key = poolName({ scenario: scenario as Scenario, lang, queryLang });
  const pick = (pq: Record<string, Record<string, number>> | undefined) => {
    const m: Record<string, number> = {};
    for (const [qid, scores] of Object.entries(pq ?? {})) if (Number.isFinite(scores[metric])) m[qid] = scores[metric];
    return m;
  };
  return { pb: pick(before.perQuery[key]), pa: pick(after.perQuery[key]) };
}

/** One metric of one scenario averaged over languages, before and after, with the interval of that mean. */
export interface MeanDeltaRow {
  scenario: string;
  /** Query languages: absent = each pool's own language; else the pivot (`queryLang` of the rows). */
  queryLang?: string;
  metric: string;
  /** The languages averaged (each weighs 1/G). */
  langs: string[];
  /** Mean over languages of the per-language aggregates. */
  before: number;
  after: number;
  delta: number;
  /** 95% paired, stratified bootstrap interval of the mean over languages (`pairedBootstrapOfGroupMean`); absent for median aggregates. */
  deltaLow?: number;
  deltaHigh?: number;
  /** Queries compared, all languages together. */
  queries?: number;
}

/**
 * Compare two evaluations per scenario and metric, **averaged over languages**: the mean
 * of the per-language aggregates before and after, their difference, and a paired
 * bootstrap interval of that mean that resamples queries within each language
 * (`pairedBootstrapOfGroupMean`, same seed and resamples as {@link compareEvaluations}).
 * This is the interval to report next to a mean over languages (the mean of per-language
 * bounds is not an interval of anything).
 *
 * @example const means = compareMeansOverLanguages(before, after, { seed: 42 }); // [{ scenario: 'mixed', metric: 'maxr', delta: -25.3, deltaLow: -26.1, ... }]
 */
export function compareMeansOverLanguages(before: ComparedEvaluation, after: ComparedEvaluation, options: BootstrapOptions = {}): MeanDeltaRow[] {
  const perLang = compareEvaluations(before, after, { ...options, resamples: 1 });
  const groups = new Map<string, DeltaRow[]>();
  for (const r of perLang) {
    const key = `${r.scenario}\u0000${r.queryLang ?? ''}\u0000${r.metric}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const out: MeanDeltaRow[] = [];
  for (const rs of groups.values()) {
    const { scenario, metric, queryLang } = rs[0];
    const mean = (k: 'before' | 'after') => rs.reduce((s, r) => s + r[k], 0) / rs.length;
    const row: MeanDeltaRow = { scenario, ...(queryLang ? { queryLang } : {}), metric, langs: rs.map((r) => r.lang), before: mean('before'), after: mean('after'), delta: mean('after') - mean('before') };
    if (!metric.endsWith('.median')) {
      const input: Record<string, { before: Record<string, number>; after: Record<string, number> }> = {};
      for (const r of rs) {
        const { pb, pa } = pairedScores(before, after, scenario, r.lang, r.queryLang ?? r.lang, metric);
        if (Object.keys(pb).some((q) => q in pa)) input[r.lang] = { before: pb, after: pa };
      }
      if (Object.keys(input).length === rs.length) {
        const ci = pairedBootstrapOfGroupMean(input, options);
        Object.assign(row, { deltaLow: ci.low, deltaHigh: ci.high, queries: ci.queries });
      }
    }
    out.push(row);
  }
  return out;
}

/**
 * Markdown tables of deltas, one per (scenario, metric): languages as rows, with before,
 * after, delta and the interval; a **mean** row when there are several languages, with the
 * interval of the mean from `means` ({@link compareMeansOverLanguages}) when given.
 */
export function deltaTables(rows: DeltaRow[], options: { metrics?: readonly string[]; digits?: number; means?: readonly MeanDeltaRow[] } = {}): string {
  const { digits = 3 } = options;
  const metrics = options.metrics ?? [...new Set(rows.map((r) => r.metric))];
  const f = (v: number | undefined) => (v === undefined ? '' : v.toFixed(digits));
  const ci = (r: { deltaLow?: number; deltaHigh?: number } | undefined) => (r?.deltaLow === undefined ? '' : `[${f(r.deltaLow)}, ${f(r.deltaHigh)}]`);
  const out: string[] = [];
  const views = [...new Set(rows.map((r) => `${r.scenario}\u0000${r.queryLang ?? ''}`))].map((v) => v.split('\u0000'));
  for (const [scenario, queryLang] of views) {
    for (const metric of metrics) {
      const rs = rows.filter((r) => r.scenario === scenario && (r.queryLang ?? '') === queryLang && r.metric === metric);
      if (!rs.length) continue;
      const body = rs.map((r) => [r.lang, f(r.before), f(r.after), `${r.delta >= 0 ? '+' : ''}${f(r.delta)}`, ci(r)]);
      const mean = (k: 'before' | 'after' | 'delta') => rs.reduce((s, r) => s + r[k], 0) / rs.length;
      const m = options.means?.find((x) => x.scenario === scenario && (x.queryLang ?? '') === queryLang && x.metric === metric);
      if (rs.length > 1) body.push(['**mean**', f(mean('before')), f(mean('after')), `${mean('delta') >= 0 ? '+' : ''}${f(mean('delta'))}`, ci(m)]);
      out.push(`#### ${scenario}${queryLang ? ` (${queryLang} queries)` : ''} · ${metric}`, '', toMarkdown(['lang', 'before', 'after', 'Δ', '95% CI of Δ'], body, ['left', 'right', 'right', 'right', 'left']));
      out.push('');
    }
  }
  return out.join('\n');
}

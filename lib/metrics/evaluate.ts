/**
 * Evaluate a run against qrels with metrics named by string, and average them: the one
 * place where per-query scores are aggregated.
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { xlError } from '../util/errors.js';
import { createRankScratch, evaluatedQueries, rankQuery, type RankedQuery } from '../runs/ranking.js';
import { ndcgAtK } from './ndcg.js';
import { reciprocalRankAtK } from './reciprocal-rank.js';
import { recallAtK } from './recall.js';
import { precisionAtK } from './precision.js';
import { averagePrecisionAtK } from './average-precision.js';
import { completeAtK } from './complete.js';
import { longestRanking, maxRankOf, median } from './max-rank.js';
import { langOf, pivotAboveRanked, pivotDefined } from './pivot-inclination.js';

/** The metric names `evaluate` understands; `@k` is any non-negative integer cutoff. */
export const SUPPORTED_METRICS = [
  'ndcg@k',
  'rr@k',
  'r@k',
  'p@k',
  'ap',
  'ap@k',
  'maxr',
  'maxr.median',
  'complete@k',
  'pivot_inclination',
  'pivot_above',
] as const;

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Pivot language for `pivot_inclination` / `pivot_above`. Default `'en'`. */
  pivot?: string;
}

/** Result of {@link evaluate}. */
export interface Evaluation {
  /** Aggregate per metric: the mean over queries (the median for `maxr.median`). */
  mean: Record<string, number>;
  /** Per query id, per metric name, the query's score (absent where undefined). */
  perQuery: Record<string, Record<string, number>>;
}

interface Context {
  qid: string;
  inRun: boolean;
  absentLength: number;
  pivot: string;
  pivotOk: boolean;
}

interface MetricSpec {
  name: string;
  /** Per-query score; NaN = undefined for this query (left out of the aggregate). */
  score: (r: RankedQuery, c: Context) => number;
  aggregate: 'mean' | 'median';
}

const CUTOFF = /^(ndcg|rr|r|p|ap|complete)(?:@(\d+))?$/;

/**
 * Parse a metric name into its per-query scoring function and its aggregate.
 * @throws XlalignError for an unknown name, listing the supported ones.
 * @example parseMetric('ndcg@10').aggregate // 'mean'
 */
export function parseMetric(name: string): MetricSpec {
  const m = CUTOFF.exec(name);
  if (m) {
    const k = m[2] === undefined ? undefined : Number(m[2]);
    const f = {
      ndcg: (r: RankedQuery) => ndcgAtK(r.rel, r.ideal, k),
      rr: (r: RankedQuery) => reciprocalRankAtK(r.rel, k),
      r: (r: RankedQuery) => recallAtK(r.rel, r.ideal.length, k),
      p: (r: RankedQuery) => precisionAtK(r.rel, k),
      ap: (r: RankedQuery) => averagePrecisionAtK(r.rel, r.ideal.length, k),
      complete: (r: RankedQuery) => completeAtK(r.rel, r.ideal.length, k),
    }[m[1] as 'ndcg' | 'rr' | 'r' | 'p' | 'ap' | 'complete'];
    return { name, score: f, aggregate: 'mean' };
  }
  switch (name) {
    case 'maxr':
    case 'maxr.median':
      return {
        name,
        score: (r, c) => maxRankOf(r.rel, r.ideal.length, c.inRun ? r.rel.length : c.absentLength),
        aggregate: name === 'maxr' ? 'mean' : 'median',
      };
    case 'pivot_above':
      return { name, score: (r, c) => (c.pivotOk ? pivotAboveRanked(r, langOf(c.qid), c.pivot) : Number.NaN), aggregate: 'mean' };
    case 'pivot_inclination':
      return {
        name,
        score: (r, c) => (c.pivotOk ? (pivotAboveRanked(r, langOf(c.qid), c.pivot) > 0 ? 1 : 0) : Number.NaN),
        aggregate: 'mean',
      };
  }
  throw xlError('evaluate', `unknown metric '${name}'; supported: ${SUPPORTED_METRICS.join(', ')} (k a non-negative integer, e.g. ndcg@10; without @k the whole ranking)`);
}

/**
 * Score `run` against `qrels` with the named metrics and aggregate over queries.
 *
 * Queries: those of `qrels` with at least one relevant document (relevance > 0); queries of
 * the run not among them are ignored. A query absent from the run counts as an empty
 * ranking: 0 for nDCG, RR, R, P, AP and Complete; for MaxR the rank (longest ranking in the
 * run) + 1, Infinity for an empty run; it is left out of the pivot metrics. Every ranking is
 * sorted once with the pessimistic tie policy of `common.ts` and shared by all metrics.
 *
 * Aggregates (`mean`): the arithmetic mean over the queries where the metric is defined, the
 * median for `maxr.median`; NaN when no query is. `perQuery[qid]['maxr.median']` is the
 * query's MaxR. Pivot metrics are undefined (absent from `perQuery`) for queries in the pivot
 * language, without a relevant document in their own language, or absent from the run.
 *
 * @param metrics - names from {@link SUPPORTED_METRICS}, e.g. `['ndcg@10', 'maxr', 'complete@100']`.
 * @param options.pivot - pivot language of the pivot metrics; default `'en'`.
 * @throws XlalignError for an unknown metric name, or a malformed ranking (ids/scores length
 *   mismatch, NaN score, a relevant document listed twice), naming the query.
 * @example
 * const { mean } = evaluate(pool.qrels, run, ['ndcg@10', 'maxr', 'pivot_inclination']);
 */
export function evaluate(qrels: Qrels, run: Run, metrics: string[], options: EvaluateOptions = {}): Evaluation {
  const specs = metrics.map(parseMetric);
  const pivot = options.pivot ?? 'en';
  const needPivot = specs.some((s) => s.name.startsWith('pivot_'));
  const absentLength = Object.keys(run).length === 0 ? Number.POSITIVE_INFINITY : longestRanking(run);
  const perQuery: Record<string, Record<string, number>> = {};
  const values: number[][] = specs.map(() => []);
  const scratch = createRankScratch();
  for (const qid of evaluatedQueries(qrels)) {
    const ranked = rankQuery(qid, run[qid], qrels[qid], scratch);
    const c: Context = {
      qid,
      inRun: run[qid] !== undefined,
      absentLength,
      pivot,
      pivotOk: needPivot && pivotDefined(qid, qrels[qid], run, pivot),
    };
    const row: Record<string, number> = {};
    for (let j = 0; j < specs.length; j++) {
      const v = specs[j].score(ranked, c);
      if (Number.isNaN(v)) continue;
      row[specs[j].name] = v;
      values[j].push(v);
    }
    perQuery[qid] = row;
  }
  const mean: Record<string, number> = {};
  specs.forEach((s, j) => {
    const v = values[j];
    if (s.aggregate === 'median') mean[s.name] = median(v);
    else {
      let sum = 0;
      for (const x of v) sum += x;
      mean[s.name] = v.length > 0 ? sum / v.length : Number.NaN;
    }
  });
  return { mean, perQuery };
}

/**
 * MaxR, maximum rank: per query, the **worst** 1-based rank among all its relevant documents
 * (in a multilingual pool: among all parallel versions of the answer). Lower is better; 1
 * is perfect for a query with one relevant document, R for one with R.
 *
 * - A relevant document missing from the ranking gets rank = ranking length + 1 (as if it
 *   came right after the last retrieved document; with a top-k run this is an optimistic
 *   lower bound on its true rank).
 * - A query absent from the run gets rank = (longest ranking in the run) + 1, as if every
 *   relevant document came after every retrieved one; an entirely empty run gives Infinity.
 * - A query with no relevant document has no MaxR (NaN) and is left out (`evaluate` only
 *   evaluates queries with at least one relevant document anyway).
 * - There is no cutoff: `maxr@k` is not a metric.
 *
 * Aggregates: `maxr` is the mean over queries, `maxr.median` the median (the mean of the two
 * middle values for an even count). Ties follow the pessimistic policy of `lib/runs/ranking.ts`.
 *
 * Reference: Max@R of arXiv 2604.05684 (ICLR 2026): the rank of a query's worst-ranked
 * relevant document, mean over queries; cf. Cooper's expected search length (JASIS 1968).
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { perQuery } from '../runs/ranking.js';
import type { MetricDefinition } from './definition.js';

/**
 * MaxR of one query.
 * @param rel - ranked relevance vector (after the tie policy).
 * @param nRelevant - number of relevant documents of the query in the qrels.
 * @param length - the ranking length used for missing relevant documents (rank `length + 1`);
 *   default `rel.length`.
 * @returns the worst rank, or NaN when `nRelevant` is 0.
 * @example maxRankOf([1, 0, 1, 0], 2) // 3
 * @example maxRankOf([1, 0], 2) // 3: the second relevant document is missing (2 + 1)
 */
export function maxRankOf(rel: ArrayLike<number>, nRelevant: number, length: number = rel.length): number {
  if (nRelevant <= 0) return Number.NaN;
  let hits = 0;
  for (let i = 0; i < rel.length; i++) {
    if (rel[i] > 0 && ++hits === nRelevant) return i + 1;
  }
  return length + 1;
}

/** Length of the longest ranking in `run` (0 for an empty run). @example longestRanking({ q: { ids: ['a', 'b'], scores: [2, 1] } }) // 2 */
export function longestRanking(run: Run): number {
  let m = 0;
  for (const q in run) if (run[q].ids.length > m) m = run[q].ids.length;
  return m;
}

/**
 * MaxR of every evaluated query.
 * @example maxRank({ q: { d1: 1, d2: 1 } }, { q: { ids: ['d1', 'd0', 'd2'], scores: [3, 2, 1] } }) // { q: 3 }
 */
export function maxRank(qrels: Qrels, run: Run): Record<string, number> {
  const absentLength = Object.keys(run).length === 0 ? Number.POSITIVE_INFINITY : longestRanking(run);
  return perQuery(qrels, run, (r, qid) =>
    maxRankOf(r.rel, r.ideal.length, run[qid] === undefined ? absentLength : r.rel.length),
  );
}

/**
 * Median of a list of numbers (mean of the two middle values for an even count; NaN for an
 * empty list).
 * @example median([3, 1, 2, 10]) // 2.5
 */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Registry entry: `maxr`, the mean MaxR over queries (in the default set). */
export const maxRankMetric: MetricDefinition = {
  name: 'maxr', cutoff: 'none', aggregate: 'mean', range: [1, Number.POSITIVE_INFINITY], higherIsBetter: false, defaults: ['maxr'],
  summary: 'rank of the worst-ranked relevant document (mean over queries)',
  score: (r, c) => maxRankOf(r.rel, r.ideal.length, c.length),
};

/** Registry entry: `maxr.median`, the median MaxR over queries (in the default set). */
export const maxRankMedianMetric: MetricDefinition = {
  ...maxRankMetric, name: 'maxr.median', aggregate: 'median', defaults: ['maxr.median'],
  summary: 'rank of the worst-ranked relevant document (median over queries)',
};

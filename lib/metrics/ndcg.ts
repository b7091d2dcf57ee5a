/**
 * nDCG@k, normalised discounted cumulative gain, **linear gain** as trec_eval's `ndcg_cut`:
 *
 *   DCG@k  = sum_{i=1..min(k,n)} rel_i / log2(i + 1)        (rank i is 1-based)
 *   IDCG@k = the same sum over the query's judged relevance values sorted descending
 *            (all relevant documents of the qrels, retrieved or not)
 *   nDCG@k = DCG@k / IDCG@k
 *
 * Linear gain (gain = relevance value), not the exponential `2^rel - 1` of Burges et al.;
 * the two agree on binary judgments. k = 0 gives 0; a query with no relevant document
 * gives 0 (IDCG = 0). Ties follow the pessimistic policy of `lib/runs/ranking.ts`.
 *
 * Reference: Järvelin & Kekäläinen, "Cumulated gain-based evaluation of IR techniques",
 * TOIS 2002; trec_eval `m_ndcg_cut.c` as in the current usnistgov/trec_eval ("i+2 since doc
 * i has rank i+1"). Older trec_eval releases (and the original paper with b = 2) do not
 * discount rank 2 (1/log2(rank) from rank 2 on), so numbers computed with them are slightly
 * higher whenever a relevant document sits at rank 2 or below.
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { checkK, perQuery } from '../runs/ranking.js';
import type { MetricDefinition } from './definition.js';

/**
 * nDCG@k of one query from its ranked relevance vector.
 * @param rel - relevance at each rank (0-based index = rank - 1), after the tie policy.
 * @param ideal - the query's relevance values (> 0), sorted descending.
 * @param k - cutoff; undefined = whole ranking (and the whole ideal list).
 * @example ndcgAtK([0, 1], [1], 2) // (1/log2(3)) / 1 = 0.6309...
 */
export function ndcgAtK(rel: ArrayLike<number>, ideal: ArrayLike<number>, k?: number): number {
  const kk = k === undefined ? Math.max(rel.length, ideal.length) : k;
  let idcg = 0;
  const m = Math.min(kk, ideal.length);
  for (let i = 0; i < m; i++) idcg += ideal[i] / Math.log2(i + 2);
  if (idcg === 0) return 0;
  let dcg = 0;
  const n = Math.min(kk, rel.length);
  for (let i = 0; i < n; i++) if (rel[i] > 0) dcg += rel[i] / Math.log2(i + 2);
  return dcg / idcg;
}

/**
 * nDCG@k of every evaluated query (see `evaluatedQueries` in `lib/runs/ranking.ts`).
 * @param options.k - cutoff (non-negative integer); default: the whole ranking.
 * @throws XlalignError on a bad `k` or a malformed ranking.
 * @example ndcg({ q: { d1: 1 } }, { q: { ids: ['d0', 'd1'], scores: [2, 1] } }, { k: 10 }) // { q: 0.6309 }
 */
export function ndcg(qrels: Qrels, run: Run, options: { k?: number } = {}): Record<string, number> {
  checkK('ndcg', options.k);
  return perQuery(qrels, run, (r) => ndcgAtK(r.rel, r.ideal, options.k));
}

/** Registry entry: `ndcg` (whole ranking) and `ndcg@k`; `ndcg@10` and `ndcg@1` are in the default set. */
export const ndcgMetric: MetricDefinition = {
  name: 'ndcg', cutoff: 'optional', aggregate: 'mean', range: [0, 1], higherIsBetter: true, defaults: ['ndcg@10', 'ndcg@1'],
  summary: 'normalised discounted cumulative gain (linear gain, trec_eval ndcg_cut)',
  score: (r, _c, k) => ndcgAtK(r.rel, r.ideal, k),
};

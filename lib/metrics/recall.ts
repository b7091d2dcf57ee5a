/**
 * R@k, recall: (relevant documents in the top k) / (relevant documents in the qrels).
 * k = 0 gives 0; a query with no relevant document gives 0. Ties follow the pessimistic
 * policy of `lib/runs/ranking.ts`.
 *
 * Reference: trec_eval `recall_k` (Manning, Raghavan & Schütze, IIR, ch. 8).
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { checkK, cut, perQuery } from '../runs/ranking.js';
import type { MetricDefinition } from './definition.js';

/** Number of relevant documents among the first `k` ranks (all when k is undefined). @example hitsAtK([1, 0, 1], 2) // 1 */
export function hitsAtK(rel: ArrayLike<number>, k?: number): number {
  const n = cut(k, rel.length);
  let hits = 0;
  for (let i = 0; i < n; i++) if (rel[i] > 0) hits++;
  return hits;
}

/**
 * R@k of one query.
 * @param nRelevant - number of relevant documents of the query in the qrels.
 * @example recallAtK([1, 0, 1], 2, 2) // 1/2
 */
export function recallAtK(rel: ArrayLike<number>, nRelevant: number, k?: number): number {
  return nRelevant > 0 ? hitsAtK(rel, k) / nRelevant : 0;
}

/**
 * R@k of every evaluated query.
 * @param options.k - cutoff; default: the whole ranking.
 * @example recall({ q: { d1: 1, d2: 1 } }, { q: { ids: ['d1', 'd0'], scores: [2, 1] } }, { k: 1 }) // { q: 0.5 }
 */
export function recall(qrels: Qrels, run: Run, options: { k?: number } = {}): Record<string, number> {
  checkK('recall', options.k);
  return perQuery(qrels, run, (r) => recallAtK(r.rel, r.ideal.length, options.k));
}

/** Registry entry: `r` and `r@k`; `r@10` is in the default set. */
export const recallMetric: MetricDefinition = {
  name: 'r', cutoff: 'optional', aggregate: 'mean', range: [0, 1], higherIsBetter: true, defaults: ['r@10'],
  summary: 'recall: share of the relevant documents in the top k',
  score: (r, _c, k) => recallAtK(r.rel, r.ideal.length, k),
};

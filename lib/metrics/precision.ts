/**
 * P@k, precision: (relevant documents in the top k) / k. The denominator is k even when the
 * ranking is shorter than k, as trec_eval's `P_k`. k = 0 gives 0; without k the denominator
 * is the ranking length (0 for an empty ranking gives 0). A query with no relevant document
 * gives 0. Ties follow the pessimistic policy of `lib/runs/ranking.ts`.
 *
 * Reference: trec_eval `m_P.c`.
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { checkK, perQuery } from '../runs/ranking.js';
import { hitsAtK } from './recall.js';
import type { MetricDefinition } from './definition.js';

/**
 * P@k of one query.
 * @example precisionAtK([1, 0], 5) // 1/5 (denominator k, as trec_eval)
 */
export function precisionAtK(rel: ArrayLike<number>, k?: number): number {
  const denom = k === undefined ? rel.length : k;
  return denom > 0 ? hitsAtK(rel, k) / denom : 0;
}

/**
 * P@k of every evaluated query.
 * @param options.k - cutoff; default: the whole ranking.
 * @example precision({ q: { d1: 1 } }, { q: { ids: ['d1', 'd0'], scores: [2, 1] } }, { k: 2 }) // { q: 0.5 }
 */
export function precision(qrels: Qrels, run: Run, options: { k?: number } = {}): Record<string, number> {
  checkK('precision', options.k);
  return perQuery(qrels, run, (r) => precisionAtK(r.rel, options.k));
}

/** Registry entry: `p` and `p@k`; `p@10` is in the default set. */
export const precisionMetric: MetricDefinition = {
  name: 'p', cutoff: 'optional', aggregate: 'mean', range: [0, 1], higherIsBetter: true, defaults: ['p@10'],
  summary: 'precision: relevant documents in the top k, divided by k',
  score: (r, _c, k) => precisionAtK(r.rel, k),
};

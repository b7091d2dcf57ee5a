/**
 * Complete@k: 1 if **every** relevant document of the query (all parallel versions, in a
 * multilingual pool) is within the top k, else 0. Equal to `R@k == 1`; always <= R@k.
 * Ties follow the pessimistic policy of `lib/runs/ranking.ts`.
 *
 * **Defined only for queries with |R_q| <= k** (`complete`, `evaluate`): with more relevant
 * documents than k the value is 0 by construction (a `multi` pool over the 12 XQuAD
 * languages has 12 relevant documents per query, so Complete@10 would be 0 whatever the
 * retriever), so such a query is left out of the mean, and a pool where every query has
 * more than k relevant documents has no Complete@k row (the registry's `definedFor`). Use
 * MaxR / Max@R_norm there, or a larger k. Without k (whole ranking) it is always defined.
 * The low-level {@link completeAtK} still returns 0 there. k = 0 is therefore never defined
 * for a query with a relevant document.
 *
 * Reference: the study's Comp@10 (arXiv 2604.05684: share of queries whose relevant
 * documents are all in the top 10). The |R_q| > k rule is xlalign's (see above).
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { checkK, perQuery } from '../runs/ranking.js';
import { hitsAtK } from './recall.js';
import type { MetricDefinition } from './definition.js';

/**
 * Complete@k of one query.
 * @param nRelevant - number of relevant documents of the query in the qrels.
 * @example completeAtK([1, 0, 1], 2, 2) // 0: the second relevant document is at rank 3
 */
export function completeAtK(rel: ArrayLike<number>, nRelevant: number, k?: number): number {
  return nRelevant > 0 && hitsAtK(rel, k) === nRelevant ? 1 : 0;
}

/**
 * Complete@k of every evaluated query.
 * @param options.k - cutoff; default: the whole ranking.
 * @example complete({ q: { d1: 1, d2: 1 } }, { q: { ids: ['d1', 'd2'], scores: [2, 1] } }, { k: 2 }) // { q: 1 }
 */
export function complete(qrels: Qrels, run: Run, options: { k?: number } = {}): Record<string, number> {
  checkK('complete', options.k);
  return perQuery(qrels, run, (r) => completeDefined(r.rel, r.ideal.length, options.k));
}

/** Complete@k of one query, NaN (undefined) when it has more than k relevant documents or none. @example completeDefined([1, 1], 2, 1) // NaN */
export function completeDefined(rel: ArrayLike<number>, nRelevant: number, k?: number): number {
  return nRelevant === 0 || (k !== undefined && nRelevant > k) ? Number.NaN : completeAtK(rel, nRelevant, k);
}

/** Registry entry: `complete` and `complete@k`, defined for queries with at most k relevant documents; `complete@10` is in the default set. */
export const completeMetric: MetricDefinition = {
  name: 'complete', cutoff: 'optional', aggregate: 'mean', range: [0, 1], higherIsBetter: true, defaults: ['complete@10'],
  summary: 'share of queries with every relevant document in the top k (queries with |R_q| <= k)',
  definedFor: (pool, k) => k === undefined || pool.minRelevant <= k,
  score: (r, _c, k) => completeDefined(r.rel, r.ideal.length, k),
};

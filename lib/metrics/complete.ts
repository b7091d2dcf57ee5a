/**
 * Complete@k: 1 if **every** relevant document of the query (all parallel versions, in a
 * multilingual pool) is within the top k, else 0. Equal to `R@k == 1`; always <= R@k.
 * k = 0 gives 0 (a query has at least one relevant document); a query with no relevant
 * document gives 0. Ties follow the pessimistic policy of `common.ts`.
 *
 * Reference: xlalign (the cross-lingual retrieval metric of the project, issue 2).
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { checkK, perQuery } from '../runs/ranking.js';
import { hitsAtK } from './recall.js';

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
  return perQuery(qrels, run, (r) => completeAtK(r.rel, r.ideal.length, options.k));
}

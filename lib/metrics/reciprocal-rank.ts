/**
 * RR@k, reciprocal rank: 1 / (1-based rank of the first relevant document) if that rank is
 * <= k, else 0. Its mean over queries is MRR@k. k = 0 gives 0; a query with no relevant
 * document gives 0. Ties follow the pessimistic policy of `lib/runs/ranking.ts`.
 *
 * Reference: Voorhees, "The TREC-8 question answering track report", 1999; trec_eval
 * `recip_rank` (without cutoff).
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { checkK, cut, perQuery } from '../runs/ranking.js';
import type { MetricDefinition } from './definition.js';

/**
 * RR@k of one query from its ranked relevance vector.
 * @param k - cutoff; undefined = whole ranking.
 * @example reciprocalRankAtK([0, 0, 1], 10) // 1/3
 */
export function reciprocalRankAtK(rel: ArrayLike<number>, k?: number): number {
  const n = cut(k, rel.length);
  for (let i = 0; i < n; i++) if (rel[i] > 0) return 1 / (i + 1);
  return 0;
}

/**
 * RR@k of every evaluated query.
 * @param options.k - cutoff; default: the whole ranking.
 * @example reciprocalRank({ q: { d1: 1 } }, { q: { ids: ['d0', 'd1'], scores: [2, 1] } }) // { q: 0.5 }
 */
export function reciprocalRank(qrels: Qrels, run: Run, options: { k?: number } = {}): Record<string, number> {
  checkK('reciprocalRank', options.k);
  return perQuery(qrels, run, (r) => reciprocalRankAtK(r.rel, options.k));
}

/** Registry entry: `rr` and `rr@k` (mean = MRR@k); `rr@10` is in the default set. */
export const reciprocalRankMetric: MetricDefinition = {
  name: 'rr', cutoff: 'optional', aggregate: 'mean', range: [0, 1], higherIsBetter: true, defaults: ['rr@10'],
  summary: 'reciprocal rank of the first relevant document',
  score: (r, _c, k) => reciprocalRankAtK(r.rel, k),
};

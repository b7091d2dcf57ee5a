/**
 * Max@R_norm, the study's normalised MaxR: per query q, with D_q its candidate documents
 * (the pool minus the query's exclusions), R_q its relevant documents and MaxR_q the rank of
 * its worst-ranked relevant document (see `max-rank.ts`),
 *
 *   maxr_norm_q = (log2 |D_q| − log2 MaxR_q) / (log2 |D_q| − log2 |R_q|)
 *
 * reported as the mean over queries. 1 = all relevant documents at the top (MaxR_q = |R_q|),
 * 0 = the worst one at the bottom (MaxR_q = |D_q|); the log scale weighs a move from rank 2
 * to 1 like one from 500 to 250. The study prints it ×100; xlalign keeps [0, 1].
 *
 * - |D_q| = |R_q| (every candidate is relevant, the ranking cannot be wrong): 1 when every
 *   relevant document is ranked (MaxR_q <= |D_q|), else 0.
 * - A relevant document missing from a cut ranking has rank (ranking length + 1), as in
 *   MaxR; the value is clamped to [0, 1] (on a top-k run it is an optimistic bound).
 * - |D_q| defaults to the query's ranking length, right for the whole-pool runs of
 *   `runEvaluation`; `evaluate`'s `candidates` option sets it for cut runs.
 * - A query with no relevant document is left out. Ties follow the pessimistic policy of
 *   `lib/runs/ranking.ts`.
 *
 * Reference: "Max@R_norm" of the study xlalign reproduces (arXiv 2604.05684, ICLR 2026), as
 * given by a public write-up of the paper.
 */
import type { MetricDefinition } from './definition.js';
import { maxRankOf } from './max-rank.js';

/**
 * Max@R_norm of one query.
 * @param maxR - MaxR_q (>= nRelevant).
 * @param nRelevant - |R_q| (> 0; 0 gives NaN).
 * @param candidates - |D_q|.
 * @example maxRankNormOf(1, 1, 480) // 1
 * @example maxRankNormOf(480, 1, 480) // 0
 * @example maxRankNormOf(16, 2, 512) // (9 - 4) / (9 - 1) = 0.625
 */
export function maxRankNormOf(maxR: number, nRelevant: number, candidates: number): number {
  if (!(nRelevant > 0)) return Number.NaN;
  if (candidates <= nRelevant) return maxR <= candidates ? 1 : 0;
  const v = (Math.log2(candidates) - Math.log2(maxR)) / (Math.log2(candidates) - Math.log2(nRelevant));
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Registry entry: `maxr_norm` (in the default set). */
export const maxRankNormMetric: MetricDefinition = {
  name: 'maxr_norm', cutoff: 'none', aggregate: 'mean', range: [0, 1], higherIsBetter: true, defaults: ['maxr_norm'],
  summary: 'MaxR on a log scale between |R_q| (1) and |D_q| (0), the study\'s Max@R_norm',
  score: (r, c) => maxRankNormOf(maxRankOf(r.rel, r.ideal.length, c.length), r.ideal.length, c.candidates),
};

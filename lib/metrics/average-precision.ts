/**
 * AP, average precision, as trec_eval's `map` (per query):
 *
 *   AP = (1 / R) * sum over ranks i (1-based) holding a relevant document of P@i
 *
 * where R is the number of relevant documents in the qrels (retrieved or not; a relevant
 * document that is not retrieved contributes 0). With a cutoff k only ranks <= k count, R is
 * unchanged (trec_eval's `map_cut`). k = 0 gives 0; a query with no relevant document gives 0.
 * Ties follow the pessimistic policy of `lib/runs/ranking.ts`.
 *
 * Reference: trec_eval `m_map.c`, `m_map_cut.c`; Manning et al., IIR, section 8.4.
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { checkK, cut, perQuery } from '../runs/ranking.js';
import type { MetricDefinition } from './definition.js';

/**
 * AP of one query.
 * @param nRelevant - number of relevant documents of the query in the qrels.
 * @param k - optional cutoff; undefined = whole ranking.
 * @example averagePrecisionAtK([0, 1, 1], 3) // (1/2 + 2/3) / 3 = 0.3889
 */
export function averagePrecisionAtK(rel: ArrayLike<number>, nRelevant: number, k?: number): number {
  if (nRelevant <= 0) return 0;
  const n = cut(k, rel.length);
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (rel[i] > 0) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum / nRelevant;
}

/**
 * AP of every evaluated query (its mean is MAP).
 * @param options.k - optional cutoff (`map_cut`); default: the whole ranking.
 * @example averagePrecision({ q: { d1: 1 } }, { q: { ids: ['d0', 'd1'], scores: [2, 1] } }) // { q: 0.5 }
 */
export function averagePrecision(qrels: Qrels, run: Run, options: { k?: number } = {}): Record<string, number> {
  checkK('averagePrecision', options.k);
  return perQuery(qrels, run, (r) => averagePrecisionAtK(r.rel, r.ideal.length, options.k));
}

/** Registry entry: `ap` (mean = MAP) and `ap@k`; `ap` is in the default set. */
export const averagePrecisionMetric: MetricDefinition = {
  name: 'ap', cutoff: 'optional', aggregate: 'mean', range: [0, 1], higherIsBetter: true, defaults: ['ap'],
  summary: 'average precision (trec_eval map, map_cut)',
  score: (r, _c, k) => averagePrecisionAtK(r.rel, r.ideal.length, k),
};

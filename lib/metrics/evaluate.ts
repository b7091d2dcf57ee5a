/**
 * Evaluate a run against qrels with metrics named by string, and average them: the one
 * place where per-query scores are aggregated. Names are resolved by the metric registry
 * (`registry.ts`).
 */
import type { IdLanguages, Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { xlError } from '../util/errors.js';
import { createRankScratch, evaluatedQueries, rankQuery, type TiePolicy } from '../runs/ranking.js';
import { longestRanking, median } from './max-rank.js';
import { parseMetric, SUPPORTED_METRICS, DEFAULT_METRICS, METRICS } from './registry.js';
import type { QueryContext } from './definition.js';

export { parseMetric, SUPPORTED_METRICS, DEFAULT_METRICS, METRICS };

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Pivot language for `pivot_inclination` / `pivot_above`. Default `'en'`. */
  pivot?: string;
  /**
   * The language of every query and document id (e.g. `poolLanguages(pool)`). Required by
   * the metrics that compare languages (`pivot_inclination`, `pivot_above`); ids are never
   * parsed for a language.
   */
  languages?: IdLanguages;
  /**
   * |D_q| per query id, the number of candidate documents (pool minus exclusions), for
   * `maxr_norm`. Default: the query's ranking length (right for whole-pool runs).
   */
  candidates?: Readonly<Record<string, number>>;
  /**
   * How equal scores are ordered (`lib/runs/ranking.ts`): `pessimistic` (default, xlalign's
   * policy) or `trec_eval` (document id descending, as trec_eval; `xlalign score`'s default).
   */
  ties?: TiePolicy;
  /**
   * The queries to score. Default: the queries of `qrels` with at least one relevant
   * document ({@link evaluatedQueries}). A listed query judged only non-relevant scores 0 on
   * nDCG, RR, R, P and AP (as in trec_eval) and is undefined for the other metrics; one
   * absent from `qrels` is an error.
   */
  queries?: readonly string[];
}

/** Result of {@link evaluate}. */
export interface Evaluation {
  /** Aggregate per metric: the mean over queries (the median for `maxr.median`). */
  mean: Record<string, number>;
  /** Per query id, per metric name, the query's score (absent where undefined). */
  perQuery: Record<string, Record<string, number>>;
  /** Per metric, the number of queries its aggregate is over (where it is defined). */
  counts: Record<string, number>;
}

/**
 * Score `run` against `qrels` with the named metrics and aggregate over queries.
 *
 * Queries: those of `qrels` with at least one relevant document (relevance > 0), or
 * `options.queries`; queries of the run not among them are ignored. A query absent from the run counts as an empty
 * ranking: 0 for nDCG, RR, R, P, AP and Complete; for MaxR the rank (longest ranking in the
 * run) + 1, Infinity for an empty run; it is left out of the pivot metrics. Every ranking is
 * sorted once with the tie policy of `lib/runs/ranking.ts` (pessimistic unless
 * `options.ties` is `trec_eval`) and shared by all metrics.
 *
 * Aggregates: each metric's registry entry says mean or median (`maxr.median`); the
 * aggregate is over the queries where the metric is defined, NaN when none is.
 * `perQuery[qid]['maxr.median']` is the query's MaxR. Undefined per query (absent from
 * `perQuery`): the pivot metrics for queries in the pivot language, without a relevant
 * document in their own language, or absent from the run; `complete@k` for queries with
 * more than k relevant documents.
 *
 * @param metrics - names from {@link SUPPORTED_METRICS}, e.g. `['ndcg@10', 'maxr', 'complete@100']`.
 * @param options - see {@link EvaluateOptions}.
 * @throws XlalignError for an unknown metric name, a language metric without
 *   `options.languages`, or a malformed ranking (ids/scores length mismatch, NaN score, a
 *   relevant document listed twice), naming the query.
 * @example
 * const { mean } = evaluate(pool.qrels, run, ['ndcg@10', 'maxr', 'pivot_inclination'], { languages: poolLanguages(pool) });
 */
export function evaluate(qrels: Qrels, run: Run, metrics: readonly string[], options: EvaluateOptions = {}): Evaluation {
  const specs = metrics.map(parseMetric);
  const pivot = options.pivot ?? 'en';
  const { languages, candidates, ties = 'pessimistic' } = options;
  const needLangs = specs.find((s) => s.definition.needsLanguages);
  if (needLangs && !languages) {
    throw xlError('evaluate', `metric '${needLangs.name}' needs options.languages (the language of every query and document id, e.g. poolLanguages(pool)); ids are never parsed for a language`);
  }
  const docLang = (id: string) => languages?.docs.get(id);
  const absentLength = Object.keys(run).length === 0 ? Number.POSITIVE_INFINITY : longestRanking(run);
  const perQuery: Record<string, Record<string, number>> = {};
  const values: number[][] = specs.map(() => []);
  const scratch = createRankScratch();
  for (const qid of options.queries ?? evaluatedQueries(qrels)) {
    if (!Object.hasOwn(qrels, qid)) throw xlError('evaluate', `options.queries lists '${qid}', which has no judgments in the qrels`);
    const ranked = rankQuery(qid, run[qid], qrels[qid], scratch, ties);
    const inRun = run[qid] !== undefined;
    const length = inRun ? ranked.rel.length : absentLength;
    const c: QueryContext = {
      qid,
      inRun,
      length,
      candidates: candidates?.[qid] ?? length,
      judgments: qrels[qid],
      pivot,
      queryLang: languages?.queries.get(qid),
      docLang,
    };
    const row: Record<string, number> = {};
    for (let j = 0; j < specs.length; j++) {
      const v = specs[j].definition.score(ranked, c, specs[j].k);
      if (Number.isNaN(v)) continue;
      row[specs[j].name] = v;
      values[j].push(v);
    }
    perQuery[qid] = row;
  }
  const mean: Record<string, number> = {};
  const counts: Record<string, number> = {};
  specs.forEach((s, j) => {
    const v = values[j];
    counts[s.name] = v.length;
    if (s.definition.aggregate === 'median') mean[s.name] = median(v);
    else {
      let sum = 0;
      for (const x of v) sum += x;
      mean[s.name] = v.length > 0 ? sum / v.length : Number.NaN;
    }
  });
  return { mean, perQuery, counts };
}

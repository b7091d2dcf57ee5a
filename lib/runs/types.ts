/**
 * The data structures of runs and judgments, ranx style (`ranx.Qrels`, `ranx.Run`).
 * Everything that ranks, writes or scores rankings uses these, and only these.
 */

/**
 * Relevance judgments: `qrels[qid][docid] = relevance` (an integer > 0 for relevant).
 * Documents not listed are non-relevant.
 */
export type Qrels = Record<string, Record<string, number>>;

/**
 * A ranking for one query: document ids with their scores, in any order (metrics sort by
 * score themselves, with the one tie order of `lib/runs/ranking.ts`). Documents not present
 * were not retrieved.
 */
export interface Ranking {
  ids: string[];
  scores: ArrayLike<number>;
}

/** A run: one ranking per query id. */
export type Run = Record<string, Ranking>;

/**
 * Per-query exclusions: documents that are in the pool but must not appear in that
 * query's ranking (e.g. the pivot version of the answer in `mixed-target`). An exclusion is
 * not a judgment of irrelevance: the document is simply not ranked for that query.
 */
export type Exclusions = Record<string, string[]>;

/**
 * The language of every query id and document id (e.g. from a pool's `Query.lang` and
 * `Doc.lang`: `poolLanguages(pool)` in `lib/pools/types.ts`). Metrics that compare
 * languages (PivotInclination, PivotAbove) read languages from here, never from the id
 * spelling: ids and BCP-47 tags may both contain '-' (`en-US-a07p03`).
 */
export interface IdLanguages {
  queries: ReadonlyMap<string, string>;
  docs: ReadonlyMap<string, string>;
}

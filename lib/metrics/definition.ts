/**
 * What a metric is, as the registry (`registry.ts`) knows it: one {@link MetricDefinition}
 * per metric family, exported by the metric's own file.
 */
import type { RankedQuery } from '../runs/ranking.js';

/**
 * What the runner knows about a pool before scoring it, for a metric's "defined for this
 * pool" test (`lib/eval/run-evaluation.ts` leaves out the rows of metrics not defined).
 */
export interface PoolFacts {
  /** Scenario name (`mono`, `mixed`, ...); informative. */
  scenario: string;
  /** Languages of the pool's documents. */
  docLangs: readonly string[];
  /** Language of the pool's queries. */
  queryLang: string;
  /** Pivot language. */
  pivot: string;
  /** Fewest relevant documents of a query of the pool. */
  minRelevant: number;
}

/** What a metric may read about one query besides its ranked relevance vector. */
export interface QueryContext {
  qid: string;
  /** Whether the query is in the run at all. */
  inRun: boolean;
  /**
   * Ranking length used for relevant documents missing from the ranking (they sit at rank
   * `length + 1`): the query's ranking length, or the longest ranking of the run (Infinity
   * for an empty run) when the query is absent from the run.
   */
  length: number;
  /**
   * |D_q|: the number of candidate documents of the query (the pool minus its exclusions);
   * by default the query's ranking length (right for a whole-pool run), `length` when absent.
   */
  candidates: number;
  /** The query's judgments `{ docid: relevance }`. */
  judgments: Record<string, number> | undefined;
  /** Pivot language. */
  pivot: string;
  /** The query's language (undefined when no languages were given). */
  queryLang: string | undefined;
  /** The language of a document id (undefined when unknown). */
  docLang: (id: string) => string | undefined;
}

/**
 * One metric family. A new metric is one file exporting a `MetricDefinition` plus one line
 * in `METRICS` of `registry.ts`; `evaluate`, the list of valid names in errors, the CLI's
 * default set, plot axis ranges and the runner's "defined for this pool" filter all read it.
 */
export interface MetricDefinition {
  /** Base name, e.g. `ndcg`, `maxr.median`, `pivot_inclination`. */
  name: string;
  /** `optional`: `name` (whole ranking) and `name@k` (cutoff k, a non-negative integer); `none`: only `name`. */
  cutoff: 'none' | 'optional';
  /** Aggregate over queries. */
  aggregate: 'mean' | 'median';
  /** Range of a per-query value (and of the aggregate): `[low, high]`, `high` may be Infinity. */
  range: readonly [number, number];
  /** Whether higher values are better. */
  higherIsBetter: boolean;
  /** Instances in the default metric set (e.g. `['ndcg@10', 'ndcg@1']`). */
  defaults: readonly string[];
  /** Whether the metric needs `evaluate`'s `languages` option. */
  needsLanguages?: boolean;
  /** One line: what it measures. */
  summary: string;
  /** Whether the metric is defined for a pool (default: always). */
  definedFor?: (pool: PoolFacts, k: number | undefined) => boolean;
  /** One query's value; NaN = undefined for this query (left out of the aggregate). */
  score: (r: RankedQuery, c: QueryContext, k: number | undefined) => number;
}

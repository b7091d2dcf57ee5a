/** Retrieval metrics (ranx style): one family per file, the registry lists them, `evaluate` aggregates. */
// The tie policy and ranked relevance vectors; the small helpers (checkK, cut, perQuery)
// stay internal to lib/metrics.
export { rankQuery, rankedIds, rankOrder, truncateRun, compareIds, createRankScratch, evaluatedQueries, idealRelevance, countRelevant } from '../runs/ranking.js';
export type { RankedQuery, RankScratch } from '../runs/ranking.js';
export type { IdLanguages } from '../runs/types.js';
export * from './definition.js';
export * from './registry.js';
export * from './ndcg.js';
export * from './reciprocal-rank.js';
export * from './recall.js';
export * from './precision.js';
export * from './average-precision.js';
export * from './max-rank.js';
export * from './max-rank-norm.js';
export * from './complete.js';
export * from './pivot-inclination.js';
export { evaluate, type EvaluateOptions, type Evaluation } from './evaluate.js';
export * from '../runs/trec-io.js';

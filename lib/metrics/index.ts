/** Retrieval metrics (ranx style): one family per file, `evaluate` aggregates. */
export * from './common.js';
export * from './ndcg.js';
export * from './reciprocal-rank.js';
export * from './recall.js';
export * from './precision.js';
export * from './average-precision.js';
export * from './max-rank.js';
export * from './complete.js';
export * from './pivot-inclination.js';
export * from './evaluate.js';
export * from './trec-io.js';

/**
 * The metric registry: every metric xlalign computes, one {@link MetricDefinition} per
 * family, each exported by the metric's own file.
 *
 * **Adding a metric = one file + one line here.** Write `lib/metrics/<metric>.ts` with the
 * formula and reference in its doc comment, a low-level function for one query, and an
 * exported `MetricDefinition` (name, cutoff, aggregate, range, default instances, the pools
 * it is defined for, how it scores one ranked query); then add it to {@link METRICS}.
 * `evaluate` (lookup by name), the error listing valid names ({@link SUPPORTED_METRICS}), the
 * CLI's default set ({@link DEFAULT_METRICS}), plot axis ranges ({@link metricRange}) and the
 * runner's "defined for this pool" filter ({@link definedForPool}) all read this list.
 */
import { xlError } from '../util/errors.js';
import type { MetricDefinition, PoolFacts } from './definition.js';
import { ndcgMetric } from './ndcg.js';
import { reciprocalRankMetric } from './reciprocal-rank.js';
import { recallMetric } from './recall.js';
import { precisionMetric } from './precision.js';
import { averagePrecisionMetric } from './average-precision.js';
import { maxRankMedianMetric, maxRankMetric } from './max-rank.js';
import { maxRankNormMetric } from './max-rank-norm.js';
import { completeMetric } from './complete.js';
import { pivotAboveMetric, pivotInclinationMetric } from './pivot-inclination.js';

/** Every metric, in the order of the default set and of result tables. */
export const METRICS: readonly MetricDefinition[] = [
  ndcgMetric,
  reciprocalRankMetric,
  recallMetric,
  precisionMetric,
  averagePrecisionMetric,
  maxRankMetric,
  maxRankMedianMetric,
  maxRankNormMetric,
  completeMetric,
  pivotInclinationMetric,
  pivotAboveMetric,
];

/** The metric names `evaluate` understands; `@k` is any non-negative integer cutoff (optional: without it, the whole ranking). */
export const SUPPORTED_METRICS: readonly string[] = METRICS.map((m) => (m.cutoff === 'optional' ? `${m.name}@k` : m.name));

/** The metrics every evaluation reports by default (the CLI's `--metrics` default). */
export const DEFAULT_METRICS: readonly string[] = METRICS.flatMap((m) => m.defaults);

/** A metric name resolved against the registry. */
export interface ParsedMetric {
  /** The name as given, e.g. `ndcg@10`. */
  name: string;
  definition: MetricDefinition;
  /** The cutoff, undefined for the whole ranking. */
  k: number | undefined;
}

const NAME = /^([a-z_.]+)(?:@(\d+))?$/;

/**
 * Resolve a metric name (`ndcg@10`, `ap`, `maxr_norm`) against {@link METRICS}.
 * @throws XlalignError for an unknown name, listing the supported ones.
 * @example parseMetric('ndcg@10').definition.aggregate // 'mean'
 */
export function parseMetric(name: string): ParsedMetric {
  const m = NAME.exec(name);
  const definition = m ? METRICS.find((d) => d.name === m[1]) : undefined;
  if (!m || !definition || (m[2] !== undefined && definition.cutoff === 'none')) {
    throw xlError('evaluate', `unknown metric '${name}'; supported: ${SUPPORTED_METRICS.join(', ')} (k a non-negative integer, e.g. ndcg@10; without @k the whole ranking)`);
  }
  return { name, definition, k: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * Whether the metric `name` is defined for a pool (its definition's `definedFor`; default
 * yes). The runner writes no row for a metric that is not.
 * @example definedForPool('pivot_inclination', { scenario: 'mono', docLangs: ['de'], queryLang: 'de', pivot: 'en', minRelevant: 1 }) // false
 */
export function definedForPool(name: string, pool: PoolFacts): boolean {
  const { definition, k } = parseMetric(name);
  return definition.definedFor ? definition.definedFor(pool, k) : true;
}

/**
 * The value range of a metric, for plot axes: `[low, high]` when both are finite (rates such
 * as nDCG, Complete@k, PivotInclination, Max@R_norm: `[0, 1]`), else undefined (autorange).
 * Undefined as well for a name the registry does not know.
 * @example metricRange('maxr_norm') // [0, 1]
 * @example metricRange('maxr') // undefined
 */
export function metricRange(name: string): [number, number] | undefined {
  let range: readonly [number, number];
  try {
    range = parseMetric(name).definition.range;
  } catch {
    return undefined;
  }
  return Number.isFinite(range[0]) && Number.isFinite(range[1]) ? [range[0], range[1]] : undefined;
}

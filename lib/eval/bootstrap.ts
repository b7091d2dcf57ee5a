import { xlError } from '../util/errors.js';
import { createRng } from '../util/rng.js';

/** Options of {@link pairedBootstrap}. */
export interface BootstrapOptions {
  /** Resamples. Default 1000. */
  resamples?: number;
  /** Seed of the resampling. Default 42. */
  seed?: number;
  /** Confidence level of the percentile interval. Default 0.95. */
  confidence?: number;
}

/** A paired bootstrap result; `delta = mean(after − before)` over the shared queries. */
export interface BootstrapInterval {
  delta: number;
  low: number;
  high: number;
  /** Queries in both maps (the ones compared). */
  queries: number;
  resamples: number;
  confidence: number;
  seed: number;
}

/**
 * Paired bootstrap percentile interval for the change of a per-query metric:
 * d_q = after[q] − before[q] over the queries present in both maps; each resample draws
 * |Q| queries with replacement (seeded) and takes the mean of d; the interval is the
 * ((1−c)/2, (1+c)/2) percentiles of the resampled means (linear interpolation between
 * order statistics). Pairing by query removes the between-query variance, as in
 * Sakai, "Evaluating evaluation metrics based on the bootstrap" (SIGIR 2006), and
 * Efron & Tibshirani, "An Introduction to the Bootstrap" (1993), ch. 13 (percentile method).
 *
 * @throws XlalignError when no query is shared, or a score is not finite (naming the query).
 * @example
 * const ci = pairedBootstrap(before['maxr'], after['maxr']); // { delta: -3.1, low: -4.0, high: -2.2, ... }
 */
export function pairedBootstrap(before: Record<string, number>, after: Record<string, number>, options: BootstrapOptions = {}): BootstrapInterval {
  const { resamples = 1000, seed = 42, confidence = 0.95 } = options;
  if (!Number.isInteger(resamples) || resamples < 1) throw xlError('pairedBootstrap', `resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw xlError('pairedBootstrap', `confidence must be in (0, 1), got ${confidence}`);
  const ids = Object.keys(before)
    .filter((q) => q in after)
    .sort();
  if (ids.length === 0) throw xlError('pairedBootstrap', 'the two score maps share no query id');
  const d = ids.map((q) => {
    const v = after[q] - before[q];
    if (!Number.isFinite(v)) throw xlError('pairedBootstrap', `query '${q}': before ${before[q]}, after ${after[q]} are not finite numbers`);
    return v;
  });
  const n = d.length;
  const delta = d.reduce((s, v) => s + v, 0) / n;
  const rng = createRng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += d[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  return { delta, low: percentile(means, (1 - confidence) / 2), high: percentile(means, (1 + confidence) / 2), queries: n, resamples, confidence, seed };
}

/** Percentile p ∈ [0, 1] of sorted values, linear interpolation between order statistics. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** A {@link BootstrapInterval} of a mean over groups; `queries` counts all groups' queries. */
export interface GroupedBootstrapInterval extends BootstrapInterval {
  /** Groups (languages) averaged. */
  groups: number;
}

/**
 * Paired, stratified bootstrap percentile interval for the change of a **mean over groups**
 * (the mean over languages of the per-language mean change), for tables that report one
 * number per scenario and metric:
 *
 *   Δ = (1/G) Σ_g (1/|Q_g|) Σ_{q∈Q_g} (after_g[q] − before_g[q])
 *
 * Each resample draws |Q_g| queries with replacement *within each group g* (the languages'
 * query sets are fixed by design, so they are strata), recomputes every group's mean change
 * and their mean; the interval is the ((1−c)/2, (1+c)/2) percentiles of the G-group means.
 * This is the interval of the reported mean, not the mean of the per-group bounds (that
 * average is too wide: it ignores that independent groups' errors partly cancel). With one
 * group it equals {@link pairedBootstrap} for the same seed.
 * Reference: Efron & Tibshirani, "An Introduction to the Bootstrap" (1993), ch. 13 and
 * §8.3 (stratified resampling of two-sample and multi-sample problems).
 *
 * @param groups per group (e.g. language), the before and after per-query scores; queries are paired by id within a group.
 * @throws XlalignError when there is no group, a group shares no query id, or a score is not finite (naming group and query).
 * @example
 * const ci = pairedBootstrapOfGroupMean({ de: { before: b.de, after: a.de }, zh: { before: b.zh, after: a.zh } });
 */
export function pairedBootstrapOfGroupMean(
  groups: Record<string, { before: Record<string, number>; after: Record<string, number> }>,
  options: BootstrapOptions = {},
): GroupedBootstrapInterval {
  const { resamples = 1000, seed = 42, confidence = 0.95 } = options;
  if (!Number.isInteger(resamples) || resamples < 1) throw xlError('pairedBootstrapOfGroupMean', `resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw xlError('pairedBootstrapOfGroupMean', `confidence must be in (0, 1), got ${confidence}`);
  const names = Object.keys(groups).sort();
  if (names.length === 0) throw xlError('pairedBootstrapOfGroupMean', 'no groups');
  const diffs = names.map((g) => {
    const { before, after } = groups[g];
    const ids = Object.keys(before).filter((q) => q in after).sort();
    if (ids.length === 0) throw xlError('pairedBootstrapOfGroupMean', `group '${g}': the two score maps share no query id`);
    return ids.map((q) => {
      const v = after[q] - before[q];
      if (!Number.isFinite(v)) throw xlError('pairedBootstrapOfGroupMean', `group '${g}', query '${q}': before ${before[q]}, after ${after[q]} are not finite numbers`);
      return v;
    });
  });
  const mean = (d: number[]) => d.reduce((s, v) => s + v, 0) / d.length;
  const delta = diffs.reduce((s, d) => s + mean(d), 0) / diffs.length;
  const rng = createRng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (const d of diffs) {
      let s = 0;
      for (let k = 0; k < d.length; k++) s += d[rng.int(d.length)];
      total += s / d.length;
    }
    means[r] = total / diffs.length;
  }
  means.sort();
  return {
    delta, low: percentile(means, (1 - confidence) / 2), high: percentile(means, (1 + confidence) / 2),
    queries: diffs.reduce((s, d) => s + d.length, 0), groups: names.length, resamples, confidence, seed,
  };
}

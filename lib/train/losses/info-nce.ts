import { checkOneOf, xlError } from '../../util/errors.js';
import { addMatmulGB, addMatmulGtA, matmulABt, zerosLike, type FloatArray, type Matrix } from '../../nn/matrix.js';
import { forwardViaScores, transposeSquare, type BatchScores, type ScoresLoss, type ScoresLossResult } from './scores.js';
import type { LossResult, ParallelBatch, ParallelLoss } from './types.js';

/** Options of {@link infoNCE}. */
export interface InfoNCEOptions {
  /** Softmax temperature τ; similarities are divided by it. Default 0.05. */
  temperature?: number;
  /**
   * How several positives count (see {@link infoNCE}): `'each'` (default) every positive
   * must outrank the negatives on its own (SupCon's L_out); `'sum'` the positives' total
   * probability counts (L_in; one positive ranked high is enough). Same for one positive.
   */
  multiPositive?: MultiPositive;
}

/** The multi-positive variants of {@link infoNCE}. */
export const MULTI_POSITIVE = ['each', 'sum'] as const;
export type MultiPositive = (typeof MULTI_POSITIVE)[number];

/** Result of {@link infoNCE}: the mean loss and dL/d(anchors), dL/d(candidates). */
export interface InfoNCEResult {
  loss: number;
  grads: { anchors: FloatArray; candidates: FloatArray };
}

/**
 * Multi-positive InfoNCE of anchors against candidates, with hand-written gradients.
 *
 * With S = A·Cᵀ / τ (A: n x dim anchors, C: m x dim candidates, rows L2-normalised by the
 * caller so that A·Cᵀ is cosine similarity) and P(i) the positive candidates of anchor i:
 *
 *   'each' (default): L = (1/n) Σ_i (1/|P(i)|) Σ_{p∈P(i)} [ log Σ_j exp(S_ij) − S_ip ]
 *   'sum':            L = (1/n) Σ_i [ log Σ_j exp(S_ij) − log Σ_{p∈P(i)} exp(S_ip) ]
 *
 * 'each' is the mean over positives of −log softmax(S_i)_p: every positive must outrank
 * the negatives by itself (what Complete@k and MaxR ask for: both parallel documents
 * high). 'sum' is −log of the mass on all positives together, satisfied by one positive
 * ranked high (we measured it learning same-language retrieval only). With one positive
 * per anchor both are the usual InfoNCE / MultipleNegativesRankingLoss.
 * Gradient: dL/dS_ij = (1/n)(softmax_all(S_i)_j − w_ij) with w_ij = [j∈P(i)]/|P(i)|
 * ('each') or [j∈P(i)]·softmax_P(S_i)_j ('sum'); then dL/dA = (1/τ)·G·C and
 * dL/dC = (1/τ)·Gᵀ·A. Computed stably (log-sum-exp).
 *
 * Reference: van den Oord et al., "Representation Learning with Contrastive Predictive
 * Coding" (2018), eq. 4; the two multi-positive forms are L_out ('each') and L_in ('sum')
 * of Khosla et al., "Supervised Contrastive Learning" (NeurIPS 2020), eqs. 2-3.
 *
 * @param anchors n x dim, L2-normalised rows.
 * @param candidates m x dim, L2-normalised rows (all are negatives except the positives).
 * @param positives candidate indices that are positive for anchor i (at least one; repeats ignored).
 * @param options `temperature` (default 0.05), `multiPositive` (default 'each').
 * @throws XlalignError when dims differ, τ ≤ 0, or an anchor has no / an out-of-range positive.
 *
 * @example
 * // translation pairs, both directions (row i of src is parallel to row i of tgt)
 * const a = infoNCE(src, tgt, (i) => [i]);
 * const b = infoNCE(tgt, src, (i) => [i]);
 * const loss = (a.loss + b.loss) / 2;
 */
export function infoNCE(
  anchors: Matrix,
  candidates: Matrix,
  positives: (i: number) => readonly number[],
  options: InfoNCEOptions = {},
): InfoNCEResult {
  const { temperature = 0.05, multiPositive = 'each' } = options;
  if (!(temperature > 0)) throw xlError('infoNCE', `temperature must be > 0, got ${temperature}`);
  checkOneOf('infoNCE', 'multiPositive', multiPositive, MULTI_POSITIVE);
  if (anchors.cols !== candidates.cols) {
    throw xlError('infoNCE', `anchors have ${anchors.cols} columns but candidates ${candidates.cols}`);
  }
  const n = anchors.rows;
  const m = candidates.rows;
  if (n === 0) throw xlError('infoNCE', 'no anchors');
  const g = new Float64Array(n * m);
  const loss = infoNCEOnScores(matmulABt(anchors, candidates), n, m, positives, temperature, g, 1, multiPositive);
  const gA = zerosLike(anchors.data, anchors.data.length);
  const gC = zerosLike(candidates.data, candidates.data.length);
  addMatmulGB(gA, g, n, candidates);
  addMatmulGtA(gC, g, m, anchors);
  return { loss, grads: { anchors: gA, candidates: gC } };
}

/**
 * InfoNCE on precomputed cosine similarities `s` (n x m, left unchanged): returns the mean
 * loss and adds `weight · dL/ds` into `grad` (the 1/τ included). The kernel of
 * {@link infoNCE} and {@link InfoNCELoss}.
 */
export function infoNCEOnScores(
  s: Float64Array,
  n: number,
  m: number,
  positives: (i: number) => readonly number[],
  temperature: number,
  grad: Float64Array,
  weight: number,
  multiPositive: MultiPositive = 'each',
): number {
  const inv = 1 / temperature;
  const each = multiPositive === 'each';
  const e = new Float64Array(m);
  const isPos = new Uint8Array(m);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const pos = positives(i);
    if (pos.length === 0) throw xlError('infoNCE', `anchor ${i} has no positive candidate`);
    isPos.fill(0);
    let count = 0;
    for (const j of pos) {
      if (!Number.isInteger(j) || j < 0 || j >= m) {
        throw xlError('infoNCE', `positive ${j} of anchor ${i} is not a candidate index in [0, ${m})`);
      }
      if (!isPos[j]) count++;
      isPos[j] = 1;
    }
    const o = i * m;
    let max = -Infinity;
    for (let j = 0; j < m; j++) if (s[o + j] * inv > max) max = s[o + j] * inv;
    let sumAll = 0;
    let sumPos = 0;
    let meanPosLogit = 0;
    for (let j = 0; j < m; j++) {
      e[j] = Math.exp(s[o + j] * inv - max);
      sumAll += e[j];
      if (isPos[j]) {
        sumPos += e[j];
        meanPosLogit += (s[o + j] * inv - max) / count;
      }
    }
    total += Math.log(sumAll) - (each ? meanPosLogit : Math.log(sumPos));
    const scale = (weight * inv) / n;
    for (let j = 0; j < m; j++) {
      const target = isPos[j] ? (each ? 1 / count : e[j] / sumPos) : 0;
      grad[o + j] += (e[j] / sumAll - target) * scale;
    }
  }
  return total / n;
}

/** Options of {@link InfoNCELoss}. */
export interface InfoNCELossOptions extends InfoNCEOptions {
  /**
   * Also rank the in-batch queries for each document (documents as anchors, both parallel
   * queries positive) and average the two directions. Default false (queries -> documents only).
   */
  symmetric?: boolean;
}

/**
 * InfoNCELoss: cross-lingual retrieval loss on a {@link ParallelBatch}. Both versions of
 * each query (pivot and target language) rank the 2B in-batch documents of both
 * languages; both parallel versions of the sample's document are positives, the other
 * 2B − 2 documents are negatives (multi-positive {@link infoNCE}). Optimises the property
 * the study measures: a query should rank *both* the same-language and the pivot version
 * of its document above unrelated documents in either language (Complete@k, MaxR).
 *
 * This is our earlier reading of the study (one softmax over documents of both languages,
 * both parallel documents positive and each required to rank high by itself
 * (`multiPositive: 'each'`), mean over the 2B queries), with the direction and the
 * multi-positive form configurable; the loss variant `infonce`. The study's L_NCE
 * ({@link StudyInfoNCELoss}) is narrower: anchor p_tgt, one positive q_en, the other English
 * queries as negatives.
 *
 * | input              | role                                               |
 * |--------------------|----------------------------------------------------|
 * | queryPivot[b]      | anchor; positives docPivot[b], docTarget[b]         |
 * | queryTarget[b]     | anchor; positives docPivot[b], docTarget[b]         |
 * | docPivot, docTarget| candidates (others' documents are negatives)        |
 *
 * Related: {@link JensenShannonLoss} (aligns the two languages' score distributions),
 * {@link AlignmentLoss} (InfoNCE + λ·JSD); sentence-transformers'
 * MultipleNegativesRankingLoss is the one-positive, one-language special case.
 *
 * @example
 * const loss = new InfoNCELoss({ temperature: 0.05 });
 * const { loss: value, grads } = loss.forward(batch); // grads.queryPivot is B x dim
 */
export class InfoNCELoss implements ParallelLoss, ScoresLoss {
  readonly temperature: number;
  readonly symmetric: boolean;
  readonly multiPositive: MultiPositive;

  constructor(options: InfoNCELossOptions = {}) {
    const { temperature = 0.05, symmetric = false, multiPositive = 'each' } = options;
    if (!(temperature > 0)) throw xlError('InfoNCELoss', `temperature must be > 0, got ${temperature}`);
    this.temperature = temperature;
    this.symmetric = symmetric;
    this.multiPositive = checkOneOf('InfoNCELoss', 'multiPositive', multiPositive, MULTI_POSITIVE);
  }

  /** Loss and gradients for one batch (see the class comment for the formula). */
  forward(batch: ParallelBatch): LossResult {
    return forwardViaScores('InfoNCELoss', this, batch);
  }

  /** The loss on the batch's similarity matrix, and dL/dS. */
  forwardScores(scores: BatchScores): ScoresLossResult {
    const b = scores.size;
    const n = 2 * b;
    const positives = (i: number): number[] => [i % b, b + (i % b)];
    const gradS = new Float64Array(n * n);
    const w = this.symmetric ? 0.5 : 1;
    let loss = w * infoNCEOnScores(scores.s, n, n, positives, this.temperature, gradS, w, this.multiPositive);
    if (this.symmetric) {
      // documents as anchors: the same scores transposed, gradient transposed back
      const gT = new Float64Array(n * n);
      loss += w * infoNCEOnScores(transposeSquare(scores.s, n), n, n, positives, this.temperature, gT, w, this.multiPositive);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gradS[i * n + j] += gT[j * n + i];
    }
    return { loss, gradS, parts: { infoNCE: loss } };
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'InfoNCELoss', temperature: this.temperature, symmetric: this.symmetric, multiPositive: this.multiPositive };
  }
}

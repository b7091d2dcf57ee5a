import { checkOneOf, xlError } from '../../util/errors.js';
import { addMatmulGB, addMatmulGtA, matmulABt, vstack, zerosLike, type FloatArray, type Matrix } from '../../nn/matrix.js';
import { forwardViaScores, transposeSquare, type BatchScores, type ScoresLoss, type ScoresLossResult } from './scores.js';
import type { LossResult, ParallelBatch, ParallelLoss } from './types.js';

const LN2 = Math.LN2;

/**
 * Jensen-Shannon divergence of two discrete distributions (natural log):
 * JSD(p‖q) = ½·KL(p‖m) + ½·KL(q‖m), m = ½(p + q). Symmetric, 0 iff p = q, at most ln 2.
 * Terms with p_k = 0 contribute 0 (0·log 0 = 0).
 *
 * @throws XlalignError when the lengths differ.
 * @example jensenShannonDivergence([1, 0], [0, 1]); // ln 2 ≈ 0.693
 */
export function jensenShannonDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw xlError('jensenShannonDivergence', `lengths differ (${p.length} vs ${q.length})`);
  let s = 0;
  for (let k = 0; k < p.length; k++) {
    const m = (p[k] + q[k]) / 2;
    if (p[k] > 0) s += 0.5 * p[k] * Math.log(p[k] / m);
    if (q[k] > 0) s += 0.5 * q[k] * Math.log(q[k] / m);
  }
  return s;
}

/** Options of {@link jensenShannonSoftmax}. */
export interface JensenShannonOptions {
  /** Softmax temperature τ. Default 0.05. */
  temperature?: number;
}

/** Result of {@link jensenShannonSoftmax}: mean JSD and gradients w.r.t. x, y and ref. */
export interface JensenShannonResult {
  loss: number;
  grads: { x: FloatArray; y: FloatArray; ref: FloatArray };
}

/**
 * Mean Jensen-Shannon divergence between the score distributions of parallel rows over a
 * shared reference set, with hand-written gradients.
 *
 * For row i: p_i = softmax(x_i·Refᵀ/τ), q_i = softmax(y_i·Refᵀ/τ);
 * L = (1/n) Σ_i JSD(p_i‖q_i). With log m = logaddexp(log p, log q) − ln 2, the gradient is
 * dJSD/dp_k = ½ log(p_k/m_k), dJSD/dq_k = ½ log(q_k/m_k), then through the softmax
 * (dL/da_k = p_k(g_k − Σ_l p_l g_l)) and the similarity (÷τ).
 *
 * @param x n x dim, L2-normalised (e.g. pivot-language queries).
 * @param y n x dim, L2-normalised, row i parallel to x's row i (e.g. target-language queries).
 * @param ref m x dim, L2-normalised reference rows (e.g. the in-batch documents).
 * @throws XlalignError when shapes disagree or τ ≤ 0.
 * @example
 * const { loss } = jensenShannonSoftmax(queriesEn, queriesDe, docs, { temperature: 0.05 });
 */
export function jensenShannonSoftmax(x: Matrix, y: Matrix, ref: Matrix, options: JensenShannonOptions = {}): JensenShannonResult {
  const { temperature = 0.05 } = options;
  if (!(temperature > 0)) throw xlError('jensenShannonSoftmax', `temperature must be > 0, got ${temperature}`);
  if (x.rows !== y.rows || x.cols !== y.cols) {
    throw xlError('jensenShannonSoftmax', `x is ${x.rows}x${x.cols} but y is ${y.rows}x${y.cols}; they must be parallel`);
  }
  if (ref.cols !== x.cols) throw xlError('jensenShannonSoftmax', `ref has ${ref.cols} columns, x has ${x.cols}`);
  const n = x.rows;
  const m = ref.rows;
  if (n === 0) throw xlError('jensenShannonSoftmax', 'no rows');
  const xy = vstack([x, y]);
  const g = new Float64Array(2 * n * m);
  const loss = jsdOnScores(matmulABt(xy, ref), m, n, (i) => i, (i) => n + i, temperature, g, 1);
  const gxy = zerosLike(x.data, 2 * n * x.cols);
  const gr = zerosLike(ref.data, ref.data.length);
  addMatmulGB(gxy, g, 2 * n, ref);
  addMatmulGtA(gr, g, m, xy);
  const half = n * x.cols;
  return { loss, grads: { x: gxy.subarray(0, half), y: gxy.subarray(half), ref: gr } };
}

/**
 * Mean JSD between the softmax(·/τ) distributions of row pairs of a similarity matrix `s`
 * (rows of length `m`): pair i compares row `xRow(i)` with row `yRow(i)`, for i < `pairs`.
 * Adds `weight · dL/ds` into `grad` (the 1/τ included) and returns the mean. The kernel of
 * {@link jensenShannonSoftmax} and {@link JensenShannonLoss}.
 */
export function jsdOnScores(
  s: Float64Array,
  m: number,
  pairs: number,
  xRow: (i: number) => number,
  yRow: (i: number) => number,
  temperature: number,
  grad: Float64Array,
  weight: number,
): number {
  const inv = 1 / temperature;
  const lp = new Float64Array(m);
  const lq = new Float64Array(m);
  const gp = new Float64Array(m);
  const gq = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < pairs; i++) {
    const ox = xRow(i) * m;
    const oy = yRow(i) * m;
    logSoftmax(s, ox, m, inv, lp);
    logSoftmax(s, oy, m, inv, lq);
    let pg = 0;
    let qg = 0;
    for (let k = 0; k < m; k++) {
      const hi = Math.max(lp[k], lq[k]);
      const lo = Math.min(lp[k], lq[k]);
      const lm = hi === -Infinity ? -Infinity : hi + Math.log1p(Math.exp(lo - hi)) - LN2;
      const p = Math.exp(lp[k]);
      const q = Math.exp(lq[k]);
      gp[k] = p > 0 ? 0.5 * (lp[k] - lm) : 0; // dJSD/dp_k
      gq[k] = q > 0 ? 0.5 * (lq[k] - lm) : 0; // dJSD/dq_k
      pg += p * gp[k];
      qg += q * gq[k];
    }
    total += pg + qg;
    const scale = (weight * inv) / pairs;
    for (let k = 0; k < m; k++) {
      grad[ox + k] += Math.exp(lp[k]) * (gp[k] - pg) * scale;
      grad[oy + k] += Math.exp(lq[k]) * (gq[k] - qg) * scale;
    }
  }
  return total / pairs;
}

/** log softmax of `scale · s[o .. o+m-1]` into `out`. */
function logSoftmax(s: Float64Array, o: number, m: number, scale: number, out: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < m; k++) if (s[o + k] * scale > max) max = s[o + k] * scale;
  let sum = 0;
  for (let k = 0; k < m; k++) sum += Math.exp(s[o + k] * scale - max);
  const lse = max + Math.log(sum);
  for (let k = 0; k < m; k++) out[k] = s[o + k] * scale - lse;
}

/** Which sides {@link JensenShannonLoss} aligns. */
export const JSD_SIDES = ['queries', 'documents', 'both'] as const;
export type JsdSide = (typeof JSD_SIDES)[number];

/** Options of {@link JensenShannonLoss}. */
export interface JensenShannonLossOptions extends JensenShannonOptions {
  /**
   * `queries`: JSD between the pivot and target query's distributions over the 2B in-batch
   * documents; `documents`: JSD between the pivot and target document's distributions over
   * the 2B in-batch queries; `both` (default): the mean of the two.
   */
  sides?: JsdSide;
}

/**
 * JensenShannonLoss: alignment loss on a {@link ParallelBatch}. It makes a text and its
 * translation induce the same softmax distribution over the in-batch candidates, so that
 * the language of a query (or document) stops mattering to the ranking:
 *
 *   queries:   p_b = softmax(sim(queryPivot_b, D)/τ), q_b = softmax(sim(queryTarget_b, D)/τ),
 *              D = [docPivot; docTarget] (2B rows), L_q = mean_b JSD(p_b‖q_b)
 *   documents: the same with docPivot/docTarget against Q = [queryPivot; queryTarget]
 *   loss = L_q, L_d, or (L_q + L_d)/2 (option `sides`), hence 0 ≤ loss ≤ ln 2.
 *
 * Reference: Lin, "Divergence measures based on the Shannon entropy" (IEEE Trans. Inf.
 * Theory, 1991) for JSD. This is our earlier reading of the study's alignment term (the
 * loss variant `jsd`); the study's L_JSD ({@link StudyJsdLoss}) instead compares the two
 * parallel passages' softmaxes over their own embedding dimensions, under a square root.
 *
 * | input                    | role                                           |
 * |--------------------------|------------------------------------------------|
 * | queryPivot, queryTarget  | parallel pair whose distributions are matched   |
 * | docPivot, docTarget      | reference set (and, for `documents`, the pair)  |
 *
 * Related: {@link InfoNCELoss} (retrieval objective), {@link AlignmentLoss} (InfoNCE + λ·JSD).
 * JSD alone has a trivial minimum (all embeddings equal), so train it with InfoNCE.
 *
 * @example
 * const jsd = new JensenShannonLoss({ temperature: 0.05, sides: 'both' });
 * const { loss, grads } = jsd.forward(batch);
 */
export class JensenShannonLoss implements ParallelLoss, ScoresLoss {
  readonly temperature: number;
  readonly sides: JsdSide;

  constructor(options: JensenShannonLossOptions = {}) {
    const { temperature = 0.05, sides = 'both' } = options;
    if (!(temperature > 0)) throw xlError('JensenShannonLoss', `temperature must be > 0, got ${temperature}`);
    this.temperature = temperature;
    this.sides = checkOneOf('JensenShannonLoss', 'sides', sides, JSD_SIDES);
  }

  /** Loss and gradients for one batch (see the class comment). */
  forward(batch: ParallelBatch): LossResult {
    return forwardViaScores('JensenShannonLoss', this, batch);
  }

  /** The loss on the batch's similarity matrix, and dL/dS. */
  forwardScores(scores: BatchScores): ScoresLossResult {
    const b = scores.size;
    const n = 2 * b;
    const gradS = new Float64Array(n * n);
    const w = this.sides === 'both' ? 0.5 : 1;
    const pivot = (i: number) => i;
    const target = (i: number) => b + i;
    let loss = 0;
    const parts: Record<string, number> = {};
    if (this.sides !== 'documents') {
      // rows of S: each query's distribution over the 2B documents
      parts.jsdQueries = jsdOnScores(scores.s, n, b, pivot, target, this.temperature, gradS, w);
      loss += w * parts.jsdQueries;
    }
    if (this.sides !== 'queries') {
      // rows of Sᵀ: each document's distribution over the 2B queries
      const gT = new Float64Array(n * n);
      parts.jsdDocuments = jsdOnScores(transposeSquare(scores.s, n), n, b, pivot, target, this.temperature, gT, w);
      loss += w * parts.jsdDocuments;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gradS[i * n + j] += gT[j * n + i];
    }
    parts.jsd = loss;
    return { loss, gradS, parts };
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'JensenShannonLoss', temperature: this.temperature, sides: this.sides };
  }
}

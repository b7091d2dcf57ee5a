import { checkOneOf, xlError } from '../../errors.js';
import { addMatmulGB, addMatmulGtA, matmulABt, vstack, zerosLike, type FloatArray, type Matrix } from '../matrix.js';
import { checkBatch, type LossResult, type ParallelBatch, type ParallelLoss } from './types.js';

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
  const inv = 1 / temperature;
  const a = matmulABt(x, ref);
  const b = matmulABt(y, ref);
  const ga = new Float64Array(n * m);
  const gb = new Float64Array(n * m);
  const lp = new Float64Array(m);
  const lq = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i * m;
    logSoftmax(a, o, m, inv, lp);
    logSoftmax(b, o, m, inv, lq);
    let js = 0;
    let pg = 0;
    let qg = 0;
    for (let k = 0; k < m; k++) {
      const hi = Math.max(lp[k], lq[k]);
      const lo = Math.min(lp[k], lq[k]);
      const lm = hi === -Infinity ? -Infinity : hi + Math.log1p(Math.exp(lo - hi)) - LN2;
      const p = Math.exp(lp[k]);
      const q = Math.exp(lq[k]);
      const gp = p > 0 ? 0.5 * (lp[k] - lm) : 0;
      const gq = q > 0 ? 0.5 * (lq[k] - lm) : 0;
      js += p * gp + q * gq;
      pg += p * gp;
      qg += q * gq;
      ga[o + k] = gp; // temporarily dJSD/dp
      gb[o + k] = gq;
    }
    total += js;
    for (let k = 0; k < m; k++) {
      ga[o + k] = (Math.exp(lp[k]) * (ga[o + k] - pg)) / n;
      gb[o + k] = (Math.exp(lq[k]) * (gb[o + k] - qg)) / n;
    }
  }
  const gx = zerosLike(x.data, x.data.length);
  const gy = zerosLike(y.data, y.data.length);
  const gr = zerosLike(ref.data, ref.data.length);
  addMatmulGB(gx, ga, n, ref, inv);
  addMatmulGB(gy, gb, n, ref, inv);
  addMatmulGtA(gr, ga, m, x, inv);
  addMatmulGtA(gr, gb, m, y, inv);
  return { loss: total / n, grads: { x: gx, y: gy, ref: gr } };
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
 * Theory, 1991) for JSD. The study pairs it with InfoNCE; its exact formulation is not
 * public to us, so temperature and sides are configurable.
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
export class JensenShannonLoss implements ParallelLoss {
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
    const { size: b, dim } = checkBatch('JensenShannonLoss', batch);
    const opts = { temperature: this.temperature };
    const gqp = zerosLike(batch.queryPivot.data, b * dim);
    const gqt = zerosLike(batch.queryPivot.data, b * dim);
    const gdp = zerosLike(batch.queryPivot.data, b * dim);
    const gdt = zerosLike(batch.queryPivot.data, b * dim);
    const w = this.sides === 'both' ? 0.5 : 1;
    let loss = 0;
    const parts: Record<string, number> = {};
    if (this.sides !== 'documents') {
      const r = jensenShannonSoftmax(batch.queryPivot, batch.queryTarget, vstack([batch.docPivot, batch.docTarget]), opts);
      loss += w * r.loss;
      parts.jsdQueries = r.loss;
      for (let k = 0; k < b * dim; k++) {
        gqp[k] += w * r.grads.x[k];
        gqt[k] += w * r.grads.y[k];
        gdp[k] += w * r.grads.ref[k];
        gdt[k] += w * r.grads.ref[b * dim + k];
      }
    }
    if (this.sides !== 'queries') {
      const r = jensenShannonSoftmax(batch.docPivot, batch.docTarget, vstack([batch.queryPivot, batch.queryTarget]), opts);
      loss += w * r.loss;
      parts.jsdDocuments = r.loss;
      for (let k = 0; k < b * dim; k++) {
        gdp[k] += w * r.grads.x[k];
        gdt[k] += w * r.grads.y[k];
        gqp[k] += w * r.grads.ref[k];
        gqt[k] += w * r.grads.ref[b * dim + k];
      }
    }
    parts.jsd = loss;
    return { loss, grads: { queryPivot: gqp, queryTarget: gqt, docPivot: gdp, docTarget: gdt }, parts };
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'JensenShannonLoss', temperature: this.temperature, sides: this.sides };
  }
}

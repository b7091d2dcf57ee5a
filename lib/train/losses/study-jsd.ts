import { xlError } from '../../util/errors.js';
import { zerosLike, type FloatArray, type Matrix } from '../../nn/matrix.js';
import { checkBatch, type LossResult, type ParallelBatch, type ParallelLoss } from './types.js';

const LN2 = Math.LN2;

/** Options of {@link StudyJsdLoss}; defaults in the field comments. */
export interface StudyJsdLossOptions {
  /** Temperature τ of the softmax over dimensions, P(z) = softmax(z/τ). The study gives none. Default 1. */
  temperature?: number;
  /**
   * L2-normalise each embedding inside the loss before the softmax (with the gradient through
   * the normalisation). Default true. The heads of `lib/train` already hand over unit vectors
   * (the retriever ranks by cosine), so for them `false` changes the gradient's radial part
   * only, which their own normalisation removes; it matters for batches of raw embeddings.
   */
  normalize?: boolean;
  /** ε inside the square root, sqrt(JSD + ε), so that the gradient is finite at JSD = 0. Default 1e-8. */
  epsilon?: number;
}

/**
 * StudyJsdLoss: the study's L_JSD, a Jensen-Shannon distance between the *dimension
 * distributions* of a passage and its translation. For sample b, with z = docPivot_b (p_en)
 * and w = docTarget_b (p_tgt), optionally L2-normalised:
 *
 *   P(z)_i = exp(z_i/τ) / Σ_k exp(z_k/τ)       (softmax over the embedding's own dimensions)
 *   L_JSD  = (1/B) Σ_b sqrt( JSD(P(z_b) ‖ P(w_b)) + ε )
 *   JSD(p‖q) = ½ KL(p‖m) + ½ KL(q‖m),  m = ½(p + q)   (natural log, 0 ≤ JSD ≤ ln 2)
 *
 * The write-up of the study puts "+ ε" outside the square root; we put it inside, so that
 * the gradient d sqrt(J)/dJ = 1/(2 sqrt(J + ε)) stays finite when the two passages are
 * identical. Gradient: dJ/dp_k = ½ log(p_k/m_k), through the softmax
 * dJ/da_k = p_k (g_k − Σ_l p_l g_l), a = z/τ, then through the normalisation
 * dL/dx = (g − u(u·g))/|x| with u = x/|x|.
 *
 * Magnitude: unit vectors in d dimensions have coordinates of order 1/sqrt(d), so at τ = 1
 * the softmax is nearly uniform and JSD ≈ |z − w|² / (8d): about 1e-4 for d = 368 and
 * cos(z, w) = 0.7, hence L_JSD ≈ 0.01 (watch `parts.jsd` in `loss.csv`). A smaller τ scales
 * the JSD by about 1/τ².
 *
 * Reference: arXiv 2604.05684 (ICLR 2026), the alignment term of its objective (definition
 * from a public write-up; the code is not released); Endres & Schindelin, "A new metric for
 * probability distributions" (IEEE Trans. Inf. Theory, 2003) for sqrt(JSD) as a metric.
 *
 * | input      | role                                              |
 * |------------|---------------------------------------------------|
 * | docPivot   | p_en: its dimension distribution is matched        |
 * | docTarget  | p_tgt: the same passage in the target language     |
 * | queryPivot, queryTarget | unused (gradient 0)                   |
 *
 * Related: {@link JensenShannonLoss} (ours: JSD between *score* distributions over in-batch
 * candidates), {@link StudyLoss} (L_JSD + L_NCE). Alone it has a trivial minimum (all
 * passages equal): the study's "without L_NCE" row.
 *
 * @throws XlalignError when τ ≤ 0 or ε < 0, or the batch's shapes disagree (naming the field).
 * @example
 * const jsd = new StudyJsdLoss();               // τ = 1, normalised, ε = 1e-8
 * const { loss, parts } = jsd.forward(batch);   // parts.jsd = loss, parts.jsdRaw = mean JSD
 */
export class StudyJsdLoss implements ParallelLoss {
  readonly temperature: number;
  readonly normalize: boolean;
  readonly epsilon: number;

  constructor(options: StudyJsdLossOptions = {}) {
    const { temperature = 1, normalize = true, epsilon = 1e-8 } = options;
    if (!(temperature > 0)) throw xlError('StudyJsdLoss', `temperature must be > 0, got ${temperature}`);
    if (!(epsilon >= 0)) throw xlError('StudyJsdLoss', `epsilon must be >= 0, got ${epsilon}`);
    this.temperature = temperature;
    this.normalize = normalize;
    this.epsilon = epsilon;
  }

  /** Loss and gradients (docPivot and docTarget; the queries get zeros). `parts.jsdRaw` is the mean JSD before the square root. */
  forward(batch: ParallelBatch): LossResult {
    const { size, dim } = checkBatch('StudyJsdLoss', batch);
    const gz = zerosLike(batch.docPivot.data, size * dim);
    const gw = zerosLike(batch.docTarget.data, size * dim);
    const z = new Float64Array(dim);
    const w = new Float64Array(dim);
    const lp = new Float64Array(dim);
    const lq = new Float64Array(dim);
    const gp = new Float64Array(dim);
    const gq = new Float64Array(dim);
    const inv = 1 / this.temperature;
    let total = 0;
    let totalJsd = 0;
    for (let b = 0; b < size; b++) {
      const nz = this.row(batch.docPivot, b, z);
      const nw = this.row(batch.docTarget, b, w);
      logSoftmax(z, inv, lp);
      logSoftmax(w, inv, lq);
      let jsd = 0;
      let pg = 0;
      let qg = 0;
      for (let k = 0; k < dim; k++) {
        const hi = Math.max(lp[k], lq[k]);
        const lm = hi + Math.log1p(Math.exp(Math.min(lp[k], lq[k]) - hi)) - LN2;
        const p = Math.exp(lp[k]);
        const q = Math.exp(lq[k]);
        gp[k] = 0.5 * (lp[k] - lm);
        gq[k] = 0.5 * (lq[k] - lm);
        jsd += p * gp[k] + q * gq[k];
        pg += p * gp[k];
        qg += q * gq[k];
      }
      jsd = Math.max(0, jsd);
      const root = Math.sqrt(jsd + this.epsilon);
      total += root;
      totalJsd += jsd;
      // d(mean sqrt)/dJ, and dJ/da = p (g − Σ p g), a = z/τ
      const scale = inv / (2 * root * size);
      for (let k = 0; k < dim; k++) {
        gp[k] = Math.exp(lp[k]) * (gp[k] - pg) * scale;
        gq[k] = Math.exp(lq[k]) * (gq[k] - qg) * scale;
      }
      this.backRow(gp, z, nz, gz, b);
      this.backRow(gq, w, nw, gw, b);
    }
    const loss = total / size;
    return {
      loss,
      grads: { queryPivot: zerosLike(batch.queryPivot.data, size * dim), queryTarget: zerosLike(batch.queryTarget.data, size * dim), docPivot: gz, docTarget: gw },
      parts: { jsd: loss, jsdRaw: totalJsd / size },
    };
  }

  /** Row b of m into `out` (normalised when asked); returns its norm before normalising (1 when not normalising). */
  private row(m: Matrix, b: number, out: Float64Array): number {
    const o = b * m.cols;
    let s = 0;
    for (let k = 0; k < m.cols; k++) {
      out[k] = m.data[o + k];
      s += out[k] * out[k];
    }
    if (!this.normalize) return 1;
    const norm = Math.sqrt(s);
    if (!(norm > 0)) throw xlError('StudyJsdLoss', `row ${b} is a zero vector; it cannot be L2-normalised`);
    for (let k = 0; k < m.cols; k++) out[k] /= norm;
    return norm;
  }

  /** Write dL/d(row b) from dL/d(used vector) g: through the normalisation when on. */
  private backRow(g: Float64Array, u: Float64Array, norm: number, grad: FloatArray, b: number): void {
    const o = b * u.length;
    let ug = 0;
    if (this.normalize) for (let k = 0; k < u.length; k++) ug += u[k] * g[k];
    for (let k = 0; k < u.length; k++) grad[o + k] = (g[k] - (this.normalize ? u[k] * ug : 0)) / norm;
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'StudyJsdLoss', temperature: this.temperature, normalize: this.normalize, epsilon: this.epsilon };
  }
}

/** log softmax(scale · x) into out. */
function logSoftmax(x: Float64Array, scale: number, out: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < x.length; k++) if (x[k] * scale > max) max = x[k] * scale;
  let sum = 0;
  for (let k = 0; k < x.length; k++) sum += Math.exp(x[k] * scale - max);
  const lse = max + Math.log(sum);
  for (let k = 0; k < x.length; k++) out[k] = x[k] * scale - lse;
}

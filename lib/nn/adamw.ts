import { xlError } from '../util/errors.js';
import type { FloatArray } from './matrix.js';

/** Options of {@link AdamW}. */
export interface AdamWOptions {
  /** Learning rate η. Default 1e-3. Mutable afterwards through `optimizer.lr` (schedules). */
  lr?: number;
  /** First-moment decay β₁. Default 0.9. */
  beta1?: number;
  /** Second-moment decay β₂. Default 0.999. */
  beta2?: number;
  /** ε added to √v̂. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay λ (0 = plain Adam). Default 0.01 (PyTorch's AdamW default). */
  weightDecay?: number;
}

interface State {
  m: Float64Array;
  v: Float64Array;
  /** Steps taken for this parameter (dense) or per row (sparse). */
  t: number;
  rowT?: Uint32Array;
  size: number;
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Alg. 2):
 * for each parameter θ with gradient g, at its step t:
 *
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)
 *   θ ← θ − η·λ·θ − η·m̂/(√v̂ + ε)
 *
 * (weight decay applied to θ directly, not through g; PyTorch's formula.) Moments are kept
 * in Float64Array per parameter name. Hand-written because it is a dozen lines and no
 * kept npm optimiser works on plain typed arrays.
 *
 * Sparse rows (embedding tables): {@link AdamW.stepRows} updates only the rows given,
 * with a per-row step count for bias correction and decay applied to those rows only
 * ("lazy" Adam, as PyTorch's SparseAdam / TensorFlow's LazyAdam: rows not in the batch
 * keep stale moments instead of decaying them).
 *
 * @example
 * const opt = new AdamW({ lr: 1e-3, weightDecay: 0.01 });
 * opt.step('W', weights, gradW);                  // dense
 * opt.stepRows('table', table, dim, rows, rowGrads); // sparse rows
 */
export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly states = new Map<string, State>();

  constructor(options: AdamWOptions = {}) {
    const { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01 } = options;
    if (!(lr > 0)) throw xlError('AdamW', `lr must be > 0, got ${lr}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw xlError('AdamW', `beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw xlError('AdamW', `beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps > 0)) throw xlError('AdamW', `eps must be > 0, got ${eps}`);
    if (!(weightDecay >= 0)) throw xlError('AdamW', `weightDecay must be >= 0, got ${weightDecay}`);
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  private state(name: string, size: number, rows?: number): State {
    let s = this.states.get(name);
    if (!s) {
      s = { m: new Float64Array(size), v: new Float64Array(size), t: 0, size };
      if (rows !== undefined) s.rowT = new Uint32Array(rows);
      this.states.set(name, s);
    } else if (s.size !== size) {
      throw xlError('AdamW', `parameter '${name}' has ${size} values, but ${s.size} at its first step`);
    }
    return s;
  }

  /**
   * One dense step on `param` (in place) with gradient `grad` of the same length.
   * @throws XlalignError when lengths differ or a gradient is not finite.
   */
  step(name: string, param: FloatArray, grad: ArrayLike<number>): void {
    if (grad.length !== param.length) {
      throw xlError('AdamW', `gradient of '${name}' has ${grad.length} values, parameter has ${param.length}`);
    }
    const s = this.state(name, param.length);
    s.t += 1;
    const { beta1: b1, beta2: b2, eps, lr } = this;
    const c1 = 1 - b1 ** s.t;
    const c2 = 1 - b2 ** s.t;
    const decay = 1 - lr * this.weightDecay;
    const { m, v } = s;
    for (let k = 0; k < param.length; k++) {
      const g = grad[k];
      if (!Number.isFinite(g)) throw xlError('AdamW', `gradient of '${name}' is not finite at index ${k} (${g})`);
      m[k] = b1 * m[k] + (1 - b1) * g;
      v[k] = b2 * v[k] + (1 - b2) * g * g;
      param[k] = param[k] * decay - (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + eps);
    }
  }

  /**
   * One sparse step on the rows `rows` of a `? x dim` table (in place). `rowGrads` holds
   * one gradient row per entry of `rows` (`rows.length x dim`); a row listed twice has
   * its gradients summed. Rows not listed are untouched.
   * @throws XlalignError when shapes disagree or a row index is out of range.
   */
  stepRows(name: string, table: FloatArray, dim: number, rows: ArrayLike<number>, rowGrads: ArrayLike<number>): void {
    if (table.length % dim !== 0) throw xlError('AdamW', `table '${name}' length ${table.length} is not a multiple of dim ${dim}`);
    if (rowGrads.length !== rows.length * dim) {
      throw xlError('AdamW', `rowGrads of '${name}' has ${rowGrads.length} values, expected rows.length*dim = ${rows.length * dim}`);
    }
    const nRows = table.length / dim;
    const s = this.state(name, table.length, nRows);
    // Sum duplicate rows first so that each row takes exactly one step.
    const merged = new Map<number, Float64Array>();
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (!Number.isInteger(row) || row < 0 || row >= nRows) {
        throw xlError('AdamW', `row ${row} of '${name}' is out of range [0, ${nRows})`);
      }
      let g = merged.get(row);
      if (!g) merged.set(row, (g = new Float64Array(dim)));
      for (let j = 0; j < dim; j++) g[j] += rowGrads[r * dim + j];
    }
    const { beta1: b1, beta2: b2, eps, lr } = this;
    const decay = 1 - lr * this.weightDecay;
    const { m, v } = s;
    const rowT = s.rowT!;
    s.t += 1;
    for (const [row, g] of merged) {
      const t = ++rowT[row];
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const o = row * dim;
      for (let j = 0; j < dim; j++) {
        const k = o + j;
        if (!Number.isFinite(g[j])) throw xlError('AdamW', `gradient of '${name}' row ${row} is not finite (${g[j]})`);
        m[k] = b1 * m[k] + (1 - b1) * g[j];
        v[k] = b2 * v[k] + (1 - b2) * g[j] * g[j];
        table[k] = table[k] * decay - (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + eps);
      }
    }
  }

  /** Steps taken for `name` (0 if never stepped). */
  steps(name: string): number {
    return this.states.get(name)?.t ?? 0;
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'AdamW', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }
}

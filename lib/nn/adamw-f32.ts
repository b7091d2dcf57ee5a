import { xlError } from '../util/errors.js';
import type { AdamWOptions } from './adamw.js';

/** One parameter's optimizer state: moments, step count, and per-row step counts for sparse tables. */
export interface AdamWF32State {
  m: Float32Array;
  v: Float32Array;
  t: number;
  rowT?: Uint32Array;
}

/**
 * AdamW with float32 moments and exportable state, for transformer encoders: the same update
 * as {@link AdamW} of `./adamw.ts` (Loshchilov & Hutter, ICLR 2019, Alg. 2; PyTorch's formula)
 *
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ(1 − ηλ) − η·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 *
 * but with moments in Float32Array (a 250k x 768 embedding table's moments are 1.5 GB in
 * float32, twice that in float64, as PyTorch also keeps them in the parameter's dtype) and
 * with {@link AdamWF32.exportState} / {@link AdamWF32.importState}, so a training run can be
 * checkpointed and resumed bit for bit. Sparse rows as `AdamW.stepRows` (lazy Adam: per-row
 * step counts, only the listed rows move).
 *
 * @example
 * const opt = new AdamWF32({ lr: 2e-5, weightDecay: 0.01 });
 * opt.step('encoder.layer.0.output.dense.weight', w, g);
 */
export class AdamWF32 {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly states = new Map<string, AdamWF32State>();

  constructor(options: AdamWOptions = {}) {
    const { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01 } = options;
    if (!(lr > 0)) throw xlError('AdamWF32', `lr must be > 0, got ${lr}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw xlError('AdamWF32', `beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw xlError('AdamWF32', `beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps > 0)) throw xlError('AdamWF32', `eps must be > 0, got ${eps}`);
    if (!(weightDecay >= 0)) throw xlError('AdamWF32', `weightDecay must be >= 0, got ${weightDecay}`);
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  private state(name: string, size: number, rows?: number): AdamWF32State {
    let s = this.states.get(name);
    if (!s) {
      s = { m: new Float32Array(size), v: new Float32Array(size), t: 0 };
      if (rows !== undefined) s.rowT = new Uint32Array(rows);
      this.states.set(name, s);
    } else if (s.m.length !== size) {
      throw xlError('AdamWF32', `parameter '${name}' has ${size} values, but ${s.m.length} at its first step`);
    }
    return s;
  }

  /**
   * One dense step on `param` in place; `weightDecay` overrides the optimizer's λ for this
   * parameter (0 for biases and LayerNorm weights, as Hugging Face's and sentence-transformers' trainers do).
   * @throws XlalignError for a length mismatch or a non-finite gradient.
   */
  step(name: string, param: Float32Array, grad: ArrayLike<number>, weightDecay: number = this.weightDecay): void {
    if (grad.length !== param.length) throw xlError('AdamWF32', `gradient of '${name}' has ${grad.length} values, parameter has ${param.length}`);
    const s = this.state(name, param.length);
    s.t += 1;
    const { beta1: b1, beta2: b2, eps, lr } = this;
    const c1 = 1 - b1 ** s.t;
    const c2 = 1 - b2 ** s.t;
    const decay = 1 - lr * weightDecay;
    const { m, v } = s;
    for (let k = 0; k < param.length; k++) {
      const g = grad[k];
      if (!Number.isFinite(g)) throw xlError('AdamWF32', `gradient of '${name}' is not finite at index ${k} (${g})`);
      m[k] = b1 * m[k] + (1 - b1) * g;
      v[k] = b2 * v[k] + (1 - b2) * g * g;
      param[k] = param[k] * decay - (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + eps);
    }
  }

  /** One sparse step on distinct `rows` of a `? x dim` table; `rowGrads` is `rows.length x dim`. */
  stepRows(name: string, table: Float32Array, dim: number, rows: ArrayLike<number>, rowGrads: ArrayLike<number>): void {
    if (rowGrads.length !== rows.length * dim) throw xlError('AdamWF32', `rowGrads of '${name}' has ${rowGrads.length} values, expected ${rows.length} x ${dim}`);
    const nRows = table.length / dim;
    const s = this.state(name, table.length, nRows);
    s.t += 1;
    const { beta1: b1, beta2: b2, eps, lr } = this;
    const decay = 1 - lr * this.weightDecay;
    const { m, v } = s;
    const seen = new Set<number>();
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (!Number.isInteger(row) || row < 0 || row >= nRows || seen.has(row)) throw xlError('AdamWF32', `row ${row} of '${name}' is out of range [0, ${nRows}) or repeated`);
      seen.add(row);
      const t = ++s.rowT![row];
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      for (let j = 0; j < dim; j++) {
        const k = row * dim + j;
        const g = rowGrads[r * dim + j];
        if (!Number.isFinite(g)) throw xlError('AdamWF32', `gradient of '${name}' row ${row} is not finite (${g})`);
        m[k] = b1 * m[k] + (1 - b1) * g;
        v[k] = b2 * v[k] + (1 - b2) * g * g;
        table[k] = table[k] * decay - (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + eps);
      }
    }
  }

  /** The state of every parameter stepped so far (the arrays themselves, not copies). */
  exportState(): Map<string, AdamWF32State> {
    return new Map(this.states);
  }

  /** Replace the state (from {@link exportState}, e.g. read from a checkpoint). */
  importState(states: Map<string, AdamWF32State>): void {
    this.states.clear();
    for (const [k, s] of states) this.states.set(k, s);
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'AdamW', moments: 'float32', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }
}

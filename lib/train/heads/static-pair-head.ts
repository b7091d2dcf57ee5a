import { xlError } from '../../util/errors.js';
import { AdamW } from '../../nn/adamw.js';
import type { PairBatch, PairGrads } from '../losses/types.js';
import type { TrainableHead } from '../head.js';
import { addSparse, backwardStatic, forwardStatic, type SparseRows, type StaticEmbeddingModel, type StaticForward } from '../../models/static/table.js';

/** A translation pair of the static model's pretraining: `text` in `lang`, `en` its English counterpart. */
export interface PairText {
  lang: string;
  text: string;
  en: string;
}

/** Options of {@link StaticPairHead}. */
export interface StaticPairHeadOptions {
  /** AdamW decoupled weight decay (toward 0). Default 0. */
  weightDecay?: number;
  /**
   * Decoupled decay λ_a toward the anchor table T₀, applied after each step to the rows the
   * step touched: `T[r] ← T₀[r] + (T[r] − T₀[r])·(1 − lr·λ_a)`. Default 0 (off).
   */
  anchorDecay?: number;
  /** T₀ for `anchorDecay` (same length as the table). Default: a copy of the table when the head is made. */
  anchor?: ArrayLike<number>;
}

/**
 * {@link TrainableHead} of the static model's pretraining on translation pairs: sample i is
 * pair i; a batch's texts and their English sides are forwarded through `forwardStatic`
 * (mean of token vectors, L2-normalised) as a {@link PairBatch} (`anchors` = texts,
 * `positives` = English), the sparse row gradients of both sides are merged (`addSparse`)
 * into one lazy-AdamW step, then the touched rows are pulled toward the anchor table when
 * `anchorDecay > 0` ({@link pullTowardAnchor}). Owns its AdamW. Texts are tokenized once.
 *
 * @throws XlalignError for no pairs, anchorDecay < 0, or an anchor of the wrong length.
 * @example
 * const head = new StaticPairHead(model, pairs, { anchorDecay: 1 });
 * await trainLoop(head, pairs.length, { loss: new SymmetricInfoNCELoss(), lr: 0.02, schedule: 'linear-floor', warmupRatio: 0 });
 */
export class StaticPairHead implements TrainableHead<PairBatch, PairGrads> {
  readonly optimizer: AdamW;
  readonly anchorDecay: number;
  private readonly textIds: number[][];
  private readonly enIds: number[][];
  private readonly anchor?: ArrayLike<number>;
  private last?: [StaticForward, StaticForward];
  private pending: SparseRows[] = [];

  constructor(
    readonly model: StaticEmbeddingModel,
    pairs: readonly PairText[],
    options: StaticPairHeadOptions = {},
  ) {
    const { weightDecay = 0, anchorDecay = 0 } = options;
    if (pairs.length === 0) throw xlError('StaticPairHead', 'no pairs');
    if (!(anchorDecay >= 0)) throw xlError('StaticPairHead', `anchorDecay must be >= 0, got ${anchorDecay}`);
    if (options.anchor && options.anchor.length !== model.table.length) {
      throw xlError('StaticPairHead', `anchor has ${options.anchor.length} values, but the table ${model.table.length} (vocabSize x dim)`);
    }
    this.optimizer = new AdamW({ weightDecay });
    this.anchorDecay = anchorDecay;
    // Copy of the initial table, only when anchoring (32000 x 368 fp32 = 47 MB).
    this.anchor = anchorDecay > 0 ? (options.anchor ?? model.table.slice()) : undefined;
    this.textIds = model.encode(pairs.map((p) => p.text));
    this.enIds = model.encode(pairs.map((p) => p.en));
  }

  /** Normalised vectors of the batch's texts (`anchors`) and English sides (`positives`). */
  async forward(batch: readonly number[]): Promise<PairBatch> {
    const { table, dim } = this.model;
    const fx = forwardStatic(table, dim, batch.map((i) => this.textIds[i]));
    const fe = forwardStatic(table, dim, batch.map((i) => this.enIds[i]));
    this.last = [fx, fe];
    return { anchors: fx.embeddings, positives: fe.embeddings };
  }

  /** Sparse table gradient of both sides of the last forward (kept until {@link step}). */
  async backward(grads: PairGrads): Promise<void> {
    if (!this.last) throw xlError('StaticPairHead.backward', 'no forward to go back through; call forward(batch) first');
    const [fx, fe] = this.last;
    this.pending.push(addSparse(this.model.dim, backwardStatic(fx, grads.anchors), backwardStatic(fe, grads.positives)));
  }

  /** One lazy-AdamW step at `lr` on the touched rows, then the pull toward the anchor (keep = 1 − lr·anchorDecay). */
  async step(lr: number): Promise<void> {
    if (this.pending.length === 0) return;
    const grad = this.pending.length === 1 ? this.pending[0] : addSparse(this.model.dim, ...this.pending);
    this.pending = [];
    this.optimizer.lr = lr;
    this.model.step(this.optimizer, grad);
    if (this.anchor) pullTowardAnchor(this.model.table, this.anchor, this.model.dim, grad.rows, 1 - lr * this.anchorDecay);
  }

  /** `{ head, weightDecay, anchorDecay, optimizer }` for the loop's config. */
  getConfig(): Record<string, unknown> {
    const { lr: _lr, ...optimizer } = this.optimizer.getConfig();
    return { head: 'StaticPairHead', weightDecay: this.optimizer.weightDecay, anchorDecay: this.anchorDecay, optimizer };
  }
}

/**
 * In place, for each listed row r: `table[r] = anchor[r] + (table[r] − anchor[r]) · keep`.
 * Hand-written (a few lines over a typed array; AdamW itself only decays toward 0).
 * @example pullTowardAnchor(model.table, init, 256, grad.rows, 1 - lr * 0.5);
 */
export function pullTowardAnchor(table: Float32Array | Float64Array, anchor: ArrayLike<number>, dim: number, rows: ArrayLike<number>, keep: number): void {
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * dim;
    for (let j = o; j < o + dim; j++) table[j] = anchor[j] + (table[j] - anchor[j]) * keep;
  }
}

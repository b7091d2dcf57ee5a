import { xlError } from '../../util/errors.js';
import { createRng, shuffled } from '../../util/rng.js';
import { AdamW } from '../../nn/adamw.js';
import { infoNCE } from '../losses/info-nce.js';
import { addSparse, backwardStatic, forwardStatic, type StaticEmbeddingModel } from '../../models/static/table.js';

/**
 * Train a static embedding model on translation pairs with symmetric InfoNCE over
 * in-batch negatives (sentence-transformers' MultipleNegativesSymmetricRankingLoss):
 *
 *   L = ½ [ InfoNCE(X → E) + InfoNCE(E → X) ]
 *
 * over a batch of B pairs (x_i, e_i), each direction a softmax over the B candidates of
 * the other side at temperature τ (`lib/train/losses/info-nce.ts`). Every batch holds
 * pairs of **one** language (shuffled), so the same English phrase (CLDR has it for every
 * language) never appears twice in a batch as a false negative. Batches of all languages
 * are shuffled together; gradients flow through mean pooling and normalisation into the
 * rows of the tokens used (lazy AdamW).
 */

/** A training pair: `text` in `lang`, `en` its English counterpart. */
export interface PairText {
  lang: string;
  text: string;
  en: string;
}

/** Options of {@link trainStaticModel}; all have defaults. */
export interface TrainStaticOptions {
  /** Passes over the pairs. Default 4. */
  epochs?: number;
  /** Pairs per batch (the last batch of a language may be smaller; batches under 2 are dropped). Default 256. */
  batchSize?: number;
  /** AdamW learning rate, decayed linearly to 10% over training. Default 0.02. */
  lr?: number;
  /** AdamW decoupled weight decay (toward 0). Default 0. */
  weightDecay?: number;
  /**
   * Decoupled weight decay λ_a **toward the initial table** T₀ (default 0 = off). After each
   * AdamW step, every row r that the step touched is pulled back toward its initial value:
   *
   *   T[r] ← T₀[r] + (T[r] − T₀[r]) · (1 − lr_t · λ_a)
   *
   * (lr_t the scheduled learning rate of the step; lazy, like the AdamW step: rows not in
   * the batch are left alone). Equivalent to training a residual ΔT on a frozen random
   * table T₀ with decoupled decay on ΔT. The random initial table is a pure token-overlap
   * matcher, which is strong within one language; the anchor keeps that lexical identity
   * while the residual learns the cross-lingual alignment. Must satisfy lr · λ_a ≤ 1.
   */
  anchorDecay?: number;
  /**
   * The table T₀ that `anchorDecay` pulls toward (same length as `model.table`). Default: a
   * copy of `model.table` taken when training starts (its initial random values).
   */
  anchor?: ArrayLike<number>;
  /** InfoNCE temperature τ. Default 0.05. */
  temperature?: number;
  /** Seed of the batch order. Default 42. */
  seed?: number;
  /** Called after each epoch with its mean loss. Default: nothing. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

/** What {@link trainStaticModel} returns: the settings used and the mean loss of each epoch. */
export interface TrainStaticResult {
  config: Required<Omit<TrainStaticOptions, 'onEpoch' | 'anchor'>>;
  epochLosses: number[];
  steps: number;
}

/**
 * Train `model` in place on `pairs`.
 *
 * @throws XlalignError for fewer than 2 pairs, a non-positive batch size / epoch count, a
 *   negative `anchorDecay` or lr · anchorDecay > 1, or an `anchor` of the wrong length.
 * @example
 * const model = StaticEmbeddingModel.create(vocab, { dim: 256, seed: 42 });
 * const { epochLosses } = trainStaticModel(model, corpus.train, { epochs: 4 });
 * // keep the random table as an anchor (same-language token matching survives training)
 * trainStaticModel(model2, corpus.train, { epochs: 4, anchorDecay: 10 });
 */
export function trainStaticModel(model: StaticEmbeddingModel, pairs: readonly PairText[], options: TrainStaticOptions = {}): TrainStaticResult {
  const { epochs = 4, batchSize = 256, lr = 0.02, weightDecay = 0, anchorDecay = 0, temperature = 0.05, seed = 42, onEpoch } = options;
  if (pairs.length < 2) throw xlError('trainStaticModel', `need at least 2 pairs, got ${pairs.length}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 2)) throw xlError('trainStaticModel', `batchSize must be an integer >= 2, got ${batchSize}`);
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw xlError('trainStaticModel', `epochs must be an integer >= 1, got ${epochs}`);
  if (!(anchorDecay >= 0 && lr * anchorDecay <= 1)) {
    throw xlError('trainStaticModel', `anchorDecay must be >= 0 with lr * anchorDecay <= 1 (lr ${lr}), got ${anchorDecay}`);
  }
  if (options.anchor && options.anchor.length !== model.table.length) {
    throw xlError('trainStaticModel', `anchor has ${options.anchor.length} values, but the table ${model.table.length} (vocabSize x dim)`);
  }
  // Copy of the initial table, only when anchoring (32000 x 256 fp32 = 33 MB).
  const anchor = anchorDecay > 0 ? (options.anchor ?? model.table.slice()) : undefined;
  const rng = createRng(seed);
  const textIds = model.encode(pairs.map((p) => p.text));
  const enIds = model.encode(pairs.map((p) => p.en));
  const byLang = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const list = byLang.get(p.lang) ?? [];
    list.push(i);
    byLang.set(p.lang, list);
  });
  const langs = [...byLang.keys()].sort();
  const batchesPerEpoch = langs.reduce((s, l) => s + Math.floor(byLang.get(l)!.length / batchSize) + (byLang.get(l)!.length % batchSize >= 2 ? 1 : 0), 0);
  const totalSteps = Math.max(1, epochs * batchesPerEpoch);
  const opt = new AdamW({ lr, weightDecay });
  const epochLosses: number[] = [];
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const batches: number[][] = [];
    for (const l of langs) {
      const idx = shuffled(byLang.get(l)!, rng);
      for (let s = 0; s < idx.length; s += batchSize) {
        const b = idx.slice(s, s + batchSize);
        if (b.length >= 2) batches.push(b);
      }
    }
    let sum = 0;
    for (const b of shuffled(batches, rng)) {
      opt.lr = lr * (1 - 0.9 * (step / totalSteps));
      const fx = forwardStatic(model.table, model.dim, b.map((i) => textIds[i]));
      const fe = forwardStatic(model.table, model.dim, b.map((i) => enIds[i]));
      const a = infoNCE(fx.embeddings, fe.embeddings, (i) => [i], { temperature });
      const c = infoNCE(fe.embeddings, fx.embeddings, (i) => [i], { temperature });
      const gx = new Float64Array(a.grads.anchors.length);
      const ge = new Float64Array(a.grads.candidates.length);
      for (let k = 0; k < gx.length; k++) {
        gx[k] = 0.5 * (a.grads.anchors[k] + c.grads.candidates[k]);
        ge[k] = 0.5 * (a.grads.candidates[k] + c.grads.anchors[k]);
      }
      const grad = addSparse(model.dim, backwardStatic(fx, gx), backwardStatic(fe, ge));
      model.step(opt, grad);
      if (anchor) pullTowardAnchor(model.table, anchor, model.dim, grad.rows, 1 - opt.lr * anchorDecay);
      sum += 0.5 * (a.loss + c.loss);
      step++;
    }
    epochLosses.push(sum / batches.length);
    onEpoch?.(epoch, sum / batches.length);
  }
  return { config: { epochs, batchSize, lr, weightDecay, anchorDecay, temperature, seed }, epochLosses, steps: step };
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

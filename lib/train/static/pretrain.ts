import { xlError } from '../../util/errors.js';
import { shuffled, type Rng } from '../../util/rng.js';
import type { StaticEmbeddingModel } from '../../models/static/table.js';
import { SymmetricInfoNCELoss } from '../losses/symmetric-info-nce.js';
import { StaticPairHead, type PairText } from '../heads/static-pair-head.js';
import { trainLoop } from '../train-loop.js';

export { pullTowardAnchor, type PairText } from '../heads/static-pair-head.js';

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
 *
 * It runs through the shared {@link trainLoop}: the head is {@link StaticPairHead}, the
 * loss the shared {@link SymmetricInfoNCELoss}, the batches {@link languageBatches}, the
 * schedule `linear-floor` without warmup (lr_t = lr·(1 − 0.9·t/T)).
 */

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
  /** Called after each epoch (0-based) with its mean loss. Default: nothing. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
  /** A progress bar on stderr (see `trainLoop`). Default false. */
  progress?: boolean;
}

/** What {@link trainStaticModel} returns: the settings used and the mean loss of each epoch. */
export interface TrainStaticResult {
  config: Required<Omit<TrainStaticOptions, 'onEpoch' | 'anchor' | 'progress'>>;
  epochLosses: number[];
  steps: number;
}

/**
 * The batches of one pretraining epoch: for each language (sorted), its pair indices
 * shuffled and cut into batches of `batchSize` (the last one smaller; batches under 2
 * dropped); then all batches shuffled. Draws from `rng` in that order.
 * @example const batchesOf = languageBatches(pairs, 256); trainLoop(head, pairs.length, { batches: batchesOf });
 */
export function languageBatches(pairs: readonly PairText[], batchSize: number): (rng: Rng) => number[][] {
  const byLang = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const list = byLang.get(p.lang) ?? [];
    list.push(i);
    byLang.set(p.lang, list);
  });
  const langs = [...byLang.keys()].sort();
  return (rng) => {
    const batches: number[][] = [];
    for (const l of langs) {
      const idx = shuffled(byLang.get(l)!, rng);
      for (let s = 0; s < idx.length; s += batchSize) {
        const b = idx.slice(s, s + batchSize);
        if (b.length >= 2) batches.push(b);
      }
    }
    return shuffled(batches, rng);
  };
}

/**
 * Train `model` in place on `pairs`, through the shared {@link trainLoop}.
 *
 * @throws XlalignError for fewer than 2 pairs, a non-positive batch size / epoch count, a
 *   negative `anchorDecay` or lr · anchorDecay > 1, or an `anchor` of the wrong length.
 * @example
 * const model = StaticEmbeddingModel.create(vocab, { dim: 256, seed: 42 });
 * const { epochLosses } = await trainStaticModel(model, corpus.train, { epochs: 4 });
 * // keep the random table as an anchor (same-language token matching survives training)
 * await trainStaticModel(model2, corpus.train, { epochs: 4, anchorDecay: 10 });
 */
export async function trainStaticModel(model: StaticEmbeddingModel, pairs: readonly PairText[], options: TrainStaticOptions = {}): Promise<TrainStaticResult> {
  const { epochs = 4, batchSize = 256, lr = 0.02, weightDecay = 0, anchorDecay = 0, temperature = 0.05, seed = 42, onEpoch, progress = false } = options;
  if (pairs.length < 2) throw xlError('trainStaticModel', `need at least 2 pairs, got ${pairs.length}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 2)) throw xlError('trainStaticModel', `batchSize must be an integer >= 2, got ${batchSize}`);
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw xlError('trainStaticModel', `epochs must be an integer >= 1, got ${epochs}`);
  if (!(anchorDecay >= 0 && lr * anchorDecay <= 1)) {
    throw xlError('trainStaticModel', `anchorDecay must be >= 0 with lr * anchorDecay <= 1 (lr ${lr}), got ${anchorDecay}`);
  }
  if (options.anchor && options.anchor.length !== model.table.length) {
    throw xlError('trainStaticModel', `anchor has ${options.anchor.length} values, but the table ${model.table.length} (vocabSize x dim)`);
  }
  const head = new StaticPairHead(model, pairs, { weightDecay, anchorDecay, anchor: options.anchor });
  const result = await trainLoop(head, pairs.length, {
    loss: new SymmetricInfoNCELoss({ temperature }),
    batches: languageBatches(pairs, batchSize),
    epochs, batchSize, lr, seed, schedule: 'linear-floor', lrFloor: 0.1, warmupRatio: 0, progress,
    onEpoch: onEpoch && ((e, mean) => onEpoch(e - 1, mean)),
  });
  return { config: { epochs, batchSize, lr, weightDecay, anchorDecay, temperature, seed }, epochLosses: result.epochLosses, steps: result.steps };
}

import type { ParallelBatch, ParallelGrads } from './losses/types.js';

/**
 * The trainable seam: anything that turns a batch of training samples into embeddings and
 * can learn from the loss's gradients. The static table (`heads/static-parallel-head.ts`,
 * and `heads/static-pair-head.ts` for pretraining), the adapter (`heads/adapter-head.ts`) and
 * the transformer encoders (`lib/models/<family>`) implement it; {@link trainLoop} drives it.
 *
 * Every method is async, because a head's forward and backward may run on ONNX Runtime.
 * A head owns its parameters and its optimizer: the loop only says which learning rate
 * the schedule gives for this step.
 *
 * Contract of one step: `forward(batch)` -> the loss computes dL/d(embeddings) ->
 * `backward(grads)` accumulates parameter gradients -> `step(lr)` applies them and clears them.
 * A head may recompute activations in `backward` (GradCache style) instead of keeping them.
 *
 * `B` / `G` are the embeddings a batch gives and their gradients: by default the four
 * matrices of a parallel sample ({@link ParallelBatch}); the pretraining head gives pairs
 * (`PairBatch`). The loss given to the loop must take the same `B` and return the same `G`.
 */
export interface TrainableHead<B = ParallelBatch, G = ParallelGrads> {
  /** Embeddings of the texts of each sample index in `batch`, one row per sample in each matrix. */
  forward(batch: readonly number[]): Promise<B>;
  /** Accumulate parameter gradients for dL/d(embeddings) of the last forward. */
  backward(grads: G): Promise<void>;
  /** Apply the accumulated gradients at learning rate `lr` with the head's own optimizer, then clear them. */
  step(lr: number): Promise<void>;
  /** The optimizer's and head's hyperparameters, for config.json (merged into the loop's config). */
  getConfig(): Record<string, unknown>;
}

import type { ParallelBatch, ParallelGrads } from './losses/types.js';

/**
 * The trainable seam: anything that turns a batch of parallel training samples into
 * embeddings and can learn from the loss's gradients. The static table, the adapter and the
 * transformer encoders (`lib/models/<family>`) implement it; {@link trainLoop} drives it.
 *
 * Every method is async, because a head's forward and backward may run on ONNX Runtime.
 * A head owns its parameters and its optimizer: the loop only says which learning rate
 * the schedule gives for this step.
 *
 * Contract of one step: `forward(batch)` -> the loss computes dL/d(embeddings) ->
 * `backward(grads)` accumulates parameter gradients -> `step(lr)` applies them and clears them.
 * A head may recompute activations in `backward` (GradCache style) instead of keeping them.
 */
export interface TrainableHead {
  /** Embeddings of the texts of each sample index in `batch`, one row per sample in each matrix. */
  forward(batch: readonly number[]): Promise<ParallelBatch>;
  /** Accumulate parameter gradients for dL/d(embeddings) of the last forward. */
  backward(grads: ParallelGrads): Promise<void>;
  /** Apply the accumulated gradients at learning rate `lr` with the head's own optimizer, then clear them. */
  step(lr: number): Promise<void>;
  /** The optimizer's and head's hyperparameters, for config.json. */
  getConfig(): Record<string, unknown>;
}

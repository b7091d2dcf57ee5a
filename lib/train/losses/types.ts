import { xlError } from '../../util/errors.js';
import type { FloatArray, Matrix } from '../../nn/matrix.js';

/**
 * One training batch of B parallel samples as L2-normalised embeddings (each `B x dim`):
 * row b of every matrix belongs to sample b.
 *
 * | field       | content                                             |
 * |-------------|-----------------------------------------------------|
 * | queryPivot  | the question in the pivot language (English)        |
 * | queryTarget | the same question in the sample's target language   |
 * | docPivot    | the answer paragraph in the pivot language          |
 * | docTarget   | the same paragraph in the target language           |
 */
export interface ParallelBatch {
  queryPivot: Matrix;
  queryTarget: Matrix;
  docPivot: Matrix;
  docTarget: Matrix;
}

/** dL/d(each matrix of a {@link ParallelBatch}), same shapes, row-major. */
export interface ParallelGrads {
  queryPivot: FloatArray;
  queryTarget: FloatArray;
  docPivot: FloatArray;
  docTarget: FloatArray;
}

/** What a loss returns: the scalar, its gradients and, for combined losses, the parts. */
export interface LossResult {
  loss: number;
  grads: ParallelGrads;
  /** Named parts of the loss (unweighted), e.g. `{ infoNCE: 2.1, jsd: 0.03 }`. */
  parts: Record<string, number>;
}

/** A loss over parallel batches (what the training loop needs). */
export interface ParallelLoss {
  /** Loss and gradients for one batch. */
  forward(batch: ParallelBatch): LossResult;
  /** Hyperparameters, for logging next to results. */
  getConfig(): Record<string, unknown>;
}

/**
 * Any loss the training loop can drive: a batch of embeddings `B` in (what a head's
 * `forward` returns), the scalar, dL/d(embeddings) `G` (what the head's `backward` takes)
 * and named parts out. {@link ParallelLoss} is `BatchLoss<ParallelBatch, ParallelGrads>`;
 * the static model's pretraining uses `BatchLoss<PairBatch, PairGrads>`.
 */
export interface BatchLoss<B, G> {
  forward(batch: B): { loss: number; grads: G; parts: Record<string, number> };
  getConfig(): Record<string, unknown>;
}

/**
 * A batch of B translation pairs as L2-normalised embeddings (each `B x dim`): row b of
 * `anchors` and row b of `positives` are the two sides of pair b (sentence-transformers'
 * (anchor, positive) pairs; the static model's pretraining: a text and its English).
 */
export interface PairBatch {
  anchors: Matrix;
  positives: Matrix;
}

/** dL/d(each matrix of a {@link PairBatch}), same shapes, row-major. */
export interface PairGrads {
  anchors: FloatArray;
  positives: FloatArray;
}

/** Check that the four matrices of a batch have the same shape; throws naming the field. */
export function checkBatch(where: string, batch: ParallelBatch): { size: number; dim: number } {
  const { rows, cols } = batch.queryPivot;
  for (const field of ['queryTarget', 'docPivot', 'docTarget'] as const) {
    const m = batch[field];
    if (m.rows !== rows || m.cols !== cols) {
      throw xlError(where, `batch.${field} is ${m.rows}x${m.cols}, expected ${rows}x${cols} like batch.queryPivot`);
    }
  }
  return { size: rows, dim: cols };
}

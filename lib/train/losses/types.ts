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

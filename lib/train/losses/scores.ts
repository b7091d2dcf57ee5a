import { addMatmulGB, addMatmulGtA, matmulABt, vstack, zerosLike, type Matrix } from '../../nn/matrix.js';
import { checkBatch, type LossResult, type ParallelBatch, type ParallelGrads } from './types.js';

/**
 * The similarity matrix every parallel-batch loss works on, computed once per batch:
 * Q = [queryPivot; queryTarget] (2B x dim), D = [docPivot; docTarget] (2B x dim) and
 * S = Q·Dᵀ (2B x 2B cosine similarities, rows = queries, columns = documents). Query b and
 * B + b are the two language versions of sample b; so are documents b and B + b.
 */
export interface BatchScores {
  /** Samples in the batch (B). */
  size: number;
  q: Matrix;
  d: Matrix;
  /** S = Q·Dᵀ, 2B x 2B row-major. */
  s: Float64Array;
}

/** What a loss computes on scores: its value, dL/dS (2B x 2B) and named parts. */
export interface ScoresLossResult {
  loss: number;
  gradS: Float64Array;
  parts: Record<string, number>;
}

/** A loss defined on {@link BatchScores} (all losses of this folder are). */
export interface ScoresLoss {
  forwardScores(scores: BatchScores): ScoresLossResult;
}

/** S = Q·Dᵀ for a batch (checks the shapes; names the bad field). */
export function batchScores(where: string, batch: ParallelBatch): BatchScores {
  const { size } = checkBatch(where, batch);
  const q = vstack([batch.queryPivot, batch.queryTarget]);
  const d = vstack([batch.docPivot, batch.docTarget]);
  return { size, q, d, s: matmulABt(q, d) };
}

/** dL/d(each batch matrix) from dL/dS: dQ = G·D, dD = Gᵀ·Q, split by role. */
export function scoresBackward(scores: BatchScores, gradS: Float64Array): ParallelGrads {
  const { q, d, size } = scores;
  const n = q.rows;
  const gq = zerosLike(q.data, q.data.length);
  const gd = zerosLike(d.data, d.data.length);
  addMatmulGB(gq, gradS, n, d);
  addMatmulGtA(gd, gradS, d.rows, q);
  const half = size * q.cols;
  return { queryPivot: gq.subarray(0, half), queryTarget: gq.subarray(half), docPivot: gd.subarray(0, half), docTarget: gd.subarray(half) };
}

/** forward(batch) of a {@link ScoresLoss}: scores, loss on scores, backward to the embeddings. */
export function forwardViaScores(where: string, loss: ScoresLoss, batch: ParallelBatch): LossResult {
  const scores = batchScores(where, batch);
  const r = loss.forwardScores(scores);
  return { loss: r.loss, grads: scoresBackward(scores, r.gradS), parts: r.parts };
}

/** Transpose of a square `n x n` array. */
export function transposeSquare(s: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = s[i * n + j];
  return out;
}

/**
 * Pooling of token vectors into text vectors and L2 normalisation, on plain arrays.
 * Hand-written (a few loops) rather than transformers.js `mean_pooling` so that the sums
 * run in float64 and the mask/cls contract is ours to state and test.
 */
import { xlError } from '../util/errors.js';
import type { Pooling } from './types.js';

/**
 * Pool a `[batch, seq, dim]` row-major hidden state into `[batch, dim]`.
 *
 * - `'mean'`: `v_b = sum_t mask[b,t] * h[b,t] / sum_t mask[b,t]` (float64 sums; a row whose
 *   mask is all zero gives a zero vector).
 * - `'cls'`: `v_b = h[b,0]` (the first token, whatever the mask).
 *
 * @param hidden  `batch * seq * dim` values.
 * @param mask  `batch * seq` values (0/1; number or bigint).
 * @throws XlalignError when the sizes disagree.
 * @example const v = poolHidden(h, mask, [2, 7, 8], 'mean'); // Float32Array(16)
 */
export function poolHidden(
  hidden: ArrayLike<number>,
  mask: ArrayLike<number | bigint>,
  dims: readonly [number, number, number],
  pooling: Pooling,
): Float32Array {
  const [batch, seq, dim] = dims;
  if (hidden.length !== batch * seq * dim) throw xlError('poolHidden', `hidden has ${hidden.length} values; expected ${batch} x ${seq} x ${dim}`);
  if (mask.length !== batch * seq) throw xlError('poolHidden', `attention_mask has ${mask.length} values; expected ${batch} x ${seq}`);
  const out = new Float32Array(batch * dim);
  if (pooling === 'cls') {
    for (let b = 0; b < batch; b++) for (let d = 0; d < dim; d++) out[b * dim + d] = hidden[b * seq * dim + d];
    return out;
  }
  if (pooling !== 'mean') throw xlError('poolHidden', `unsupported pooling '${String(pooling)}'; use 'mean' or 'cls'`);
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      const m = Number(mask[b * seq + t]);
      if (m === 0) continue;
      count += m;
      const base = (b * seq + t) * dim;
      for (let d = 0; d < dim; d++) acc[d] += m * hidden[base + d];
    }
    if (count > 0) for (let d = 0; d < dim; d++) out[b * dim + d] = acc[d] / count;
  }
  return out;
}

/**
 * L2-normalise each row of an `n x dim` array in place: `v / max(||v||, 1e-12)` (a zero row
 * stays zero, as in torch `F.normalize`). Returns the same array.
 *
 * @example l2NormalizeRows(vectors, 384);
 */
export function l2NormalizeRows(vectors: Float32Array, dim: number): Float32Array {
  if (dim <= 0 || vectors.length % dim !== 0) throw xlError('l2NormalizeRows', `${vectors.length} values is not a whole number of rows of ${dim}`);
  for (let off = 0; off < vectors.length; off += dim) {
    let ss = 0;
    for (let d = 0; d < dim; d++) ss += vectors[off + d] * vectors[off + d];
    const norm = Math.max(Math.sqrt(ss), 1e-12);
    for (let d = 0; d < dim; d++) vectors[off + d] /= norm;
  }
  return vectors;
}

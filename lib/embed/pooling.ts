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
 * - `'cls'`: `v_b = h[b,t0]`, `t0 = min{t : mask[b,t] != 0}` (0 for an all-zero row): the
 *   first token with right padding; the first token after the prompt when a pooling mask
 *   leaves the prompt out (sentence-transformers 5).
 * - `'last_token'`: `v_b = h[b,t*]`, `t* = max{t : mask[b,t] != 0}` (the last real token,
 *   right or left padding alike; a row whose mask is all zero gives a zero vector).
 * - `'max'`: `v_b[d] = max_t h[b,t,d]` over tokens with mask != 0 (-1e9 when none, as
 *   sentence-transformers fills masked positions).
 * - `'mean_sqrt_len'`: `sum_t mask[b,t] * h[b,t] / sqrt(max(sum_t mask[b,t], 1e-9))`.
 * - `'weightedmean'`: weights `w_t = (t + 1) * mask[b,t]`: `sum_t w_t h[b,t] / max(sum_t w_t, 1e-9)`.
 * - `'pooler'` is not computed from the hidden state: use {@link poolerVectors}.
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
    for (let b = 0; b < batch; b++) {
      let first = 0;
      while (first < seq && Number(mask[b * seq + first]) === 0) first++;
      if (first === seq) first = 0;
      const base = (b * seq + first) * dim;
      for (let d = 0; d < dim; d++) out[b * dim + d] = hidden[base + d];
    }
    return out;
  }
  if (pooling === 'last_token') {
    for (let b = 0; b < batch; b++) {
      let last = -1;
      for (let t = 0; t < seq; t++) if (Number(mask[b * seq + t]) !== 0) last = t;
      if (last < 0) continue;
      const base = (b * seq + last) * dim;
      for (let d = 0; d < dim; d++) out[b * dim + d] = hidden[base + d];
    }
    return out;
  }
  if (pooling === 'pooler') throw xlError('poolHidden', "'pooler' takes the model's pooler_output, not the hidden state; use poolerVectors");
  if (pooling === 'max') {
    for (let b = 0; b < batch; b++) {
      for (let d = 0; d < dim; d++) {
        let best = -1e9;
        for (let t = 0; t < seq; t++) if (Number(mask[b * seq + t]) !== 0 && hidden[(b * seq + t) * dim + d] > best) best = hidden[(b * seq + t) * dim + d];
        out[b * dim + d] = best;
      }
    }
    return out;
  }
  if (pooling !== 'mean' && pooling !== 'mean_sqrt_len' && pooling !== 'weightedmean') throw xlError('poolHidden', `unsupported pooling '${String(pooling)}'; use 'mean', 'cls', 'pooler', 'last_token', 'max', 'mean_sqrt_len' or 'weightedmean'`);
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      const m = Number(mask[b * seq + t]) * (pooling === 'weightedmean' ? t + 1 : 1);
      if (m === 0) continue;
      count += m;
      const base = (b * seq + t) * dim;
      for (let d = 0; d < dim; d++) acc[d] += m * hidden[base + d];
    }
    if (count > 0) {
      const div = pooling === 'mean_sqrt_len' ? Math.sqrt(count) : count;
      for (let d = 0; d < dim; d++) out[b * dim + d] = acc[d] / div;
    }
  }
  return out;
}

/**
 * The `'pooler'` vectors: the model's `pooler_output` (`[batch, dim]`), copied to float32.
 *
 * @param outputs  the ONNX session's outputs by name.
 * @param model  the model id, for the message.
 * @throws XlalignError when the model has no `pooler_output`, listing the outputs it has.
 * @example const v = poolerVectors(await encoder(feeds), 'sentence-transformers/LaBSE');
 */
export function poolerVectors(outputs: Record<string, { data: ArrayLike<number>; dims: readonly number[] }>, model: string): { data: Float32Array; dim: number } {
  const t = outputs.pooler_output;
  if (!t) throw xlError('embed', `pooling 'pooler': model ${model} has no 'pooler_output' (outputs: ${Object.keys(outputs).join(', ')}); use 'cls' or 'mean', or an ONNX export with the pooler`);
  if (t.dims.length !== 2) throw xlError('embed', `pooling 'pooler': pooler_output of ${model} has dims [${t.dims.join(', ')}]; expected [batch, dim]`);
  return { data: Float32Array.from(t.data), dim: t.dims[1] };
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

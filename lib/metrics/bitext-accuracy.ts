import { xlError } from '../util/errors.js';

/**
 * Bitext retrieval accuracy (the Tatoeba / BUCC-style similarity search score): for each
 * sentence of one side, is its translation the most similar sentence of the other side?
 *
 *   acc(X → E) = (1/n) Σ_i [ argmax_j cos(x_i, e_j) = i ]
 *
 * A tie between the translation and a wrong candidate counts as a miss (pessimistic, like
 * the metrics' tie policy), so a constant model scores 0, not 1/n.
 */

/** Accuracy in both directions for `n` parallel rows. */
export interface BitextAccuracy {
  /** Non-English → English. */
  xToEn: number;
  /** English → non-English. */
  enToX: number;
  /** Number of pairs. */
  n: number;
}

/**
 * Top-1 accuracy of retrieving row i of `en` for row i of `x` and back, with `x` and `en`
 * `n x dim` row-major and L2-normalised (dot product = cosine).
 *
 * @throws XlalignError when the shapes differ or are not whole rows.
 * @example bitextAccuracy(model.embed(held.map((p) => p.text)), model.embed(held.map((p) => p.en)), model.dim)
 */
export function bitextAccuracy(x: Float32Array, en: Float32Array, dim: number): BitextAccuracy {
  if (x.length !== en.length || x.length % dim !== 0) {
    throw xlError('bitextAccuracy', `x has ${x.length} values and en ${en.length}; both must be n x ${dim}`);
  }
  const n = x.length / dim;
  const sim = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += x[i * dim + d] * en[j * dim + d];
      sim[i * n + j] = s;
    }
  }
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    let rowWin = true;
    let colWin = true;
    const own = sim[i * n + i];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      if (sim[i * n + j] >= own) rowWin = false;
      if (sim[j * n + i] >= own) colWin = false;
    }
    if (rowWin) a++;
    if (colWin) b++;
  }
  return { xToEn: n ? a / n : 0, enToX: n ? b / n : 0, n };
}

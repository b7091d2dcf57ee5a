import { xlError } from '../errors.js';

/**
 * Dense row-major matrices for the training code: a typed array with its shape.
 *
 * Hand-written rather than a tensor library: the training code needs four products
 * (A·Bᵀ, G·B, Gᵀ·A and row normalisation) on matrices of a few thousand rows, and plain
 * loops over typed arrays in i-k-j order are fast in V8 and keep gradients easy to check.
 * Storage is `Float32Array` (training) or `Float64Array` (gradient checks); products are
 * accumulated in doubles and stored in the storage type of the first operand.
 */
export type FloatArray = Float32Array | Float64Array;

/** A row-major matrix: element (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  data: FloatArray;
  rows: number;
  cols: number;
}

/**
 * A `rows x cols` matrix of zeros, or a view on `data` (not copied).
 * Throws when `data.length !== rows * cols`.
 *
 * @example const m = matrix(2, 3); m.data[1 * 3 + 2] = 1;
 */
export function matrix(rows: number, cols: number, data?: FloatArray): Matrix {
  const d = data ?? new Float32Array(rows * cols);
  if (d.length !== rows * cols) {
    throw xlError('matrix', `data has ${d.length} values, expected rows*cols = ${rows}*${cols} = ${rows * cols}`);
  }
  return { data: d, rows, cols };
}

/** A zero array of the same kind (Float32Array or Float64Array) as `like`. */
export function zerosLike(like: FloatArray, length: number): FloatArray {
  return like instanceof Float64Array ? new Float64Array(length) : new Float32Array(length);
}

/** A zero matrix with the same shape and storage type as `m`. */
export function zerosMatrixLike(m: Matrix): Matrix {
  return { data: zerosLike(m.data, m.data.length), rows: m.rows, cols: m.cols };
}

/**
 * `A · Bᵀ` (rows(A) x rows(B)) as a Float64Array: all pairwise dot products of rows.
 * Throws when the column counts differ.
 */
export function matmulABt(a: Matrix, b: Matrix): Float64Array {
  if (a.cols !== b.cols) throw xlError('matmulABt', `column counts differ (${a.cols} vs ${b.cols})`);
  const n = a.rows;
  const m = b.rows;
  const d = a.cols;
  const ad = a.data;
  const bd = b.data;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const ao = i * d;
    for (let j = 0; j < m; j++) {
      const bo = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += ad[ao + k] * bd[bo + k];
      out[i * m + j] = s;
    }
  }
  return out;
}

/**
 * `out += scale · G · B`, where G is `n x m` (row-major array) and B is `m x d`; `out` is
 * `n x d`. Loop order i-k-j so that the inner loop walks rows of B and `out` contiguously.
 */
export function addMatmulGB(out: FloatArray, g: ArrayLike<number>, n: number, b: Matrix, scale = 1): void {
  const m = b.rows;
  const d = b.cols;
  const bd = b.data;
  for (let i = 0; i < n; i++) {
    const oo = i * d;
    for (let k = 0; k < m; k++) {
      const gik = g[i * m + k] * scale;
      if (gik === 0) continue;
      const bo = k * d;
      for (let j = 0; j < d; j++) out[oo + j] += gik * bd[bo + j];
    }
  }
}

/**
 * `out += scale · Gᵀ · A`, where G is `n x m` and A is `n x d`; `out` is `m x d`.
 * Loop order over G's rows first (i), then its columns (k), then d (j), contiguous inner loop.
 */
export function addMatmulGtA(out: FloatArray, g: ArrayLike<number>, m: number, a: Matrix, scale = 1): void {
  const n = a.rows;
  const d = a.cols;
  const ad = a.data;
  for (let i = 0; i < n; i++) {
    const ao = i * d;
    for (let k = 0; k < m; k++) {
      const gik = g[i * m + k] * scale;
      if (gik === 0) continue;
      const oo = k * d;
      for (let j = 0; j < d; j++) out[oo + j] += gik * ad[ao + j];
    }
  }
}

/** Stack matrices with the same column count on top of each other (a copy). */
export function vstack(parts: Matrix[]): Matrix {
  if (parts.length === 0) throw xlError('vstack', 'no matrices');
  const cols = parts[0].cols;
  let rows = 0;
  for (const p of parts) {
    if (p.cols !== cols) throw xlError('vstack', `column counts differ (${p.cols} vs ${cols})`);
    rows += p.rows;
  }
  const data = zerosLike(parts[0].data, rows * cols);
  let o = 0;
  for (const p of parts) {
    data.set(p.data, o);
    o += p.data.length;
  }
  return { data, rows, cols };
}

/** Rows `start .. start+rows-1` of `m` as a view (no copy). */
export function rowSlice(m: Matrix, start: number, rows: number): Matrix {
  return { data: m.data.subarray(start * m.cols, (start + rows) * m.cols), rows, cols: m.cols };
}

/**
 * L2-normalise every row in place and return the norms (a zero row stays zero, norm 0).
 */
export function normalizeRows(m: Matrix): Float64Array {
  const norms = new Float64Array(m.rows);
  const d = m.cols;
  const x = m.data;
  for (let i = 0; i < m.rows; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += x[o + j] * x[o + j];
    const nrm = Math.sqrt(s);
    norms[i] = nrm;
    if (nrm > 0) for (let j = 0; j < d; j++) x[o + j] /= nrm;
  }
  return norms;
}

/**
 * Backward of row normalisation y = x / ‖x‖: given dL/dy, the unit rows y and the norms,
 * return dL/dx = (dL/dy − (dL/dy · y) y) / ‖x‖ (zero where the norm is zero).
 */
export function normalizeRowsBackward(gradY: FloatArray, y: Matrix, norms: ArrayLike<number>): FloatArray {
  const d = y.cols;
  const out = zerosLike(gradY, gradY.length);
  for (let i = 0; i < y.rows; i++) {
    const o = i * d;
    const nrm = norms[i];
    if (nrm === 0) continue;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += gradY[o + j] * y.data[o + j];
    for (let j = 0; j < d; j++) out[o + j] = (gradY[o + j] - dot * y.data[o + j]) / nrm;
  }
  return out;
}

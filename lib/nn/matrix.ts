import { xlError } from '../util/errors.js';

/**
 * Dense row-major matrices for the training code: a typed array with its shape.
 *
 * Hand-written rather than a tensor library: the training code needs three products
 * (A·Bᵀ, G·B, Gᵀ·A) and row normalisation on matrices of a few hundred rows; all products
 * go through one register-blocked A·Bᵀ kernel ({@link gemmABt}) over typed arrays, which
 * keeps them fast in V8 and the gradients easy to check.
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
 * The one product kernel: `out[i*m + j] (+)= scale · Σ_k a[i*d + k] · b[j*d + k]` for an
 * `n x d` array `a` and an `m x d` array `b` (A·Bᵀ, every pair of rows). Rows are taken two
 * by two against two (a 2x2 register block: four independent sums, each load used twice),
 * which runs several times faster in V8 than one dot product at a time; every other product
 * is turned into this one with {@link transpose}.
 */
export function gemmABt(
  out: FloatArray,
  a: ArrayLike<number>,
  n: number,
  b: ArrayLike<number>,
  m: number,
  d: number,
  scale = 1,
  accumulate = false,
): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a0 = i * d;
    const a1 = a0 + d;
    let j = 0;
    for (; j + 1 < m; j += 2) {
      const b0 = j * d;
      const b1 = b0 + d;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let k = 0; k < d; k++) {
        const x0 = a[a0 + k];
        const x1 = a[a1 + k];
        const y0 = b[b0 + k];
        const y1 = b[b1 + k];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      const o0 = i * m + j;
      const o1 = o0 + m;
      if (accumulate) {
        out[o0] += scale * s00;
        out[o0 + 1] += scale * s01;
        out[o1] += scale * s10;
        out[o1 + 1] += scale * s11;
      } else {
        out[o0] = scale * s00;
        out[o0 + 1] = scale * s01;
        out[o1] = scale * s10;
        out[o1 + 1] = scale * s11;
      }
    }
    if (j < m) {
      const b0 = j * d;
      let s0 = 0;
      let s1 = 0;
      for (let k = 0; k < d; k++) {
        s0 += a[a0 + k] * b[b0 + k];
        s1 += a[a1 + k] * b[b0 + k];
      }
      if (accumulate) {
        out[i * m + j] += scale * s0;
        out[(i + 1) * m + j] += scale * s1;
      } else {
        out[i * m + j] = scale * s0;
        out[(i + 1) * m + j] = scale * s1;
      }
    }
  }
  if (i < n) {
    const a0 = i * d;
    for (let j = 0; j < m; j++) {
      const b0 = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += a[a0 + k] * b[b0 + k];
      if (accumulate) out[i * m + j] += scale * s;
      else out[i * m + j] = scale * s;
    }
  }
}

/** The transpose of a `rows x cols` row-major array, as a Float64Array `cols x rows`. */
export function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = x[o + j];
  }
  return out;
}

/**
 * `A · Bᵀ` (rows(A) x rows(B)) as a Float64Array: all pairwise dot products of rows.
 * Throws when the column counts differ.
 */
export function matmulABt(a: Matrix, b: Matrix): Float64Array {
  if (a.cols !== b.cols) throw xlError('matmulABt', `column counts differ (${a.cols} vs ${b.cols})`);
  const out = new Float64Array(a.rows * b.rows);
  gemmABt(out, a.data, a.rows, b.data, b.rows, a.cols);
  return out;
}

/**
 * `out += scale · G · B`, where G is `n x m` (row-major array) and B is `m x d`; `out` is
 * `n x d`. Computed as G·(Bᵀ)ᵀ with {@link gemmABt}.
 */
export function addMatmulGB(out: FloatArray, g: ArrayLike<number>, n: number, b: Matrix, scale = 1): void {
  gemmABt(out, g, n, transpose(b.data, b.rows, b.cols), b.cols, b.rows, scale, true);
}

/**
 * `out += scale · Gᵀ · A`, where G is `n x m` and A is `n x d`; `out` is `m x d`.
 * Computed as Gᵀ·(Aᵀ)ᵀ with {@link gemmABt}.
 */
export function addMatmulGtA(out: FloatArray, g: ArrayLike<number>, m: number, a: Matrix, scale = 1): void {
  const n = a.rows;
  gemmABt(out, transpose(g, n, m), m, transpose(a.data, n, a.cols), a.cols, n, scale, true);
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

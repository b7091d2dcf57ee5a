import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addMatmulGB, addMatmulGtA, gemmABt, matmulABt, normalizeRows, normalizeRowsBackward, transpose, vstack } from '../../lib/nn/matrix.js';
import { createRng, maxGradError } from '../train/grad-check.js';

const naive = (a: Float64Array, n: number, b: Float64Array, m: number, d: number) => {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) for (let k = 0; k < d; k++) out[i * m + j] += a[i * d + k] * b[j * d + k];
  return out;
};

test('gemmABt equals the naive triple loop for odd and even shapes; accumulate and scale', () => {
  const rng = createRng(9);
  for (const [n, m, d] of [[1, 1, 1], [2, 3, 5], [5, 4, 7], [7, 7, 2], [6, 8, 16]]) {
    const a = Float64Array.from({ length: n * d }, () => rng.normal());
    const b = Float64Array.from({ length: m * d }, () => rng.normal());
    const ref = naive(a, n, b, m, d);
    const out = new Float64Array(n * m);
    gemmABt(out, a, n, b, m, d);
    for (let k = 0; k < ref.length; k++) assert.ok(Math.abs(out[k] - ref[k]) < 1e-12, `${n}x${m}x${d}`);
    gemmABt(out, a, n, b, m, d, 2, true);
    for (let k = 0; k < ref.length; k++) assert.ok(Math.abs(out[k] - 3 * ref[k]) < 1e-12);
    // G·B and Gᵀ·A through the same kernel
    const g = Float64Array.from({ length: n * m }, () => rng.normal());
    const bm = { data: Float64Array.from({ length: m * d }, () => rng.normal()), rows: m, cols: d };
    const gb = new Float64Array(n * d);
    addMatmulGB(gb, g, n, bm, 0.5);
    const gbRef = naive(g, n, transpose(bm.data, m, d), d, m);
    for (let k = 0; k < gb.length; k++) assert.ok(Math.abs(gb[k] - 0.5 * gbRef[k]) < 1e-12);
    const am = { data: a, rows: n, cols: d };
    const gta = new Float64Array(m * d);
    addMatmulGtA(gta, g, m, am);
    const gtaRef = naive(transpose(g, n, m), m, transpose(a, n, d), d, n);
    for (let k = 0; k < gta.length; k++) assert.ok(Math.abs(gta[k] - gtaRef[k]) < 1e-12);
  }
  assert.throws(() => matmulABt({ data: new Float32Array(4), rows: 2, cols: 2 }, { data: new Float32Array(3), rows: 1, cols: 3 }), /column counts differ \(2 vs 3\)/);
  assert.equal(vstack([{ data: new Float32Array([1, 2]), rows: 1, cols: 2 }, { data: new Float32Array([3, 4]), rows: 1, cols: 2 }]).data.join(), '1,2,3,4');
});

test('normalizeRows and its backward (finite differences), zero rows stay zero', () => {
  const rng = createRng(2);
  const x = Float64Array.from({ length: 12 }, () => rng.normal());
  x.fill(0, 8, 12);
  const c = Float64Array.from({ length: 12 }, () => rng.normal());
  const f = () => {
    const y = { data: Float64Array.from(x), rows: 3, cols: 4 };
    normalizeRows(y);
    return y.data.reduce((s, v, k) => s + v * c[k], 0);
  };
  const y = { data: Float64Array.from(x), rows: 3, cols: 4 };
  const norms = normalizeRows(y);
  assert.equal(norms[2], 0);
  assert.ok(Math.abs(Math.hypot(...y.data.subarray(0, 4)) - 1) < 1e-12);
  const g = normalizeRowsBackward(c, y, norms);
  assert.ok(maxGradError(f, x.subarray(0, 8) as Float64Array, g.subarray(0, 8)) < 1e-6);
  assert.deepEqual(Array.from(g.subarray(8)), [0, 0, 0, 0]);
});

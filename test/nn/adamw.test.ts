import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from '../../lib/nn/adamw.js';

// f(θ) = ½ Σ a_k (θ_k − c_k)², gradient a_k (θ_k − c_k); minimum at c.
const a = [1, 10, 0.1, 3];
const c = [2, -1, 0.5, 4];
const grad = (x: ArrayLike<number>) => Array.from(x, (v, k) => a[k] * (v - c[k]));

test('AdamW: first step is −lr·sign(g) (bias correction), decay is decoupled', () => {
  const x = new Float64Array([0, 0, 0, 0]);
  new AdamW({ lr: 0.1, weightDecay: 0 }).step('x', x, grad(x));
  // m̂ = g, v̂ = g² after bias correction, so each coordinate moves by lr·g/(|g|+ε)
  assert.deepEqual(Array.from(x, (v) => Number(v.toFixed(6))), [0.1, -0.1, 0.1, 0.1]);
  // weight decay alone (zero gradient): θ ← θ(1 − lr·λ)
  const y = new Float64Array([1, -2]);
  new AdamW({ lr: 0.1, weightDecay: 0.5 }).step('y', y, [0, 0]);
  assert.deepEqual(Array.from(y), [0.95, -1.9]);
});

test('AdamW: converges on an ill-conditioned quadratic (dense and sparse rows agree)', () => {
  const dense = new Float64Array(4);
  const sparse = new Float64Array(4); // a 2 x 2 table, both rows touched every step
  const o1 = new AdamW({ lr: 0.05, weightDecay: 0 });
  const o2 = new AdamW({ lr: 0.05, weightDecay: 0 });
  for (let t = 0; t < 2000; t++) {
    o1.step('x', dense, grad(dense));
    o2.stepRows('table', sparse, 2, [1, 0], [...grad(sparse).slice(2), ...grad(sparse).slice(0, 2)]);
  }
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(dense[k] - c[k]) < 1e-3, `x[${k}] = ${dense[k]}`);
  assert.deepEqual(Array.from(sparse), Array.from(dense));
  assert.equal(o1.steps('x'), 2000);
  // with decoupled weight decay the fixed point is pulled from c toward 0
  const decayed = new Float64Array(4);
  const o3 = new AdamW({ lr: 0.05, weightDecay: 0.1 });
  for (let t = 0; t < 2000; t++) o3.step('x', decayed, grad(decayed));
  assert.ok(Math.abs(decayed[0]) < Math.abs(c[0]) - 1e-3);
});

test('AdamW.stepRows: untouched rows stay, duplicates summed, errors name the parameter', () => {
  const table = new Float32Array([1, 1, 2, 2, 3, 3]);
  const opt = new AdamW({ lr: 0.1, weightDecay: 0 });
  opt.stepRows('emb', table, 2, [2, 2], [1, -1, 1, -1]);
  assert.deepEqual(Array.from(table.subarray(0, 4)), [1, 1, 2, 2]);
  assert.ok(Math.abs(table[4] - 2.9) < 1e-6 && Math.abs(table[5] - 3.1) < 1e-6);
  assert.throws(() => opt.stepRows('emb', table, 2, [3], [0, 0]), /row 3 of 'emb' is out of range \[0, 3\)/);
  assert.throws(() => opt.step('w', new Float32Array(2), [1]), /gradient of 'w' has 1 values, parameter has 2/);
  assert.throws(() => opt.step('w', new Float32Array(1), [NaN]), /not finite at index 0/);
  assert.throws(() => new AdamW({ lr: -1 }), /lr must be > 0/);
});

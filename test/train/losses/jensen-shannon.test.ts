import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jensenShannonDivergence, jensenShannonSoftmax, JensenShannonLoss } from '../../../lib/train/losses/jensen-shannon.js';
import { createRng, maxGradError, randomUnitRows } from '../grad-check.js';

test('jensenShannonDivergence: 0 for identical, symmetric, ln 2 for disjoint, hand value', () => {
  assert.equal(jensenShannonDivergence([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), 0);
  assert.ok(Math.abs(jensenShannonDivergence([1, 0], [0, 1]) - Math.LN2) < 1e-15);
  const p = [0.7, 0.2, 0.1];
  const q = [0.1, 0.3, 0.6];
  assert.equal(jensenShannonDivergence(p, q), jensenShannonDivergence(q, p));
  // by hand: ½Σ p log(2p/(p+q)) + ½Σ q log(2q/(p+q))
  let expected = 0;
  for (let k = 0; k < 3; k++) expected += 0.5 * p[k] * Math.log((2 * p[k]) / (p[k] + q[k])) + 0.5 * q[k] * Math.log((2 * q[k]) / (p[k] + q[k]));
  assert.ok(Math.abs(jensenShannonDivergence(p, q) - expected) < 1e-15);
});

test('jensenShannonSoftmax: equals the plain JSD of the two softmaxes; gradients match finite differences', () => {
  const rng = createRng(21);
  const x = randomUnitRows(rng, 3, 5);
  const y = randomUnitRows(rng, 3, 5);
  const ref = randomUnitRows(rng, 6, 5);
  const tau = 0.3;
  const r = jensenShannonSoftmax(x, y, ref, { temperature: tau });
  const softmax = (v: Float64Array | Float32Array, i: number) => {
    const s = Array.from({ length: 6 }, (_, j) => {
      let d = 0;
      for (let k = 0; k < 5; k++) d += v[i * 5 + k] * ref.data[j * 5 + k];
      return Math.exp(d / tau);
    });
    const z = s.reduce((a, b) => a + b, 0);
    return s.map((e) => e / z);
  };
  let mean = 0;
  for (let i = 0; i < 3; i++) mean += jensenShannonDivergence(softmax(x.data, i), softmax(y.data, i)) / 3;
  assert.ok(Math.abs(r.loss - mean) < 1e-12);
  const f = () => jensenShannonSoftmax(x, y, ref, { temperature: tau }).loss;
  assert.ok(maxGradError(f, x.data as Float64Array, r.grads.x) < 1e-6);
  assert.ok(maxGradError(f, y.data as Float64Array, r.grads.y) < 1e-6);
  assert.ok(maxGradError(f, ref.data as Float64Array, r.grads.ref) < 1e-6);
});

test('JensenShannonLoss: gradients match finite differences for every side; bounds; symmetry', () => {
  const rng = createRng(8);
  const b = 4;
  const dim = 6;
  const batch = {
    queryPivot: randomUnitRows(rng, b, dim),
    queryTarget: randomUnitRows(rng, b, dim),
    docPivot: randomUnitRows(rng, b, dim),
    docTarget: randomUnitRows(rng, b, dim),
  };
  for (const sides of ['queries', 'documents', 'both'] as const) {
    const loss = new JensenShannonLoss({ temperature: 0.1, sides });
    const r = loss.forward(batch);
    assert.ok(Number.isFinite(r.loss) && r.loss > 0 && r.loss <= Math.LN2, `${sides}: ${r.loss}`);
    for (const key of ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const) {
      const err = maxGradError(() => loss.forward(batch).loss, batch[key].data as Float64Array, r.grads[key]);
      assert.ok(err < 1e-6, `${sides} ${key}: relative error ${err}`);
    }
    // symmetric: swapping the pivot and target versions leaves the loss unchanged
    const swapped = { queryPivot: batch.queryTarget, queryTarget: batch.queryPivot, docPivot: batch.docTarget, docTarget: batch.docPivot };
    assert.ok(Math.abs(loss.forward(swapped).loss - r.loss) < 1e-12);
  }
  // identical translations: JSD is 0 and so are its gradients
  const same = { queryPivot: batch.queryPivot, queryTarget: batch.queryPivot, docPivot: batch.docPivot, docTarget: batch.docPivot };
  const z = new JensenShannonLoss().forward(same);
  assert.ok(Math.abs(z.loss) < 1e-12);
  assert.ok(Math.max(...Array.from(z.grads.queryPivot, Math.abs)) < 1e-9);
  assert.throws(() => new JensenShannonLoss({ sides: 'all' as never }), /unsupported sides 'all'; use 'queries', 'documents', 'both'/);
});

test('JensenShannonLoss: lower for aligned translations than for shuffled ones', () => {
  const rng = createRng(2);
  const b = 8;
  const dim = 16;
  const base = randomUnitRows(rng, b, dim);
  const noisy = () => {
    const m = randomUnitRows(rng, b, dim);
    for (let k = 0; k < m.data.length; k++) m.data[k] = base.data[k] + 0.1 * m.data[k];
    return m;
  };
  const batch = { queryPivot: noisy(), queryTarget: noisy(), docPivot: noisy(), docTarget: noisy() };
  const loss = new JensenShannonLoss({ temperature: 0.05 });
  const aligned = loss.forward(batch).loss;
  const order = [3, 0, 1, 2, 7, 4, 5, 6];
  const shuffledTarget = new Float64Array(b * dim);
  order.forEach((src, i) => shuffledTarget.set(batch.queryTarget.data.subarray(src * dim, (src + 1) * dim), i * dim));
  const shuffled = loss.forward({ ...batch, queryTarget: { data: shuffledTarget, rows: b, cols: dim } }).loss;
  assert.ok(aligned < shuffled, `${aligned} < ${shuffled}`);
});

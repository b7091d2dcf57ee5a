import { test } from 'node:test';
import assert from 'node:assert/strict';
import { infoNCE, InfoNCELoss } from '../../../lib/train/losses/info-nce.js';
import type { ParallelBatch } from '../../../lib/train/losses/types.js';
import { createRng, maxGradError, randomUnitRows } from '../grad-check.js';

function randomBatch(seed: number, b = 5, dim = 8): ParallelBatch {
  const rng = createRng(seed);
  return {
    queryPivot: randomUnitRows(rng, b, dim),
    queryTarget: randomUnitRows(rng, b, dim),
    docPivot: randomUnitRows(rng, b, dim),
    docTarget: randomUnitRows(rng, b, dim),
  };
}

/** A batch where each sample's four texts are noisy copies of one random direction. */
function alignedBatch(seed: number, b = 8, dim = 16, noise = 0.1): ParallelBatch {
  const rng = createRng(seed);
  const base = randomUnitRows(rng, b, dim);
  const copy = () => {
    const m = randomUnitRows(rng, b, dim);
    for (let k = 0; k < m.data.length; k++) m.data[k] = base.data[k] + noise * m.data[k];
    for (let i = 0; i < b; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += m.data[i * dim + j] ** 2;
      for (let j = 0; j < dim; j++) m.data[i * dim + j] /= Math.sqrt(s);
    }
    return m;
  };
  return { queryPivot: copy(), queryTarget: copy(), docPivot: copy(), docTarget: copy() };
}

test('infoNCE: one positive, hand-computed value', () => {
  // anchors e1; candidates e1, e2: loss = log(e^{1/τ} + e^0) − 1/τ with τ = 0.5
  const a = { data: new Float64Array([1, 0]), rows: 1, cols: 2 };
  const c = { data: new Float64Array([1, 0, 0, 1]), rows: 2, cols: 2 };
  const r = infoNCE(a, c, () => [0], { temperature: 0.5 });
  assert.ok(Math.abs(r.loss - (Math.log(Math.exp(2) + 1) - 2)) < 1e-12);
  // two positives covering all candidates: 'sum' is exactly 0; 'each' is the mean of −log softmax
  assert.ok(Math.abs(infoNCE(a, c, () => [0, 1], { multiPositive: 'sum' }).loss) < 1e-12);
  const each = infoNCE(a, c, () => [0, 1], { temperature: 0.5 }).loss;
  assert.ok(Math.abs(each - (Math.log(Math.exp(2) + 1) - (2 + 0) / 2)) < 1e-12);
  // 'each' penalises a second positive ranked low, 'sum' barely does
  const three = { data: new Float64Array([1, 0, 0, 1, -1, 0]), rows: 3, cols: 2 };
  const low = (mode: 'each' | 'sum') => infoNCE(a, three, () => [0, 2], { temperature: 0.5, multiPositive: mode }).loss;
  assert.ok(low('each') > 1 && low('sum') < 0.2, `${low('each')} ${low('sum')}`);
});

test('infoNCE: gradients match central finite differences (float64)', () => {
  const rng = createRng(3);
  const a = randomUnitRows(rng, 4, 6);
  const c = randomUnitRows(rng, 7, 6);
  const pos = (i: number) => [i, (i + 3) % 7];
  for (const multiPositive of ['each', 'sum'] as const) {
    const r = infoNCE(a, c, pos, { temperature: 0.2, multiPositive });
    const f = () => infoNCE(a, c, pos, { temperature: 0.2, multiPositive }).loss;
    assert.ok(maxGradError(f, a.data as Float64Array, r.grads.anchors) < 1e-6, multiPositive);
    assert.ok(maxGradError(f, c.data as Float64Array, r.grads.candidates) < 1e-6, multiPositive);
  }
});

test('InfoNCELoss: gradients match finite differences, both directions', () => {
  for (const [symmetric, multiPositive] of [[false, 'each'], [true, 'each'], [true, 'sum']] as const) {
    const batch = randomBatch(11);
    const loss = new InfoNCELoss({ temperature: 0.1, symmetric, multiPositive });
    const r = loss.forward(batch);
    assert.ok(Number.isFinite(r.loss));
    for (const key of ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const) {
      const err = maxGradError(() => loss.forward(batch).loss, batch[key].data as Float64Array, r.grads[key]);
      assert.ok(err < 1e-6, `${key} symmetric=${symmetric}: relative error ${err}`);
    }
  }
});

test('InfoNCELoss: lower for aligned pairs than for shuffled ones; errors name the field', () => {
  const loss = new InfoNCELoss();
  const batch = alignedBatch(5);
  const aligned = loss.forward(batch).loss;
  // shuffle the documents: the pairs no longer match
  const b = batch.docPivot.rows;
  const dim = batch.docPivot.cols;
  const rot = (m: typeof batch.docPivot) => {
    const out = new Float64Array(m.data.length);
    for (let i = 0; i < b; i++) out.set(m.data.subarray(i * dim, (i + 1) * dim), ((i + 1) % b) * dim);
    return { data: out, rows: b, cols: dim };
  };
  const shuffledLoss = loss.forward({ ...batch, docPivot: rot(batch.docPivot), docTarget: rot(batch.docTarget) }).loss;
  assert.ok(Number.isFinite(aligned) && aligned < shuffledLoss, `${aligned} < ${shuffledLoss}`);
  assert.deepEqual(loss.getConfig(), { name: 'InfoNCELoss', temperature: 0.05, symmetric: false, multiPositive: 'each' });
  const bad = { ...batch, docTarget: { data: new Float64Array(dim), rows: 1, cols: dim } };
  assert.throws(() => loss.forward(bad), /batch\.docTarget is 1x16/);
  assert.throws(() => infoNCE(batch.queryPivot, batch.docPivot, () => [99]), /positive 99 of anchor 0/);
  assert.throws(() => new InfoNCELoss({ temperature: 0 }), /temperature must be > 0/);
});

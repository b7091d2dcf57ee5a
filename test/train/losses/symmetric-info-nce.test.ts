import { test } from 'node:test';
import assert from 'node:assert/strict';
import { infoNCE } from '../../../lib/train/losses/info-nce.js';
import { SymmetricInfoNCELoss } from '../../../lib/train/losses/symmetric-info-nce.js';
import { createRng, maxGradError, randomUnitRows } from '../grad-check.js';

test('SymmetricInfoNCELoss = ½[InfoNCE(X→E) + InfoNCE(E→X)], parts are the two directions', () => {
  const rng = createRng(3);
  const x = randomUnitRows(rng, 6, 8);
  const e = randomUnitRows(rng, 6, 8);
  const r = new SymmetricInfoNCELoss({ temperature: 0.1 }).forward({ anchors: x, positives: e });
  const a = infoNCE(x, e, (i) => [i], { temperature: 0.1 }).loss;
  const c = infoNCE(e, x, (i) => [i], { temperature: 0.1 }).loss;
  assert.equal(r.loss, 0.5 * (a + c));
  assert.deepEqual(r.parts, { xToE: a, eToX: c });
  assert.ok(Number.isFinite(r.loss));
  // hand-computed: B = 2 orthogonal pairs with x_i = e_i -> each row softmax is [e^{1/τ}, 1] / (e^{1/τ} + 1)
  const id = { data: Float64Array.from([1, 0, 0, 1]), rows: 2, cols: 2 };
  const tau = 0.5;
  const expected = Math.log(Math.exp(1 / tau) + 1) - 1 / tau;
  assert.ok(Math.abs(new SymmetricInfoNCELoss({ temperature: tau }).forward({ anchors: id, positives: id }).loss - expected) < 1e-12);
  assert.deepEqual(new SymmetricInfoNCELoss().getConfig(), { name: 'SymmetricInfoNCELoss', temperature: 0.05 });
  assert.throws(() => new SymmetricInfoNCELoss({ temperature: 0 }), /SymmetricInfoNCELoss: temperature must be > 0, got 0/);
});

test('SymmetricInfoNCELoss: gradients match finite differences; aligned pairs score lower than shuffled', () => {
  const rng = createRng(11);
  const x = randomUnitRows(rng, 5, 6);
  const e = randomUnitRows(rng, 5, 6);
  const loss = new SymmetricInfoNCELoss({ temperature: 0.2 });
  const { grads } = loss.forward({ anchors: x, positives: e });
  const f = () => loss.forward({ anchors: x, positives: e }).loss;
  assert.ok(maxGradError(f, x.data as Float64Array, grads.anchors) < 1e-5);
  assert.ok(maxGradError(f, e.data as Float64Array, grads.positives) < 1e-5);
  // aligned: positives are noisy copies of the anchors
  const noisy = randomUnitRows(rng, 5, 6);
  for (let k = 0; k < noisy.data.length; k++) noisy.data[k] = x.data[k] + 0.05 * noisy.data[k];
  const aligned = loss.forward({ anchors: x, positives: noisy }).loss;
  const shuffledRows = { data: new Float64Array(30), rows: 5, cols: 6 };
  for (let i = 0; i < 5; i++) shuffledRows.data.set(noisy.data.subarray(((i + 1) % 5) * 6, ((i + 1) % 5) * 6 + 6), i * 6);
  assert.ok(aligned < loss.forward({ anchors: x, positives: shuffledRows }).loss);
  assert.throws(() => loss.forward({ anchors: x, positives: randomUnitRows(rng, 4, 6) }), /anchors have 5 rows but positives 4/);
});

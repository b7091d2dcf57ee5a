import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudyJsdLoss } from '../../../lib/train/losses/study-jsd.js';
import { jensenShannonDivergence } from '../../../lib/train/losses/jensen-shannon.js';
import type { ParallelBatch } from '../../../lib/train/losses/types.js';
import { createRng, maxGradError, randomUnitRows } from '../grad-check.js';

function batchOf(seed: number, b: number, dim: number, unit = true): ParallelBatch {
  const rng = createRng(seed);
  const m = () => {
    const x = randomUnitRows(rng, b, dim);
    if (!unit) for (let k = 0; k < x.data.length; k++) x.data[k] *= 1 + (k % 3); // rows of varying norm
    return x;
  };
  return { queryPivot: m(), queryTarget: m(), docPivot: m(), docTarget: m() };
}

const softmax = (x: number[], tau: number) => {
  const e = x.map((v) => Math.exp(v / tau));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

test('StudyJsdLoss: sqrt(JSD + ε) of the softmaxes over dimensions, by hand', () => {
  // one sample, 3 dimensions, given as unit vectors; τ = 0.5
  const z = [0.6, 0.8, 0];
  const w = [0, 0.6, 0.8];
  const m = (v: number[]) => ({ data: new Float64Array(v), rows: 1, cols: 3 });
  const batch = { queryPivot: m([1, 0, 0]), queryTarget: m([1, 0, 0]), docPivot: m(z), docTarget: m(w) };
  const jsd = jensenShannonDivergence(softmax(z, 0.5), softmax(w, 0.5));
  const r = new StudyJsdLoss({ temperature: 0.5, epsilon: 1e-6 }).forward(batch);
  assert.ok(Math.abs(r.loss - Math.sqrt(jsd + 1e-6)) < 1e-12, `${r.loss} vs ${Math.sqrt(jsd + 1e-6)}`);
  assert.ok(Math.abs(r.parts.jsdRaw - jsd) < 1e-12 && r.parts.jsd === r.loss);
  // normalisation: scaling a row changes nothing when on, changes the softmax when off
  const scaled = { ...batch, docPivot: m(z.map((v) => 3 * v)) };
  assert.ok(Math.abs(new StudyJsdLoss({ temperature: 0.5, epsilon: 1e-6 }).forward(scaled).loss - r.loss) < 1e-12);
  const raw = new StudyJsdLoss({ temperature: 0.5, epsilon: 1e-6, normalize: false }).forward(scaled).loss;
  const rawJsd = jensenShannonDivergence(softmax(z.map((v) => 3 * v), 0.5), softmax(w, 0.5));
  assert.ok(Math.abs(raw - Math.sqrt(rawJsd + 1e-6)) < 1e-12);
  // identical passages: sqrt(ε), finite gradient
  const same = new StudyJsdLoss({ epsilon: 1e-8 }).forward({ ...batch, docTarget: m(z) });
  assert.ok(Math.abs(same.loss - 1e-4) < 1e-12);
  assert.ok([...same.grads.docPivot].every((g) => Number.isFinite(g) && Math.abs(g) < 1e-9));
});

test('StudyJsdLoss: gradients match central finite differences (normalised and raw, two temperatures)', () => {
  for (const [normalize, temperature] of [[true, 1], [true, 0.1], [false, 0.3]] as const) {
    const batch = batchOf(5, 4, 7, normalize);
    const loss = new StudyJsdLoss({ normalize, temperature });
    const r = loss.forward(batch);
    for (const key of ['docPivot', 'docTarget'] as const) {
      const err = maxGradError(() => loss.forward(batch).loss, batch[key].data as Float64Array, r.grads[key]);
      assert.ok(err < 1e-6, `${key} normalize=${normalize} τ=${temperature}: relative error ${err}`);
    }
    assert.ok([...r.grads.queryPivot, ...r.grads.queryTarget].every((g) => g === 0), 'queries are not used');
  }
});

test('StudyJsdLoss: lower for parallel than for shuffled passages; magnitude on unit vectors in 368 dimensions', () => {
  const rng = createRng(9);
  const b = 8;
  const dim = 368;
  const base = randomUnitRows(rng, b, dim);
  const noisy = randomUnitRows(rng, b, dim);
  for (let k = 0; k < noisy.data.length; k++) noisy.data[k] = base.data[k] + 0.5 * noisy.data[k];
  const batch = { queryPivot: base, queryTarget: base, docPivot: base, docTarget: noisy };
  const rot = { data: new Float64Array(noisy.data.length), rows: b, cols: dim };
  for (let i = 0; i < b; i++) rot.data.set(noisy.data.subarray(i * dim, (i + 1) * dim), ((i + 1) % b) * dim);
  const loss = new StudyJsdLoss();
  const aligned = loss.forward(batch).loss;
  const shuffled = loss.forward({ ...batch, docTarget: rot }).loss;
  assert.ok(aligned < shuffled, `${aligned} < ${shuffled}`);
  // tiny at τ = 1 (nearly uniform softmax): |z − w|²/(8d) ≈ 2·(1 − cos)/(8·368)
  assert.ok(shuffled < 0.05 && aligned > 1e-3, `${aligned} ${shuffled}`);
  assert.ok(new StudyJsdLoss({ temperature: 0.05 }).forward(batch).loss > 10 * aligned, 'a smaller τ sharpens the softmax');
  assert.throws(() => new StudyJsdLoss({ temperature: 0 }), /temperature must be > 0/);
  assert.throws(() => loss.forward({ ...batch, docTarget: { data: new Float64Array(dim), rows: 1, cols: dim } }), /batch\.docTarget is 1x368/);
  assert.deepEqual(loss.getConfig(), { name: 'StudyJsdLoss', temperature: 1, normalize: true, epsilon: 1e-8 });
});

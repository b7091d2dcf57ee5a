import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudyInfoNCELoss } from '../../../lib/train/losses/study-infonce.js';
import type { ParallelBatch } from '../../../lib/train/losses/types.js';
import { createRng, maxGradError, randomUnitRows } from '../grad-check.js';

function randomBatch(seed: number, b = 5, dim = 8): ParallelBatch {
  const rng = createRng(seed);
  return { queryPivot: randomUnitRows(rng, b, dim), queryTarget: randomUnitRows(rng, b, dim), docPivot: randomUnitRows(rng, b, dim), docTarget: randomUnitRows(rng, b, dim) };
}

test('StudyInfoNCELoss: anchor p_tgt, positive q_en, other English queries negative (by hand)', () => {
  const m = (v: number[]) => ({ data: new Float64Array(v), rows: 2, cols: 2 });
  // p_tgt = (e1, e2); q_en = (e1, (0.6, 0.8)); τ = 0.5
  const batch = { queryPivot: m([1, 0, 0.6, 0.8]), queryTarget: m([0, 1, 1, 0]), docPivot: m([0, 1, 1, 0]), docTarget: m([1, 0, 0, 1]) };
  const lse = (a: number, b: number) => Math.log(Math.exp(a) + Math.exp(b));
  const expected = ((lse(2, 1.2) - 2) + (lse(0, 1.6) - 1.6)) / 2;
  const r = new StudyInfoNCELoss({ temperature: 0.5 }).forward(batch);
  assert.ok(Math.abs(r.loss - expected) < 1e-12, `${r.loss} vs ${expected}`);
  assert.deepEqual(Object.keys(r.parts), ['infoNCE']);
  assert.ok([...r.grads.queryTarget, ...r.grads.docPivot].every((g) => g === 0), 'queryTarget and docPivot are not used');
  // L_NCEpsg: candidates are the English passages p_en = (e2, e1): both anchors see their positive at cosine 0
  const psg = new StudyInfoNCELoss({ temperature: 0.5, candidates: 'docPivot', part: 'ncePsg' }).forward(batch);
  assert.ok(Math.abs(psg.loss - (lse(0, 2) - 0)) < 1e-12);
  assert.ok(Math.abs(psg.parts.ncePsg - psg.loss) < 1e-15);
});

test('StudyInfoNCELoss: gradients match central finite differences (L_NCE and L_NCEpsg)', () => {
  for (const candidates of ['queryPivot', 'docPivot'] as const) {
    const batch = randomBatch(13);
    const loss = new StudyInfoNCELoss({ temperature: 0.1, candidates });
    const r = loss.forward(batch);
    for (const key of ['docTarget', candidates] as const) {
      const err = maxGradError(() => loss.forward(batch).loss, batch[key].data as Float64Array, r.grads[key]);
      assert.ok(err < 1e-6, `${candidates}/${key}: relative error ${err}`);
    }
  }
});

test('StudyInfoNCELoss: lower for aligned pairs than for shuffled; errors', () => {
  const rng = createRng(2);
  const b = 8;
  const dim = 16;
  const base = randomUnitRows(rng, b, dim);
  const noise = randomUnitRows(rng, b, dim);
  const q = { data: base.data.map((v, k) => v + 0.2 * noise.data[k]), rows: b, cols: dim };
  const batch = { queryPivot: q, queryTarget: q, docPivot: base, docTarget: base };
  const rot = { data: new Float64Array(q.data.length), rows: b, cols: dim };
  for (let i = 0; i < b; i++) rot.data.set(q.data.subarray(i * dim, (i + 1) * dim), ((i + 1) % b) * dim);
  const loss = new StudyInfoNCELoss();
  assert.ok(loss.forward(batch).loss < loss.forward({ ...batch, queryPivot: rot }).loss);
  assert.throws(() => new StudyInfoNCELoss({ anchor: 'docPivot', candidates: 'docPivot' }), /both 'docPivot'/);
  assert.throws(() => new StudyInfoNCELoss({ candidates: 'docs' as never }), /unsupported candidates 'docs'/);
  assert.throws(() => new StudyInfoNCELoss({ temperature: -1 }), /temperature must be > 0/);
  assert.deepEqual(loss.getConfig(), { name: 'StudyInfoNCELoss', temperature: 0.05, anchor: 'docTarget', candidates: 'queryPivot' });
});

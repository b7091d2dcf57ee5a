import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudyLoss } from '../../../lib/train/losses/study-loss.js';
import { StudyJsdLoss } from '../../../lib/train/losses/study-jsd.js';
import { StudyInfoNCELoss } from '../../../lib/train/losses/study-infonce.js';
import { createRng, maxGradError, randomUnitRows } from '../grad-check.js';

test('StudyLoss: L_JSD + L_NCE and the ablation rows; parts; gradients by finite differences', () => {
  const rng = createRng(17);
  const batch = { queryPivot: randomUnitRows(rng, 4, 6), queryTarget: randomUnitRows(rng, 4, 6), docPivot: randomUnitRows(rng, 4, 6), docTarget: randomUnitRows(rng, 4, 6) };
  const jsd = new StudyJsdLoss({ temperature: 0.2 }).forward(batch).loss;
  const nce = new StudyInfoNCELoss({ temperature: 0.1 }).forward(batch).loss;
  const psg = new StudyInfoNCELoss({ temperature: 0.1, candidates: 'docPivot' }).forward(batch).loss;
  const cases = [
    [{}, jsd + nce, ['jsd', 'jsdRaw', 'infoNCE']],
    [{ alignmentWeight: 2 }, 2 * jsd + nce, ['jsd', 'jsdRaw', 'infoNCE']],
    [{ alignment: 'nce-psg' }, psg + nce, ['ncePsg', 'infoNCE']],
    [{ alignment: 'none' }, nce, ['infoNCE']],
    [{ retrieval: false }, jsd, ['jsd', 'jsdRaw']],
  ] as const;
  for (const [opts, expected, parts] of cases) {
    const loss = new StudyLoss({ ...opts, nceTemperature: 0.1, jsd: { temperature: 0.2 } });
    const r = loss.forward(batch);
    assert.ok(Math.abs(r.loss - expected) < 1e-12, `${JSON.stringify(opts)}: ${r.loss} vs ${expected}`);
    assert.deepEqual(Object.keys(r.parts), parts);
    for (const key of ['queryPivot', 'docPivot', 'docTarget'] as const) {
      const err = maxGradError(() => loss.forward(batch).loss, batch[key].data as Float64Array, r.grads[key]);
      assert.ok(err < 1e-6, `${JSON.stringify(opts)} ${key}: relative error ${err}`);
    }
  }
  assert.throws(() => new StudyLoss({ alignment: 'none', retrieval: false }), /no term left/);
  assert.throws(() => new StudyLoss({ alignment: 'kl' as never }), /unsupported alignment 'kl'/);
  const config = new StudyLoss().getConfig() as { terms: { name: string; weight: number; temperature: number }[] };
  assert.deepEqual(config.terms.map((t) => [t.name, t.weight, t.temperature]), [['StudyJsdLoss', 1, 1], ['StudyInfoNCELoss', 1, 0.05]]);
});

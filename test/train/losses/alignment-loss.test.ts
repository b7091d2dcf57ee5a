import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlignmentLoss } from '../../../lib/train/losses/alignment-loss.js';
import { InfoNCELoss } from '../../../lib/train/losses/info-nce.js';
import { JensenShannonLoss } from '../../../lib/train/losses/jensen-shannon.js';
import { createRng, maxGradError, randomUnitRows } from '../grad-check.js';

test('AlignmentLoss: InfoNCE + λ·JSD, parts, ablations and gradients', () => {
  const rng = createRng(4);
  const batch = {
    queryPivot: randomUnitRows(rng, 4, 6),
    queryTarget: randomUnitRows(rng, 4, 6),
    docPivot: randomUnitRows(rng, 4, 6),
    docTarget: randomUnitRows(rng, 4, 6),
  };
  const nce = new InfoNCELoss({ temperature: 0.1 }).forward(batch).loss;
  const jsd = new JensenShannonLoss({ temperature: 0.1 }).forward(batch).loss;
  const loss = new AlignmentLoss({ jsdWeight: 2.5, infoNCE: { temperature: 0.1 }, jensenShannon: { temperature: 0.1 } });
  const r = loss.forward(batch);
  assert.ok(Math.abs(r.loss - (nce + 2.5 * jsd)) < 1e-12);
  assert.ok(Math.abs(r.parts.infoNCE - nce) < 1e-12 && Math.abs(r.parts.jsd - jsd) < 1e-12);
  for (const key of ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const) {
    assert.ok(maxGradError(() => loss.forward(batch).loss, batch[key].data as Float64Array, r.grads[key]) < 1e-6, key);
  }
  const only = new AlignmentLoss({ jsdWeight: 0, infoNCE: { temperature: 0.1 } }).forward(batch);
  assert.ok(Math.abs(only.loss - nce) < 1e-12 && !('jsd' in only.parts));
  const onlyJsd = new AlignmentLoss({ infoNCEWeight: 0, jensenShannon: { temperature: 0.1 } }).forward(batch);
  assert.ok(Math.abs(onlyJsd.loss - jsd) < 1e-12 && !('infoNCE' in onlyJsd.parts));
  assert.throws(() => new AlignmentLoss({ infoNCEWeight: 0, jsdWeight: 0 }), /both 0/);
  assert.equal((loss.getConfig() as { jsdWeight: number }).jsdWeight, 2.5);
});

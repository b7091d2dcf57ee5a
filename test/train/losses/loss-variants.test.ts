import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABLATION_VARIANTS, DEFAULT_LOSS, LOSS_VARIANTS, makeLoss } from '../../../lib/experiments/loss-variants.js';
import { AlignmentLoss } from '../../../lib/train/losses/alignment-loss.js';
import { StudyLoss } from '../../../lib/train/losses/study-loss.js';
import { createRng, randomUnitRows } from '../grad-check.js';

test('loss variants: the study is the default; each name builds the loss it says, with the shared settings', () => {
  const rng = createRng(8);
  const batch = { queryPivot: randomUnitRows(rng, 6, 10), queryTarget: randomUnitRows(rng, 6, 10), docPivot: randomUnitRows(rng, 6, 10), docTarget: randomUnitRows(rng, 6, 10) };
  assert.equal(DEFAULT_LOSS, 'study');
  assert.deepEqual(ABLATION_VARIANTS, ['study', 'study-ncepsg', 'study-no-jsd', 'study-no-nce', 'alignment']);
  const settings = { lambda: 0.5, temperature: 0.1, jsdTemperature: 0.3, jsdNormalize: false };
  const expected: Record<string, { loss: number }> = {
    study: new StudyLoss({ alignmentWeight: 0.5, nceTemperature: 0.1, jsd: { temperature: 0.3, normalize: false } }).forward(batch),
    'study-ncepsg': new StudyLoss({ alignment: 'nce-psg', alignmentWeight: 0.5, nceTemperature: 0.1 }).forward(batch),
    'study-no-jsd': new StudyLoss({ alignment: 'none', nceTemperature: 0.1 }).forward(batch),
    'study-no-nce': new StudyLoss({ retrieval: false, alignmentWeight: 0.5, jsd: { temperature: 0.3, normalize: false } }).forward(batch),
    alignment: new AlignmentLoss({ jsdWeight: 0.5, infoNCE: { temperature: 0.1 }, jensenShannon: { temperature: 0.1 } }).forward(batch),
    infonce: new AlignmentLoss({ jsdWeight: 0, infoNCE: { temperature: 0.1 } }).forward(batch),
    jsd: new AlignmentLoss({ infoNCEWeight: 0, jsdWeight: 0.5, jensenShannon: { temperature: 0.1 } }).forward(batch),
  };
  assert.deepEqual([...LOSS_VARIANTS].sort(), Object.keys(expected).sort());
  for (const v of LOSS_VARIANTS) {
    const got = makeLoss(v, settings).forward(batch).loss;
    assert.ok(Math.abs(got - expected[v].loss) < 1e-12, `${v}: ${got} vs ${expected[v].loss}`);
  }
  assert.equal((makeLoss('study').getConfig() as { name: string }).name, 'StudyLoss');
  assert.throws(() => makeLoss('full'), /unknown loss 'full'; use 'study', 'study-ncepsg'/);
});

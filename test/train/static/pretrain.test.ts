import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTatoeba } from '../../../lib/data/tatoeba.js';
import { StaticEmbeddingModel } from '../../../lib/models/static/table.js';
import { buildVocab } from '../../../lib/models/static/vocab-builder.js';
import { createHash } from 'node:crypto';
import { languageBatches, pullTowardAnchor, trainStaticModel, type PairText } from '../../../lib/train/static/pretrain.js';
import { buildStaticModel } from '../../../lib/train/static/build.js';
import { trainLoop } from '../../../lib/train/train-loop.js';
import { StaticPairHead } from '../../../lib/train/heads/static-pair-head.js';
import { SymmetricInfoNCELoss } from '../../../lib/train/losses/symmetric-info-nce.js';

// Real small data: the first 120 German-English Tatoeba lines.
const pairs: PairText[] = loadTatoeba('deu').slice(0, 120).map((p) => ({ lang: 'de', text: p.text, en: p.en }));
const vocab = buildVocab({ de: pairs.map((p) => p.text), en: pairs.map((p) => p.en) }, { vocabSize: 1500 });
const fresh = (): StaticEmbeddingModel => StaticEmbeddingModel.create(vocab, { dim: 16, seed: 3 });

/** Rows (token ids) used by any text of `texts`. */
function usedRows(model: StaticEmbeddingModel, texts: string[]): Set<number> {
  return new Set(model.encode(texts).flat());
}

function dist2(a: ArrayLike<number>, b: ArrayLike<number>, dim: number, row: number): number {
  let s = 0;
  for (let j = row * dim; j < row * dim + dim; j++) s += (a[j] - b[j]) ** 2;
  return s;
}

test('pullTowardAnchor: listed rows move to anchor + (row - anchor) * keep, others untouched', () => {
  const table = Float64Array.from([1, 2, 3, 4, 5, 6]); // 3 rows x 2
  const anchor = [0, 0, 1, 1, 2, 2];
  pullTowardAnchor(table, anchor, 2, [0, 2], 0.25);
  assert.deepEqual([...table], [0.25, 0.5, 3, 4, 2.75, 3]);
});

test('trainStaticModel anchorDecay: with zero gradient the touched rows return toward the anchor by prod(1 - lr_t * λ)', async () => {
  // Train without anchor so that the table leaves its initial values.
  const model = fresh();
  const init = model.table.slice();
  await trainStaticModel(model, pairs, { epochs: 1, batchSize: 32, lr: 0.05, seed: 1 });
  const before = model.table.slice();
  // A batch of identical pairs (text = English side) has uniform softmax rows: the InfoNCE
  // gradient is zero and AdamW does not move the table; only the anchor pull acts.
  const same: PairText[] = Array.from({ length: 8 }, () => ({ lang: 'de', text: 'ich bin müde', en: 'ich bin müde' }));
  const lr = 0.1;
  const anchorDecay = 5;
  const result = await trainStaticModel(model, same, { epochs: 2, batchSize: 8, lr, anchorDecay, anchor: init, seed: 1 });
  assert.equal(result.steps, 2);
  assert.equal(result.config.anchorDecay, 5);
  // lr schedule: lr_t = lr * (1 - 0.9 t / T) with T = 2 steps -> lr, 0.55 lr
  const keep = (1 - lr * anchorDecay) * (1 - 0.55 * lr * anchorDecay); // 0.5 * 0.725
  const touched = usedRows(model, ['ich bin müde']);
  assert.ok(touched.size >= 3);
  const dim = model.dim;
  for (let row = 0; row < model.vocabSize; row++) {
    if (touched.has(row)) {
      assert.ok(dist2(before, init, dim, row) > 1e-6, `row ${row} moved in the first training`);
      for (let j = row * dim; j < row * dim + dim; j++) {
        const expected = init[j] + (before[j] - init[j]) * keep;
        assert.ok(Math.abs(model.table[j] - expected) < 1e-5, `row ${row} col ${j - row * dim}: ${model.table[j]} vs ${expected}`);
      }
    } else {
      for (let j = row * dim; j < row * dim + dim; j++) assert.equal(model.table[j], before[j], `untouched row ${row}`);
    }
  }
});

test('trainStaticModel anchorDecay: trained rows stay nearer their initial values, unused rows keep them exactly, same seed same bytes', async () => {
  const plain = fresh();
  const init = plain.table.slice();
  await trainStaticModel(plain, pairs, { epochs: 2, batchSize: 32, lr: 0.05, seed: 9 });
  const a = fresh();
  const ra = await trainStaticModel(a, pairs, { epochs: 2, batchSize: 32, lr: 0.05, anchorDecay: 10, seed: 9 });
  const b = fresh();
  await trainStaticModel(b, pairs, { epochs: 2, batchSize: 32, lr: 0.05, anchorDecay: 10, seed: 9 });
  assert.deepEqual(Buffer.from(a.table.buffer), Buffer.from(b.table.buffer), 'same seed, same bytes');
  assert.ok(ra.epochLosses.every(Number.isFinite));
  const used = usedRows(a, [...pairs.map((p) => p.text), ...pairs.map((p) => p.en)]);
  let dPlain = 0;
  let dAnchor = 0;
  for (let row = 0; row < a.vocabSize; row++) {
    if (used.has(row)) {
      dPlain += dist2(plain.table, init, a.dim, row);
      dAnchor += dist2(a.table, init, a.dim, row);
    } else {
      for (let j = row * a.dim; j < (row + 1) * a.dim; j++) assert.equal(a.table[j], init[j], `unused row ${row}`);
    }
  }
  assert.ok(dAnchor > 0 && dAnchor < 0.5 * dPlain, `squared distance to init: anchored ${dAnchor}, plain ${dPlain}`);
  // anchorDecay 0 is the plain trainer
  const c = fresh();
  await trainStaticModel(c, pairs, { epochs: 2, batchSize: 32, lr: 0.05, anchorDecay: 0, seed: 9 });
  assert.deepEqual(Buffer.from(c.table.buffer), Buffer.from(plain.table.buffer));
});

test('trainStaticModel anchorDecay: bad values are named', async () => {
  await assert.rejects(trainStaticModel(fresh(), pairs, { anchorDecay: -1 }), /anchorDecay must be >= 0 with lr \* anchorDecay <= 1 \(lr 0\.02\), got -1/);
  await assert.rejects(trainStaticModel(fresh(), pairs, { lr: 0.1, anchorDecay: 20 }), /anchorDecay must be >= 0/);
  await assert.rejects(trainStaticModel(fresh(), pairs, { anchorDecay: 1, anchor: [1, 2, 3] }), /anchor has 3 values, but the table \d+ \(vocabSize x dim\)/);
});

// Tiny builds (de + zh, 300 pairs per source, 10000 tokens, 32 dims) hashed with the hand-written
// pretraining loop before it moved onto the shared trainLoop (commit 354d070, the last one with
// the old loop): the table's sha256, the epoch losses and the recorded config must not change.
const OLD_LOOP_BUILDS = [
  {
    train: { epochs: 4, lr: 0.02, anchorDecay: 1 },
    weighting: { sifA: 1e-3, center: true },
    table: '7eb3f61a10275c5d9ce96084bb6f1f8130d95a1692db1c8668169f3b67f74456',
    epochLosses: [4.8694271020301265, 2.1663970673144, 1.147347407354978, 0.6862275533063508],
  },
  {
    train: { epochs: 2, lr: 0.05, anchorDecay: 0, weightDecay: 0.01, batchSize: 64, temperature: 0.1 },
    weighting: false as const,
    table: '34127aa4e70b8daa954d7dd14652e101854237b2b9c880b99e6059df83f970c0',
    epochLosses: [2.279552968090942, 0.7350919675836451],
  },
];

test('pretraining through the shared trainLoop gives the bytes of the old hand-written loop (tiny builds, hashes recorded before the change)', async () => {
  for (const { train, weighting, table, epochLosses } of OLD_LOOP_BUILDS) {
    const { model, info } = await buildStaticModel({ name: 'xlalign-static-tiny', dim: 32, vocabSize: 10000, langs: ['de', 'zh'], maxPerSource: 300, train, weighting });
    assert.equal(createHash('sha256').update(Buffer.from(model.table.buffer, model.table.byteOffset, model.table.byteLength)).digest('hex'), table, JSON.stringify(train));
    assert.deepEqual(info.epochLosses, epochLosses);
    assert.deepEqual(Object.keys(info.training), ['epochs', 'batchSize', 'lr', 'weightDecay', 'anchorDecay', 'temperature', 'seed']);
  }
});

test('trainStaticModel = trainLoop(StaticPairHead, SymmetricInfoNCELoss, languageBatches, linear-floor): same bytes, one-language batches', async () => {
  const mixed: PairText[] = [...pairs.slice(0, 60), ...loadTatoeba('fra').slice(0, 50).map((p) => ({ lang: 'fr', text: p.text, en: p.en }))];
  const v = buildVocab({ de: mixed.map((p) => p.text), en: mixed.map((p) => p.en) }, { vocabSize: 2500 });
  const a = StaticEmbeddingModel.create(v, { dim: 16, seed: 3 });
  const ra = await trainStaticModel(a, mixed, { epochs: 2, batchSize: 16, lr: 0.05, anchorDecay: 2, seed: 4 });
  const b = StaticEmbeddingModel.create(v, { dim: 16, seed: 3 });
  const langOf: string[] = [];
  const rb = await trainLoop(new StaticPairHead(b, mixed, { anchorDecay: 2 }), mixed.length, {
    loss: new SymmetricInfoNCELoss({ temperature: 0.05 }),
    batches: (rng) => {
      const batches = languageBatches(mixed, 16)(rng);
      for (const batch of batches) langOf.push([...new Set(batch.map((i) => mixed[i].lang))].join('+'));
      return batches;
    },
    epochs: 2, lr: 0.05, seed: 4, schedule: 'linear-floor', warmupRatio: 0, progress: false,
  });
  assert.deepEqual(Buffer.from(b.table.buffer), Buffer.from(a.table.buffer));
  assert.deepEqual(rb.epochLosses, ra.epochLosses);
  assert.equal(rb.steps, ra.steps);
  // 60 de -> 16,16,16,12; 50 fr -> 16,16,16 (a batch of 2 kept): 4 + 4 = 8 an epoch
  assert.equal(ra.steps, 16);
  assert.ok(langOf.every((l) => l === 'de' || l === 'fr'), 'every batch holds one language');
  assert.equal(rb.config.head, 'StaticPairHead');
  assert.equal(rb.history.at(-1)!.lr, 0.05 * (1 - 0.9 * (15 / 16)));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTrainingSamples } from '../../lib/train/samples.js';
import { fineTuneStaticModel } from '../../lib/train/fine-tune-static.js';
import { trainAdapter } from '../../lib/train/train-adapter.js';
import { AlignmentAdapter } from '../../lib/train/adapter.js';
import { AdapterHead } from '../../lib/train/heads/adapter-head.js';
import { StaticParallelHead } from '../../lib/train/heads/static-parallel-head.js';
import { StaticPairHead } from '../../lib/train/heads/static-pair-head.js';
import { AlignmentLoss } from '../../lib/train/losses/alignment-loss.js';
import { StaticEmbeddingModel } from '../../lib/models/static/table.js';
import { buildVocab } from '../../lib/models/static/vocab-builder.js';
import { embedTrainingSamples } from '../../lib/train/train-adapter.js';

const sha = (b: ArrayBufferView | string) =>
  createHash('sha256').update(typeof b === 'string' ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).digest('hex');

// Real small data: 120 XQuAD samples (de, ru, zh) and a 32-dim static model built from their text.
const samples = buildTrainingSamples({ size: 120, langs: ['de', 'ru', 'zh'], seed: 3 });
const texts: Record<string, string[]> = { en: [] };
for (const s of samples) {
  texts.en.push(s.queryPivot, s.docPivot);
  (texts[s.lang] ??= []).push(s.queryTarget, s.docTarget);
}
const vocab = buildVocab(texts, { vocabSize: 3000, minCount: 2 });

// Hashes recorded with the synchronous TrainHead loop (the loop owning one AdamW) before the
// async seam (commit 354d070): the ported heads must give the same bytes.
const OLD = {
  samples: '1142fe532ba34bd5612b97e7b3803fb07e251d4ddc19803bcdfe459229eeb291',
  fineTuneTable: '7b4b9612d72f678014e0cc272254d8893d89424e371fdbc351829fb7c57544d2',
  fineTuneHistory: 'ecf16c7a5b52da208a94611284f7eb22394eea8dde2d8a030949105a900f90c4',
  adapterFull: { history: 'fb35e3a377bff859990320051818c1733e4ee40a8f7d0f7a099dba21f4266306', output: '92b4c799eb051fa7ed3ebf0272806c3a491e315838599013285f0ecc6d82dac9' },
  adapterRank4: { history: '975316a8a274a4661fba8750811af0beab7abaafbc2694d7d4d4f22fbac4a521', output: 'a3f98e841ad77a67939541c1c1cee96750cc932e57ee45d4b199df27c97a97dc' },
};

test('ported heads reproduce the bytes of the synchronous loop: static fine-tuning and the adapter (full and rank 4)', async () => {
  assert.equal(sha(JSON.stringify(samples)), OLD.samples, 'the corpus-generic sample builder gives the same XQuAD samples');
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-heads-'));
  try {
    StaticEmbeddingModel.create(vocab, { dim: 32, seed: 5 }).save(join(dir, 'base'), { name: 'tiny' });
    const ft = await fineTuneStaticModel({ modelDir: join(dir, 'base'), samples, batchSize: 16, epochs: 3, lr: 5e-3, progress: false });
    assert.equal(sha(ft.model.table), OLD.fineTuneTable);
    assert.equal(sha(JSON.stringify(ft.result.history)), OLD.fineTuneHistory);
    assert.equal(ft.result.config.weightDecay, 0);
    assert.equal(ft.result.config.head, 'StaticParallelHead');
    const base = StaticEmbeddingModel.load(join(dir, 'base'));
    const embedder = { id: 'tiny', dim: 32, embed: async (t: string[]) => base.embed(t) };
    const queries = base.embed(samples.map((s) => s.queryTarget));
    for (const [rank, old] of [[undefined, OLD.adapterFull], [4, OLD.adapterRank4]] as const) {
      const r = await trainAdapter({ embedder, samples, batchSize: 16, epochs: 3, rank, progress: false });
      assert.equal(sha(JSON.stringify(r.result.history)), old.history, `rank ${rank}`);
      assert.equal(sha(r.adapter.apply(queries, samples.length, 32)), old.output, `rank ${rank}`);
      assert.equal(r.result.config.weightDecay, 0.01);
      assert.deepEqual(r.result.config.optimizer, { name: 'AdamW', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('heads own their optimizer: step(lr) sets its lr, clears the gradients, and a step without backward changes nothing', async () => {
  const model = StaticEmbeddingModel.create(vocab, { dim: 16, seed: 1 });
  const head = new StaticParallelHead(model, samples.slice(0, 8), { weightDecay: 0 });
  const before = model.table.slice();
  await head.step(0.1); // nothing accumulated
  assert.deepEqual(model.table, before);
  const loss = new AlignmentLoss();
  const r = loss.forward(await head.forward([0, 1, 2, 3]));
  await head.backward(r.grads);
  await head.step(0.01);
  assert.equal(head.optimizer.lr, 0.01);
  assert.notDeepEqual(model.table, before);
  const after = model.table.slice();
  await head.step(0.01); // gradients were cleared
  assert.deepEqual(model.table, after);
  await assert.rejects(new StaticParallelHead(model, samples).backward(r.grads), /no forward to go back through/);

  const cached = await embedTrainingSamples({ id: 'm', dim: 16, embed: async (t: string[]) => model.embed(t) }, samples.slice(0, 8));
  const adapterHead = new AdapterHead(AlignmentAdapter.create(16), cached, { weightDecay: 0.5 });
  assert.deepEqual(adapterHead.getConfig(), { head: 'AdapterHead', weightDecay: 0.5, optimizer: { name: 'AdamW', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 } });
  const fwd = await adapterHead.forward([0, 1, 2]);
  assert.equal(fwd.queryPivot.rows, 3);
  await adapterHead.backward(loss.forward(fwd).grads);
  await adapterHead.step(0.02);
  assert.equal(adapterHead.optimizer.lr, 0.02);
  assert.ok(adapterHead.adapter.delta!.some((v) => v !== 0));
});

test('StaticPairHead: pairs in, text and English embeddings out; bad options named', async () => {
  const pairs = samples.slice(0, 6).map((s) => ({ lang: s.lang, text: s.queryTarget, en: s.queryPivot }));
  const model = StaticEmbeddingModel.create(vocab, { dim: 16, seed: 2 });
  const head = new StaticPairHead(model, pairs, { anchorDecay: 1 });
  const b = await head.forward([0, 2, 4]);
  assert.deepEqual(b.anchors.data, model.embed([pairs[0].text, pairs[2].text, pairs[4].text]));
  assert.deepEqual(b.positives.data, model.embed([pairs[0].en, pairs[2].en, pairs[4].en]));
  assert.deepEqual(head.getConfig(), { head: 'StaticPairHead', weightDecay: 0, anchorDecay: 1, optimizer: { name: 'AdamW', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } });
  assert.throws(() => new StaticPairHead(model, []), /StaticPairHead: no pairs/);
  assert.throws(() => new StaticPairHead(model, pairs, { anchorDecay: -1 }), /anchorDecay must be >= 0, got -1/);
  assert.throws(() => new StaticPairHead(model, pairs, { anchorDecay: 1, anchor: [0] }), /anchor has 1 values/);
});

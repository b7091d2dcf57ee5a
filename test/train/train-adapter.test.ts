import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAdapter } from '../../lib/train/adapter.js';
import { embedTrainingSamples, trainAdapter } from '../../lib/train/train-adapter.js';
import { syntheticEmbedder, syntheticSamples } from './synthetic.js';

test('embedTrainingSamples: one row per sample and role, distinct texts embedded once per kind', async () => {
  const samples = syntheticSamples(10, 2);
  samples[3] = { ...samples[3], queryPivot: samples[1].queryPivot };
  const embedder = syntheticEmbedder(8);
  const cached = await embedTrainingSamples(embedder, samples);
  assert.equal(embedder.calls, 2);
  assert.equal(cached.queryPivot.length, 80);
  assert.deepEqual(cached.queryPivot.subarray(24, 32), cached.queryPivot.subarray(8, 16));
  const direct = await embedder.embed([samples[7].docTarget]);
  for (let k = 0; k < 8; k++) assert.ok(Math.abs(cached.docTarget[56 + k] - direct[k]) < 1e-6);
});

test('trainAdapter: trains, records its config and saves a loadable adapter', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-train-adapter-'));
  const out = join(dir, 'adapter.safetensors');
  const samples = syntheticSamples(120, 4);
  const { adapter, result, embedSeconds } = await trainAdapter({ embedder: syntheticEmbedder(16), samples, out, rank: 4, epochs: 2, batchSize: 12, progress: false });
  assert.ok(embedSeconds >= 0 && result.steps === 20);
  assert.equal(adapter.rank, 4);
  const back = loadAdapter(out);
  assert.equal(back.id, adapter.id);
  const t = back.training as { embedder: string; samples: number; seed: number; groupedBatches: boolean; loss: { name: string } };
  assert.deepEqual([t.embedder, t.samples, t.seed, t.groupedBatches, t.loss.name], ['synthetic-16', 120, 42, true, 'AlignmentLoss']);
  await assert.rejects(trainAdapter({ embedder: syntheticEmbedder(16), samples: samples.slice(0, 1) }), /need at least 2 training samples, got 1/);
});

test('trainAdapter end to end through transformers.js: a saved adapter plugs into loadEmbedder and gives adapter.apply(base)', async () => {
  const { loadEmbedder } = await import('../../lib/embed/transformers-embedder.js');
  const { StaticEmbeddingModel } = await import('../../lib/models/static/table.js');
  const { buildVocab } = await import('../../lib/models/static/vocab-builder.js');
  const { buildTrainingSamples } = await import('../../lib/train/samples.js');
  const samples = buildTrainingSamples({ size: 60, langs: ['de', 'hi'], seed: 2 });
  const texts: Record<string, string[]> = { en: samples.flatMap((s) => [s.queryPivot, s.docPivot]) };
  for (const s of samples) (texts[s.lang] ??= []).push(s.queryTarget, s.docTarget);
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-adapter-e2e-'));
  StaticEmbeddingModel.create(buildVocab(texts, { vocabSize: 2000, minCount: 2 }), { dim: 16, seed: 1 }).save(join(dir, 'model'), { name: 'tiny' });
  const base = await loadEmbedder(join(dir, 'model'), { cache: false, progress: false });
  const out = join(dir, 'model.adapter.safetensors');
  const { result } = await trainAdapter({ embedder: base, samples, out, epochs: 2, batchSize: 10, lr: 1e-2, progress: false });
  assert.ok(result.steps > 0 && Number.isFinite(result.history.at(-1)!.loss));
  const adapter = loadAdapter(out);
  const aligned = await loadEmbedder(join(dir, 'model'), { cache: false, progress: false, adapter });
  const probe = [samples[0].queryTarget, samples[1].docPivot];
  const expected = adapter.apply(await base.embed(probe), probe.length, 16);
  const got = await aligned.embed(probe);
  for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k] - expected[k]) < 1e-5);
  // and the adapter changed the vectors (it is not the identity after training)
  const plain = await base.embed(probe);
  assert.ok(plain.some((v, k) => Math.abs(v - got[k]) > 1e-4));
  await base.dispose();
  await aligned.dispose();
});

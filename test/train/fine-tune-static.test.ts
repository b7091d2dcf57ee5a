import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTrainingSamples } from '../../lib/train/samples.js';
import { fineTuneStaticModel } from '../../lib/train/fine-tune-static.js';
import { StaticEmbeddingModel } from '../../lib/models/static/table.js';
import { buildVocab } from '../../lib/models/static/vocab-builder.js';

test('fineTuneStaticModel: alignment loss falls on real XQuAD samples; the saved folder loads and reproduces', async () => {
  // A small model built from the samples' own text (seconds, not minutes): 3 languages, 120 samples.
  const samples = buildTrainingSamples({ size: 120, langs: ['de', 'ru', 'zh'], seed: 3 });
  const texts: Record<string, string[]> = { en: [] };
  for (const s of samples) {
    texts.en.push(s.queryPivot, s.docPivot);
    (texts[s.lang] ??= []).push(s.queryTarget, s.docTarget);
  }
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-ft-static-'));
  StaticEmbeddingModel.create(buildVocab(texts, { vocabSize: 3000, minCount: 2 }), { dim: 32, seed: 5 }).save(join(dir, 'base'), { name: 'tiny' });
  const before = StaticEmbeddingModel.load(join(dir, 'base')).table.slice();
  const outDir = join(dir, 'aligned');
  const { model, result } = await fineTuneStaticModel({ modelDir: join(dir, 'base'), samples, outDir, batchSize: 16, epochs: 6, lr: 5e-3, progress: false });
  const h = result.history;
  const perEpoch = h.length / 6;
  const mean = (rows: typeof h) => rows.reduce((s, r) => s + r.loss, 0) / rows.length;
  assert.ok(mean(h.slice(-perEpoch)) < 0.8 * mean(h.slice(0, perEpoch)), `${mean(h.slice(-perEpoch))} vs ${mean(h.slice(0, perEpoch))}`);
  // the base folder is untouched; the new one holds the trained table
  assert.deepEqual(StaticEmbeddingModel.load(join(dir, 'base')).table, before);
  const saved = StaticEmbeddingModel.load(outDir);
  assert.deepEqual(saved.table, model.table);
  assert.notDeepEqual(saved.table, before);
  assert.equal(saved.name, 'tiny-aligned');
  assert.ok(existsSync(join(outDir, 'loss.csv')));
  const record = JSON.parse(readFileSync(join(outDir, 'training.json'), 'utf8'));
  assert.equal(record.seed, 42);
  assert.equal(record.weightDecay, 0);
  assert.equal(record.samples, 120);
  // same seed, same table
  const again = await fineTuneStaticModel({ modelDir: join(dir, 'base'), samples, batchSize: 16, epochs: 6, lr: 5e-3, progress: false });
  assert.deepEqual(again.model.table, model.table);
});

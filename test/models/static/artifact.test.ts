import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataPath } from '../../../lib/util/fs.js';
import { loadXquad, XQUAD_LANGS } from '../../../lib/data/xquad.js';
import { loadTatoeba, TATOEBA_CODES } from '../../../lib/data/tatoeba.js';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { StaticEmbeddingModel } from '../../../lib/models/static/table.js';
import { bitextAccuracy } from '../../../lib/metrics/bitext-accuracy.js';
import { UNK_ID } from '../../../lib/models/static/wordpiece.js';
import type { BuildStaticResult } from '../../../lib/train/static/build.js';

// The committed default model (data/models/xlalign-static-v1, built by `npm run build:model`).
const dir = dataPath('models', 'xlalign-static-v1');
const info = JSON.parse(readFileSync(join(dir, 'build-info.json'), 'utf8')) as Omit<BuildStaticResult['info'], 'seconds'>;
const model = StaticEmbeddingModel.load(dir);

test('shipped model: under 50 MB, sizes as recorded, card with held-out scores', () => {
  const bytes = ['onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json', 'README.md', 'build-info.json']
    .reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  assert.ok(bytes < 50e6, `${bytes} bytes`);
  assert.equal(model.vocabSize, info.vocabSize);
  assert.equal(model.dim, info.dim);
  const card = readFileSync(join(dir, 'README.md'), 'utf8');
  assert.match(card, /Held-out Tatoeba bitext retrieval/);
  for (const s of info.scores) assert.match(card, new RegExp(`\\| ${s.lang} \\| ${s.trained.n} \\| ${(100 * s.trained.xToEn).toFixed(1)} \\|`));
});

test('shipped model: clearly above a random table on held-out Tatoeba for every XQuAD language, and the recorded score is reproduced', () => {
  assert.deepEqual(info.scores.map((s) => s.lang).sort(), Object.keys(TATOEBA_CODES).sort());
  for (const s of info.scores) {
    assert.ok(s.trained.xToEn >= s.random.xToEn + 0.1, `${s.lang} x->en ${s.trained.xToEn} vs random ${s.random.xToEn}`);
    assert.ok(s.trained.enToX >= s.random.enToX + 0.1, `${s.lang} en->x ${s.trained.enToX} vs random ${s.random.enToX}`);
  }
  for (const lang of ['de', 'th', 'zh']) {
    const held = loadTatoeba(TATOEBA_CODES[lang]).slice(-info.heldOut);
    const acc = bitextAccuracy(model.embed(held.map((p) => p.text)), model.embed(held.map((p) => p.en)), model.dim);
    assert.deepEqual(acc, info.scores.find((s) => s.lang === lang)!.trained, lang);
  }
});

test('shipped tokenizer: < 1% [UNK] on XQuAD text of all 12 languages', () => {
  for (const lang of XQUAD_LANGS) {
    const x = loadXquad(lang);
    let n = 0;
    let unk = 0;
    for (const t of [...x.paragraphs.slice(0, 60).map((p) => p.context), ...x.questions.slice(0, 200).map((q) => q.question)]) {
      const ids = model.tokenizer.encode(t);
      n += ids.length;
      for (const i of ids) if (i === UNK_ID) unk++;
    }
    assert.ok(unk / n < 0.01, `${lang}: ${unk} of ${n} tokens are [UNK]`);
  }
});

test('shipped model through transformers.js (loadEmbedder) equals the training code within 1e-5', async () => {
  const texts = XQUAD_LANGS.map((l) => loadXquad(l).questions[0].question);
  const emb = await loadEmbedder(dir, { cache: false, progress: false });
  try {
    assert.equal(emb.dim, model.dim);
    const a = await emb.embed(texts);
    const b = model.embed(texts);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
  } finally {
    await emb.dispose();
  }
});

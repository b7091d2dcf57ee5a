import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTatoeba } from '../../../lib/data/tatoeba.js';
import { StaticEmbeddingModel } from '../../../lib/models/static/table.js';
import { buildVocab } from '../../../lib/models/static/vocab-builder.js';
import { applyFrequencyWeighting, sifWeights } from '../../../lib/models/static/frequency-weighting.js';

// Real small data: the first 150 German-English Tatoeba lines.
const lines = loadTatoeba('deu').slice(0, 150);
const texts = [...lines.map((p) => p.text), ...lines.map((p) => p.en)];
const vocab = buildVocab({ de: lines.map((p) => p.text), en: lines.map((p) => p.en) }, { vocabSize: 1500 });
const fresh = (): StaticEmbeddingModel => StaticEmbeddingModel.create(vocab, { dim: 8, seed: 5 });

test('sifWeights: a / (a + count/total) from hand counts; [CLS] once per text; unseen tokens 1', () => {
  const m = fresh();
  const ref = ['ich bin müde', 'ich bin hier'];
  const ids = m.encode(ref);
  const total = ids[0].length + ids[1].length;
  const w = sifWeights(m, ref, 0.01);
  const cls = ids[0][0];
  assert.equal(ids[1][0], cls);
  assert.ok(Math.abs(w[cls] - 0.01 / (0.01 + 2 / total)) < 1e-12);
  const mued = ids[0].find((i) => !ids[1].includes(i))!;
  assert.ok(Math.abs(w[mued] - 0.01 / (0.01 + 1 / total)) < 1e-12);
  assert.ok(w[mued] > w[cls]);
  const used = new Set(ids.flat());
  const unseen = [...Array(m.vocabSize).keys()].find((i) => !used.has(i))!;
  assert.equal(w[unseen], 1);
  assert.throws(() => sifWeights(m, [], 0.01), /sifWeights: need at least one reference text/);
  assert.throws(() => sifWeights(m, ref, 0), /a must be > 0, got 0/);
});

test('applyFrequencyWeighting: rows scaled by SIF weights, then the mean text vector of the reference texts is zero', () => {
  const m = fresh();
  const before = m.table.slice();
  const w = sifWeights(m, texts, 1e-3);
  const res = applyFrequencyWeighting(m, texts, { sifA: 1e-3, center: false });
  assert.deepEqual(res, { sifA: 1e-3, center: false, texts: texts.length, tokens: m.encode(texts).flat().length });
  for (let r = 0; r < m.vocabSize; r++) {
    for (let j = 0; j < m.dim; j++) assert.ok(Math.abs(m.table[r * m.dim + j] - Math.fround(before[r * m.dim + j] * w[r])) < 1e-7);
  }
  const c = fresh();
  applyFrequencyWeighting(c, texts, { sifA: 1e-3, center: true });
  // centered: the average over the texts of their (unnormalised) mean-pooled vectors is ~0
  const mean = new Float64Array(c.dim);
  for (const ids of c.encode(texts)) for (const i of ids) for (let j = 0; j < c.dim; j++) mean[j] += c.table[i * c.dim + j] / ids.length / texts.length;
  for (const v of mean) assert.ok(Math.abs(v) < 1e-6, `${v}`);
  // centering is a shift of every row by the same vector
  const d0 = m.table[0] - c.table[0];
  for (let r = 0; r < m.vocabSize; r += 97) assert.ok(Math.abs(m.table[r * m.dim] - c.table[r * c.dim] - d0) < 1e-6);
  assert.throws(() => applyFrequencyWeighting(fresh(), texts, { sifA: -1 }), /sifA must be >= 0/);
});

test('sifWeights on real text: the frequent word "ich" weighs less than the rarer "müde"', () => {
  const m = fresh();
  const w = sifWeights(m, texts, 1e-3);
  const [ich, muede] = ['ich', 'müde'].map((t) => m.encode([t])[0]);
  assert.equal(ich.length, 3, 'ich is one token between [CLS] and [SEP]');
  const count = (id: number): number => m.encode(texts).flat().filter((x) => x === id).length;
  assert.ok(count(ich[1]) > count(muede[1]));
  assert.ok(w[ich[1]] < w[muede[1]]);
});

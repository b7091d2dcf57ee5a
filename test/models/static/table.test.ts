import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../../../lib/util/rng.js';
import { sha256File } from '../../../lib/util/fs.js';
import { AdamW } from '../../../lib/nn/adamw.js';
import { infoNCE } from '../../../lib/train/losses/info-nce.js';
import { addSparse, backwardStatic, forwardStatic, StaticEmbeddingModel } from '../../../lib/models/static/table.js';
import { buildStaticModel } from '../../../lib/train/static/build.js';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { loadXquad, XQUAD_LANGS } from '../../../lib/data/xquad.js';

test('forwardStatic: mean of token rows, L2-normalised (hand-computed)', () => {
  // table rows: 0 -> (3, 0), 1 -> (0, 4), 2 -> (1, 1)
  const table = new Float64Array([3, 0, 0, 4, 1, 1]);
  const f = forwardStatic(table, 2, [[0, 1], [2], [0, 0, 1, 1]]);
  // mean of (3,0),(0,4) = (1.5, 2), norm 2.5 -> (0.6, 0.8)
  assert.deepEqual([...f.embeddings.data.slice(0, 2)].map((x) => +x.toFixed(12)), [0.6, 0.8]);
  assert.deepEqual([...f.embeddings.data.slice(2, 4)].map((x) => +x.toFixed(12)), [+(1 / Math.SQRT2).toFixed(12), +(1 / Math.SQRT2).toFixed(12)]);
  assert.deepEqual([...f.embeddings.data.slice(4, 6)].map((x) => +x.toFixed(12)), [0.6, 0.8]);
  assert.equal(f.norms[0], 2.5);
  assert.throws(() => forwardStatic(table, 2, [[3]]), /token id 3 is outside the table \[0, 3\)/);
  assert.throws(() => forwardStatic(table, 2, [[]]), /text 0 has no token/);
});

test('backwardStatic matches finite differences of an InfoNCE loss through pooling and normalisation', () => {
  const rng = createRng(3);
  const V = 9;
  const dim = 5;
  const table = new Float64Array(V * dim).map(() => rng.normal());
  const xs = [[0, 1, 2], [3, 3, 4], [5, 6], [7, 8, 1, 0]];
  const es = [[1, 4], [2, 5, 6], [8], [0, 3, 7]];
  const loss = (t: Float64Array): number => {
    const fx = forwardStatic(t, dim, xs);
    const fe = forwardStatic(t, dim, es);
    return infoNCE(fx.embeddings, fe.embeddings, (i) => [i], { temperature: 0.5 }).loss;
  };
  const fx = forwardStatic(table, dim, xs);
  const fe = forwardStatic(table, dim, es);
  const r = infoNCE(fx.embeddings, fe.embeddings, (i) => [i], { temperature: 0.5 });
  const g = addSparse(dim, backwardStatic(fx, r.grads.anchors), backwardStatic(fe, r.grads.candidates));
  const dense = new Float64Array(V * dim);
  g.rows.forEach((row, k) => {
    for (let d = 0; d < dim; d++) dense[row * dim + d] += g.rowGrads[k * dim + d];
  });
  assert.equal(new Set(g.rows).size, g.rows.length, 'rows are distinct');
  const h = 1e-6;
  let maxErr = 0;
  for (let i = 0; i < table.length; i++) {
    const p = table.slice();
    const m = table.slice();
    p[i] += h;
    m[i] -= h;
    const num = (loss(p) - loss(m)) / (2 * h);
    maxErr = Math.max(maxErr, Math.abs(num - dense[i]));
  }
  assert.ok(maxErr < 1e-6, `max |analytic - numeric| = ${maxErr}`);
});

test('a few AdamW steps on one batch lower the loss and touch only the rows used', () => {
  const model = StaticEmbeddingModel.create(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'c', 'd', 'e', 'f', 'z'], { dim: 8, seed: 1 });
  const before = model.table.slice();
  const opt = new AdamW({ lr: 0.05, weightDecay: 0 });
  const run = (): number => {
    const fx = model.forward(['a b', 'c', 'd e']);
    const fe = model.forward(['f', 'a c', 'b e']);
    const r = infoNCE(fx.embeddings, fe.embeddings, (i) => [i]);
    model.step(opt, addSparse(model.dim, model.backward(fx, r.grads.anchors), model.backward(fe, r.grads.candidates)));
    return r.loss;
  };
  const first = run();
  let last = first;
  for (let s = 0; s < 20; s++) last = run();
  assert.ok(last < first, `loss ${first} -> ${last}`);
  const zRow = 11 * 8;
  assert.deepEqual([...model.table.slice(zRow, zRow + 8)], [...before.slice(zRow, zRow + 8)], "token 'z' was never used");
});

test('the training-code embedding equals the transformers.js one (loadEmbedder) within 1e-5, and same seed gives the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-static-'));
  try {
    const a = await buildStaticModel({ outDir: join(dir, 'a'), langs: ['de', 'th'], maxPerSource: 150, vocabSize: 6000, dim: 16, train: { epochs: 1 } });
    await buildStaticModel({ outDir: join(dir, 'b'), langs: ['de', 'th'], maxPerSource: 150, vocabSize: 6000, dim: 16, train: { epochs: 1 } });
    for (const f of ['onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json', 'README.md', 'build-info.json']) {
      assert.equal(sha256File(join(dir, 'a', f)), sha256File(join(dir, 'b', f)), `${f} differs between two builds with seed 42`);
    }
    const c = await buildStaticModel({ langs: ['de', 'th'], maxPerSource: 150, vocabSize: 6000, dim: 16, seed: 43, train: { epochs: 1 } });
    assert.notDeepEqual([...c.model.table.slice(0, 16)], [...a.model.table.slice(0, 16)], 'another seed gives another table');

    const texts = XQUAD_LANGS.map((l) => loadXquad(l).questions[5].question);
    texts.push('', 'ข้อ 1', 'नमस्ते दुनिया', '😀 emoji!');
    const emb = await loadEmbedder(join(dir, 'a'), { cache: false, progress: false, batchSize: 4 });
    try {
      const viaHf = await emb.embed(texts);
      const loaded = StaticEmbeddingModel.load(join(dir, 'a'));
      const ours = loaded.embed(texts);
      assert.equal(viaHf.length, ours.length);
      let maxDiff = 0;
      for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - viaHf[i]));
      assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
      assert.deepEqual([...loaded.table], [...a.model.table], 'save/load round trip');
    } finally {
      await emb.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

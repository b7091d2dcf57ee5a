import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { loadXquad } from '../../../lib/data/xquad.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { referencePooled } from './reference.js';
import { writeTinyEncoder } from './tiny-encoders.js';

env.allowRemoteModels = false;

const FAMILIES = ['bert', 'xlm-roberta'] as const;
const folders = Object.fromEntries(FAMILIES.map((f) => [f, writeTinyEncoder(f).dir])) as Record<(typeof FAMILIES)[number], string>;
after(() => {
  for (const d of Object.values(folders)) rmSync(d, { recursive: true, force: true });
});

const TEXTS = ['The cats sleep.', 'кошка спит', 'query: the dog', 'Wo schläft die Katze? xyz', '猫睡'];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const family of FAMILIES) {
  for (const pooling of ['mean', 'cls', 'pooler'] as const) {
    test(`${family}: the ONNX Runtime forward (${pooling} pooling, padded batch) equals the plain float64 reference within 1e-4`, async () => {
      const enc = await TransformerEncoder.load(folders[family], { pooling, threads: 1 });
      const tok = enc.tokenize(TEXTS);
      assert.ok(new Set(TEXTS.map((_, b) => tok.mask.subarray(b * tok.seq, (b + 1) * tok.seq).reduce((s, m) => s + m, 0n))).size > 1, 'the batch must need padding');
      const { pooled } = await enc.forward(tok);
      for (let b = 0; b < TEXTS.length; b++) {
        const ids: number[] = [];
        for (let t = 0; t < tok.seq; t++) if (tok.mask[b * tok.seq + t]) ids.push(tok.ids[b * tok.seq + t]);
        const ref = referencePooled(enc.weights, ids, pooling);
        const d = maxAbsDiff(pooled.subarray(b * enc.dim, (b + 1) * enc.dim), ref);
        assert.ok(d < 1e-4, `${TEXTS[b]}: max |diff| ${d}`);
        assert.ok(Math.hypot(...ref) > 0.1, 'reference vector is not trivial');
      }
      await enc.dispose();
    });
  }

  test(`${family}: padding never changes an embedding (alone vs. in a batch with a much longer text)`, async () => {
    const enc = await TransformerEncoder.load(folders[family], { threads: 1 });
    const long = 'the cat sleeps the dog sleeps the katze schläft query passage the cat sleeps again and again';
    for (const text of TEXTS) {
      const alone = await enc.embed([text]);
      const batched = await enc.embed([long, text]);
      const d = maxAbsDiff(alone, batched.subarray(enc.dim));
      assert.ok(d < 1e-5, `${text}: max |diff| ${d}`);
    }
    await enc.dispose();
  });

  test(`${family}: the exported onnx/model.onnx, loaded through loadEmbedder (transformers.js), equals the trainer's forward within 1e-4 on XQuAD text (mean and pooler pooling)`, async () => {
    const en = loadXquad('en').questions.slice(0, 6).map((q) => q.question);
    const de = loadXquad('de').questions.slice(0, 6).map((q) => q.question);
    const texts = [...en, ...de];
    const enc = await TransformerEncoder.load(folders[family], { threads: 1 });
    const mine = await enc.embed(texts);
    const emb = await loadEmbedder(folders[family], { pooling: 'mean', normalize: false, cache: false, batchSize: 5 });
    const theirs = await emb.embed(texts);
    const d = maxAbsDiff(mine, theirs);
    assert.ok(d < 1e-4, `max |diff| ${d}`);
    await emb.dispose();
    await enc.dispose();
    // pooler_output (BertPooler: tanh(W h_cls + b)) through loadEmbedder's 'pooler' pooling
    const encP = await TransformerEncoder.load(folders[family], { pooling: 'pooler', threads: 1 });
    const embP = await loadEmbedder(folders[family], { pooling: 'pooler', normalize: false, cache: false, batchSize: 5 });
    const dp = maxAbsDiff(await encP.embed(texts), await embP.embed(texts));
    assert.ok(dp < 1e-4, `pooler: max |diff| ${dp}`);
    await embP.dispose();
    await encP.dispose();
  });
}

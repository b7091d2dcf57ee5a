import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { env } from '@huggingface/transformers';
import { buildStaticOnnx, defaultTokenizerConfig, writeStaticModel } from '../../lib/models/static/format.js';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { addFp16Variant, tinyStaticModel, writeTinyModel } from '../fixtures/tiny-model.js';

env.allowRemoteModels = false;

const DIM = 8;
const { dir, model } = writeTinyModel({ dim: DIM, seed: 5 });
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-embed-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** Mean of table rows in float64 (the hand computation). */
function meanRows(ids: number[]): number[] {
  const v = new Array(DIM).fill(0);
  for (const id of ids) for (let d = 0; d < DIM; d++) v[d] += model.embeddings[id * DIM + d];
  return v.map((x) => x / ids.length);
}
function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

// [CLS]=2 the=4 cat=5 ##s=6 sleep=7 .=22 [SEP]=3 query=17 :=19 кошка=10 猫=14 睡=15 dog=20 ##gy=21 passage=18
const IDS: Record<string, number[]> = {
  'The cats sleep.': [2, 4, 5, 6, 7, 22, 3],
  'кошка': [2, 10, 3],
  '猫睡': [2, 14, 15, 3],
  'doggy dog': [2, 20, 21, 20, 3],
};

test('mean pooling of the static model equals the hand computation to 1e-6, shapes n x dim', async () => {
  const emb = await loadEmbedder(dir, { normalize: false, cache: false });
  try {
    assert.equal(emb.dim, DIM);
    const texts = Object.keys(IDS);
    const v = await emb.embed(texts);
    assert.equal(v.length, texts.length * DIM);
    texts.forEach((t, i) => assertClose(v.subarray(i * DIM, (i + 1) * DIM), meanRows(IDS[t])));
  } finally {
    await emb.dispose();
  }
});

test('normalize gives unit vectors equal to the normalised hand mean; cls pooling takes [CLS]', async () => {
  const emb = await loadEmbedder(dir, { cache: false });
  const cls = await loadEmbedder(dir, { pooling: 'cls', cache: false });
  try {
    const v = await emb.embed(['The cats sleep.']);
    assertClose(v, unit(meanRows(IDS['The cats sleep.'])));
    assertClose([Math.hypot(...v)], [1]);
    const c = await cls.embed(['The cats sleep.', 'кошка']);
    const clsRow = unit(meanRows([2]));
    assertClose(c.subarray(0, DIM), clsRow);
    assertClose(c.subarray(DIM), clsRow);
  } finally {
    await emb.dispose();
    await cls.dispose();
  }
});

test('prefixes change the tokens: query and passage prefixes are prepended by kind', async () => {
  const emb = await loadEmbedder(dir, { normalize: false, cache: false, queryPrefix: 'query: ', passagePrefix: 'passage: ' });
  try {
    const q = await emb.embed(['The cats sleep.'], { kind: 'query' });
    const p = await emb.embed(['The cats sleep.'], { kind: 'passage' });
    const d = await emb.embed(['The cats sleep.']);
    assertClose(q, meanRows([2, 17, 19, 4, 5, 6, 7, 22, 3]));
    assertClose(p, meanRows([2, 18, 19, 4, 5, 6, 7, 22, 3]));
    assert.deepEqual(d, p, "default kind is 'passage'");
    await assert.rejects(emb.embed(['x'], { kind: 'doc' as 'query' }), /unsupported kind 'doc'; use 'query', 'passage'/);
  } finally {
    await emb.dispose();
  }
});

test('batches are sorted by length and the input order is restored (duplicates included)', async () => {
  const one = await loadEmbedder(dir, { cache: false, batchSize: 1 });
  const two = await loadEmbedder(dir, { cache: false, batchSize: 2 });
  try {
    const texts = ['кошка', 'The cats sleep.', 'doggy dog', '猫睡', 'кошка', 'the cat', 'dog'];
    const a = await one.embed(texts);
    const b = await two.embed(texts);
    assertClose(b, a);
    for (let i = 0; i < texts.length; i++) assertClose(b.subarray(i * DIM, (i + 1) * DIM), await one.embed([texts[i]]));
    assert.equal(two.stats.computed, 6, 'the duplicate is computed once');
    assert.equal(two.stats.batches, 3);
    assert.deepEqual(await two.embed([]), new Float32Array(0));
  } finally {
    await one.dispose();
    await two.dispose();
  }
});

test('maxLength truncates the text tokens to fit and keeps [CLS] and [SEP] (as Python tokenizers do)', async () => {
  const emb = await loadEmbedder(dir, { normalize: false, cache: false, maxLength: 4 });
  try {
    const v = await emb.embed(['The cats sleep.', 'dog']);
    assertClose(v.subarray(0, DIM), meanRows([2, 4, 5, 3]));
    assertClose(v.subarray(DIM), meanRows([2, 20, 3]));
  } finally {
    await emb.dispose();
  }
});

test('the adapter runs after pooling and before normalisation', async () => {
  const seen: number[][] = [];
  const adapter = {
    id: 'shift-v1',
    apply(v: Float32Array, n: number, dim: number): Float32Array {
      seen.push([n, dim]);
      return v.map((x, i) => 2 * x + (i % dim === 0 ? 1 : 0));
    },
  };
  const emb = await loadEmbedder(dir, { cache: false, adapter });
  try {
    const v = await emb.embed(['кошка']);
    const expected = meanRows(IDS['кошка']).map((x, d) => 2 * x + (d === 0 ? 1 : 0));
    assertClose(v, unit(expected));
    assert.deepEqual(seen.at(-1), [1, DIM]);
  } finally {
    await emb.dispose();
  }
});

test('cache: a second embedder hits every text; options that change vectors and a changed model miss', async () => {
  const cache = join(scratch, 'cache-a');
  const texts = ['The cats sleep.', 'кошка', '猫睡', 'doggy dog'];
  const first = await loadEmbedder(dir, { cache });
  const v1 = await first.embed(texts);
  assert.deepEqual([first.stats.cacheHits, first.stats.computed], [0, 4]);
  await first.embed(texts.slice(0, 2));
  assert.deepEqual([first.stats.cacheHits, first.stats.computed], [2, 4]);
  await first.dispose();

  const second = await loadEmbedder(dir, { cache });
  assert.equal(second.id, first.id);
  const v2 = await second.embed([...texts].reverse());
  assert.deepEqual([second.stats.cacheHits, second.stats.computed], [4, 0]);
  for (let i = 0; i < 4; i++) assert.deepEqual(v2.subarray(i * DIM, (i + 1) * DIM), v1.subarray((3 - i) * DIM, (4 - i) * DIM));
  await second.dispose();
  // The namespace does not depend on prefixes, but a prefix changes the text fed to the model: a different entry.
  const prefixed = await loadEmbedder(dir, { cache, queryPrefix: 'query: ' });
  await prefixed.embed(['кошка'], { kind: 'query' });
  await prefixed.embed(['кошка'], { kind: 'passage' });
  assert.deepEqual([prefixed.stats.cacheHits, prefixed.stats.computed], [1, 1]);
  await prefixed.dispose();

  const cls = await loadEmbedder(dir, { cache, pooling: 'cls' });
  await cls.embed(texts);
  assert.deepEqual([cls.stats.cacheHits, cls.stats.computed], [0, 4]);
  await cls.dispose();

  // Same folder, retrained table: a new identity, nothing stale is served.
  const moved = join(scratch, 'model-copy');
  writeStaticModel(moved, tinyStaticModel({ dim: DIM, seed: 99 }));
  const retrained = await loadEmbedder(moved, { cache });
  assert.notEqual(retrained.id.split('@')[1], first.id.split('@')[1]);
  await retrained.embed(texts);
  assert.deepEqual([retrained.stats.cacheHits, retrained.stats.computed], [0, 4]);
  await retrained.dispose();

  // An adapter without id disables the cache.
  const noId = await loadEmbedder(dir, { cache, adapter: { apply: (v) => v } });
  assert.equal(noId.cache, undefined);
  await noId.dispose();
});

test('a hub id with remote models disabled fails with a message saying so and how to bring the model', async () => {
  await assert.rejects(loadEmbedder('Xenova/multilingual-e5-small', { cache: false }), (e: Error) => {
    assert.match(e.message, /^loadEmbedder: could not fetch 'Xenova\/multilingual-e5-small'/);
    assert.match(e.message, /remote models are disabled \(env\.allowRemoteModels is false/);
    assert.match(e.message, /huggingface-cli download Xenova\/multilingual-e5-small/);
    assert.match(e.message, /config\.json, tokenizer\.json, tokenizer_config\.json and onnx\/model\.onnx/);
    return true;
  });
});

test('bad inputs are named: missing folder, missing ONNX file for the dtype, unknown pooling, non-string text', async () => {
  await assert.rejects(loadEmbedder('./no/such/model-folder'), /model folder .*no\/such\/model-folder does not exist/);
  await assert.rejects(loadEmbedder(dir, { dtype: 'q8', cache: false }), /has no model_quantized\.onnx \(dtype 'q8'\)/);
  await assert.rejects(loadEmbedder(dir, { pooling: 'median' as 'mean' }), /unsupported pooling 'median'; use 'mean', 'cls'/);
  const emb = await loadEmbedder(dir, { cache: false });
  await assert.rejects(emb.embed(['ok', 3 as unknown as string]), /texts\[1\] is number; expected a string/);
  await emb.dispose();
});

test('a graph with a token_type_ids input (as BERT exports have) is fed and gives the same vectors', async () => {
  const typed = writeTinyModel({ dim: DIM, seed: 5, tokenTypeIds: true });
  const plain = await loadEmbedder(dir, { cache: false });
  const withTypes = await loadEmbedder(typed.dir, { cache: false });
  try {
    const texts = ['The cats sleep.', '猫睡'];
    assert.deepEqual(await withTypes.embed(texts), await plain.embed(texts));
  } finally {
    await plain.dispose();
    await withTypes.dispose();
    rmSync(typed.dir, { recursive: true, force: true });
  }
});

test('a relative folder path is detected by existence; the id names the folder and a content hash', async () => {
  const rel = relative(process.cwd(), dir);
  const emb = await loadEmbedder(rel, { cache: false });
  try {
    assert.match(emb.id, new RegExp(`^${basename(dir)}@sha256:[0-9a-f]{16}$`));
    assertClose(await emb.embed(['кошка']), unit(meanRows(IDS['кошка'])));
  } finally {
    await emb.dispose();
  }
});

test('progress: true reports on stderr (a bar on a TTY, a line otherwise) without changing the vectors', async () => {
  const emb = await loadEmbedder(dir, { cache: false, progress: true, batchSize: 1 });
  const write = process.stderr.write.bind(process.stderr);
  let drawn = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    drawn += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  let v: Float32Array;
  try {
    v = await emb.embed(['кошка', 'The cats sleep.']);
  } finally {
    process.stderr.write = write;
    await emb.dispose();
  }
  assert.match(drawn, /2\/2 texts/);
  assertClose(v.subarray(0, DIM), unit(meanRows(IDS['кошка'])));
});

test("dtype 'fp16' loads onnx/model_fp16.onnx and its float16 output is pooled in float32 (within fp16 rounding)", async () => {
  const fp16 = writeTinyModel({ dim: DIM, seed: 5 });
  addFp16Variant(fp16.dir, fp16.model);
  const a = await loadEmbedder(fp16.dir, { cache: false, normalize: false, dtype: 'fp16' });
  const b = await loadEmbedder(fp16.dir, { cache: false, normalize: false });
  try {
    assert.notEqual(a.id, b.id, 'the dtype file is part of the identity');
    const va = await a.embed(['The cats sleep.']);
    assert.ok(va instanceof Float32Array);
    assertClose(va, meanRows(IDS['The cats sleep.']), 2e-3);
    assertClose(await b.embed(['The cats sleep.']), meanRows(IDS['The cats sleep.']));
  } finally {
    await a.dispose();
    await b.dispose();
    rmSync(fp16.dir, { recursive: true, force: true });
  }
});

test("maxLength is capped by the tokenizer's model_max_length; a failing forward pass is reported with the batch's sizes", async () => {
  const small = mkdtempSync(join(tmpdir(), 'xlalign-embed-maxlen-'));
  try {
    const m = tinyStaticModel({ dim: DIM, seed: 5 });
    writeStaticModel(small, { ...m, tokenizerConfig: { ...defaultTokenizerConfig(), model_max_length: 5 } });
    const emb = await loadEmbedder(small, { cache: false, normalize: false });
    assert.equal(emb.config.maxLength, 5);
    assertClose(await emb.embed(['The cats sleep.']), meanRows([2, 4, 5, 6, 3]));
    await emb.dispose();
    // A table too small for the tokenizer's ids (not writable through writeStaticModel): onnxruntime fails in Gather.
    writeFileSync(join(small, 'onnx', 'model.onnx'), buildStaticOnnx(m.embeddings.slice(0, 10 * DIM), 10, DIM));
    const broken = await loadEmbedder(small, { cache: false });
    await assert.rejects(broken.embed(['dog']), /embed: model .* failed on a batch of 1 texts \(longest 3 tokens, maxLength 5, max_position_embeddings 8192\): .*Gather/);
    await broken.dispose();
  } finally {
    rmSync(small, { recursive: true, force: true });
  }
});

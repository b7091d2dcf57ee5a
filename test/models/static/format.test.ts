import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModel, AutoTokenizer, env } from '@huggingface/transformers';
import { readStaticModel, writeStaticModel } from '../../../lib/models/static/format.js';
import { XlalignError } from '../../../lib/util/errors.js';
import { TINY_VOCAB, tinyStaticModel, writeTinyModel } from '../../fixtures/tiny-model.js';

env.allowRemoteModels = false;

test('writeStaticModel writes the Hugging Face layout and readStaticModel reads it back exactly', () => {
  const { dir, model } = writeTinyModel({ dim: 6, seed: 3 });
  try {
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'README.md', join('onnx', 'model.onnx')]) {
      assert.ok(existsSync(join(dir, f)), f);
    }
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'bert');
    assert.equal(config.hidden_size, 6);
    assert.equal(config.vocab_size, TINY_VOCAB.length);
    const back = readStaticModel(dir);
    assert.equal(back.vocabSize, TINY_VOCAB.length);
    assert.equal(back.dim, 6);
    assert.deepEqual(back.embeddings, model.embeddings);
    assert.deepEqual(back.tokenizer, model.tokenizer);
    assert.equal(back.name, 'tiny-static');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('transformers.js loads the static model offline and last_hidden_state is the table rows of the token ids', async () => {
  const { dir, model } = writeTinyModel({ dim: 8, seed: 11 });
  try {
    const tokenizer = await AutoTokenizer.from_pretrained(dir);
    const encoder = await AutoModel.from_pretrained(dir, { dtype: 'fp32' });
    const inputs = tokenizer(['The cats sleep.', 'кошка 猫睡'], { padding: true, truncation: true });
    const ids = (inputs.input_ids.tolist() as bigint[][]).map((row) => row.map(Number));
    // [CLS] the cat ##s sleep . [SEP]  /  [CLS] кошка 猫 睡 [SEP] [PAD] [PAD]
    assert.deepEqual(ids, [
      [2, 4, 5, 6, 7, 22, 3],
      [2, 10, 14, 15, 3, 0, 0],
    ]);
    const { last_hidden_state: h } = await encoder(inputs);
    assert.deepEqual(h.dims, [2, 7, 8]);
    const data = h.data as Float32Array;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 7; t++) {
        for (let d = 0; d < 8; d++) {
          assert.equal(data[(b * 7 + t) * 8 + d], model.embeddings[ids[b][t] * 8 + d]);
        }
      }
    }
    await encoder.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeStaticModel rejects a table of the wrong size, non-finite values and ids beyond the table', () => {
  const m = tinyStaticModel({ dim: 4 });
  const dir = '/nonexistent-never-written';
  assert.throws(() => writeStaticModel(dir, { ...m, dim: 5 }), (e: unknown) => e instanceof XlalignError && /expected vocabSize x dim/.test(e.message));
  const bad = m.embeddings.slice();
  bad[9] = Number.NaN;
  assert.throws(() => writeStaticModel(dir, { ...m, embeddings: bad }), /embeddings\[9\] \(token 2, component 1\) is NaN/);
  const small = m.embeddings.slice(0, 10 * 4);
  assert.throws(() => writeStaticModel(dir, { ...m, embeddings: small, vocabSize: 10 }), /token id 22 but the table has only 10 rows/);
  assert.throws(() => writeStaticModel(dir, { ...m, tokenizer: {} }), /'model' field/);
  assert.ok(!existsSync(dir));
});

test('readStaticModel names the missing file', () => {
  assert.throws(() => readStaticModel('/nonexistent-model-dir'), /nonexistent-model-dir\/config.json is missing/);
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { tokenizeBatch } from '../../lib/embed/tokenize-batch.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

env.allowRemoteModels = false;
const { dir } = writeTinyModel();
after(() => rmSync(dir, { recursive: true, force: true }));

test('tokenizeBatch pads right with [PAD]=0 and masks the padding', async () => {
  const tok = await AutoTokenizer.from_pretrained(dir);
  const b = tokenizeBatch(tok, ['The cats sleep.', 'кошка'], { maxLength: 512 });
  assert.deepEqual(b.input_ids.dims, [2, 7]);
  assert.deepEqual((b.input_ids.tolist() as bigint[][]).map((r) => r.map(Number)), [
    [2, 4, 5, 6, 7, 22, 3],
    [2, 10, 3, 0, 0, 0, 0],
  ]);
  assert.deepEqual((b.attention_mask.tolist() as bigint[][]).map((r) => r.map(Number)), [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0, 0, 0],
  ]);
  assert.deepEqual(b.lengths, [7, 3]);
  assert.ok(b.token_type_ids, 'a BERT tokenizer returns token type ids');
});

test('truncation keeps [CLS] and [SEP] and cuts the text tokens; too small maxLength is an error', async () => {
  const tok = await AutoTokenizer.from_pretrained(dir);
  const b = tokenizeBatch(tok, ['The cats sleep.', 'dog'], { maxLength: 5 });
  assert.deepEqual((b.input_ids.tolist() as bigint[][]).map((r) => r.map(Number)), [
    [2, 4, 5, 6, 3],
    [2, 20, 3, 0, 0],
  ]);
  assert.throws(() => tokenizeBatch(tok, ['The cats sleep.'], { maxLength: 2 }), /maxLength 2 leaves no room for text tokens next to 2 special tokens; use maxLength >= 3/);
});

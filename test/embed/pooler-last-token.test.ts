import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { poolHidden } from '../../lib/embed/pooling.js';
import { applyEmbedPreset, embedPresetFor } from '../../lib/embed/presets.js';
import { buildStaticOnnx } from '../../lib/models/static/format.js';
import { tensorInfo } from '../../lib/util/onnx-graph.js';
import { TINY_VOCAB, writeTinyModel } from '../fixtures/tiny-model.js';

const { onnx } = onnxProto;

test('last_token takes the last position with mask 1, with right or left padding (hand-computed)', () => {
  // batch 2, seq 3, dim 2: row 1 right-padded (last real token at t=1), row 2 left-padded (t=2)
  const hidden = [1, 2, 3, 4, 5, 6, /* row 2 */ -1, 0, 7, 1, 8, 9];
  assert.deepEqual([...poolHidden(hidden, [1n, 1n, 0n, 0n, 1n, 1n], [2, 3, 2], 'last_token')], [3, 4, 8, 9]);
  assert.deepEqual([...poolHidden(hidden, [0, 0, 0, 1, 1, 1], [2, 3, 2], 'last_token')], [0, 0, 8, 9]);
  assert.throws(() => poolHidden(hidden, [1, 1, 1, 1, 1, 1], [2, 3, 2], 'pooler'), /pooler_output, not the hidden state; use poolerVectors/);
});

/** Add a `pooler_output` = tanh(hidden[:, 1, :]) (the first word after [CLS]) to a tiny model's ONNX. */
function addPooler(dir: string, embeddings: Float32Array, vocabSize: number, dim: number): void {
  const m = onnx.ModelProto.decode(buildStaticOnnx(embeddings, vocabSize, dim));
  const g = m.graph!;
  g.initializer!.push(onnx.TensorProto.create({ name: 'one', dataType: 7 /* INT64 */, dims: [], int64Data: [1] }));
  g.node!.push(onnx.NodeProto.create({ opType: 'Gather', input: ['last_hidden_state', 'one'], output: ['second'], name: 'second', attribute: [{ name: 'axis', type: 2, i: 1 }] }));
  g.node!.push(onnx.NodeProto.create({ opType: 'Tanh', input: ['second'], output: ['pooler_output'], name: 'tanh' }));
  g.output!.push(tensorInfo('pooler_output', 1 /* FLOAT */, ['batch_size', dim]));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), onnx.ModelProto.encode(m).finish());
}

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const row = (table: Float32Array, id: number, dim: number) => [...table.subarray(id * dim, (id + 1) * dim)];

test("pooling 'pooler' reads the model's pooler_output; 'last_token' the [SEP] of every text, whatever the padding", async () => {
  const { dir: plainDir } = writeTinyModel({ dim: 8 });
  const { dir, model } = writeTinyModel({ dim: 8 });
  const id = (t: string) => TINY_VOCAB.indexOf(t);
  // without a pooler_output: a clear error naming the outputs, at load time (the size probe)
  await assert.rejects(loadEmbedder(plainDir, { pooling: 'pooler', cache: false }), /pooling 'pooler': model .* has no 'pooler_output' \(outputs: last_hidden_state\)/);
  addPooler(dir, model.embeddings, model.vocabSize, model.dim);
  const pooler = await loadEmbedder(dir, { pooling: 'pooler', cache: false });
  const texts = ['the cat', 'katze schläft', 'dog the cat sleep'];
  const v = await pooler.embed(texts);
  for (const [i, first] of ['the', 'katze', 'dog'].entries()) {
    const expected = unit(row(model.embeddings, id(first), 8).map(Math.tanh));
    [...v.subarray(i * 8, (i + 1) * 8)].forEach((x, d) => assert.ok(Math.abs(x - expected[d]) < 1e-6, `${texts[i]}[${d}]: ${x} vs ${expected[d]}`));
  }
  await pooler.dispose();
  // last_token: texts of different lengths in one batch; the last real token is [SEP] in each (a pad would be [PAD])
  const last = await loadEmbedder(dir, { pooling: 'last_token', cache: false, batchSize: 8 });
  const w = await last.embed(texts);
  const sep = unit(row(model.embeddings, id('[SEP]'), 8));
  for (let i = 0; i < texts.length; i++) [...w.subarray(i * 8, (i + 1) * 8)].forEach((x, d) => assert.ok(Math.abs(x - sep[d]) < 1e-6, `${texts[i]}: not the [SEP] vector`));
  await last.dispose();
});

test('presets: e5 mean + query:/passage:, bge-m3 cls, LaBSE pooler; the user overrides any of them', () => {
  assert.equal(embedPresetFor('Xenova/multilingual-e5-small')?.name, 'multilingual-e5');
  assert.equal(embedPresetFor('/models/intfloat/multilingual-e5-large')?.name, 'multilingual-e5');
  assert.equal(embedPresetFor('BAAI/bge-m3')?.name, 'bge-m3');
  assert.equal(embedPresetFor('sentence-transformers/LaBSE')?.name, 'labse');
  assert.equal(embedPresetFor('data/models/xlalign-static-v1'), undefined);
  assert.deepEqual(applyEmbedPreset('Xenova/multilingual-e5-small', {}).options, { pooling: 'mean', queryPrefix: 'query: ', passagePrefix: 'passage: ' });
  const r = applyEmbedPreset('Xenova/multilingual-e5-small', { queryPrefix: 'q: ', batchSize: 4 });
  assert.deepEqual(r.options, { pooling: 'mean', queryPrefix: 'q: ', passagePrefix: 'passage: ', batchSize: 4 });
  assert.deepEqual(r.applied, { pooling: 'mean', passagePrefix: 'passage: ' });
  assert.equal(applyEmbedPreset('Xenova/LaBSE', {}).options.pooling, 'pooler');
  assert.equal(applyEmbedPreset('BAAI/bge-m3', { pooling: 'mean' }).options.pooling, 'mean');
});

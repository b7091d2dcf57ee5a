import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { param } from '../../../lib/models/transformer/weights.js';
import { readSafetensors } from '../../../lib/models/transformer/safetensors.js';
import { EncoderHead } from '../../../lib/train/heads/encoder-head.js';
import { fineTuneEncoder } from '../../../lib/train/fine-tune-encoder.js';
import { AlignmentLoss } from '../../../lib/train/losses/alignment-loss.js';
import { buildTrainingSamples } from '../../../lib/train/samples.js';
import { writeTinyEncoder } from './tiny-encoders.js';
import { trainOptions } from './train-options.js';

env.allowRemoteModels = false;
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-enc-train-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const samples = buildTrainingSamples({ size: 8, langs: ['de', 'el'], seed: 3 });

for (const family of ['bert', 'xlm-roberta'] as const) {
  test(`${family}: one AdamW step of the EncoderHead lowers the alignment loss on the same batch`, async () => {
    const { dir } = writeTinyEncoder(family);
    const enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
    const head = new EncoderHead(enc, samples, { microBatch: 3, wordEmbeddings: 'sparse' });
    const loss = new AlignmentLoss();
    const batch = [0, 1, 2, 3, 4, 5];
    const r0 = loss.forward(await head.forward(batch));
    await head.backward(r0.grads);
    await head.step(1e-3);
    const r1 = loss.forward(await head.forward(batch));
    assert.ok(r1.loss < r0.loss - 1e-3, `loss ${r0.loss} -> ${r1.loss}`);
    await enc.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
}

test('GradCache: micro-batches of 1 give the same step as one full-batch pass', async () => {
  const { dir } = writeTinyEncoder('bert');
  const run = async (microBatch: number) => {
    const enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
    const head = new EncoderHead(enc, samples, { microBatch });
    const r = new AlignmentLoss().forward(await head.forward([0, 1, 2, 3]));
    await head.backward(r.grads);
    await head.step(1e-3);
    return enc;
  };
  const a = await run(1);
  const b = await run(4);
  for (const n of ['encoder.layer.0.attention.self.query.weight', 'encoder.layer.1.output.dense.bias', 'embeddings.position_embeddings.weight']) {
    const x = param(a.weights, n);
    const y = param(b.weights, n);
    let d = 0;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
    assert.ok(d < 1e-6, `${n}: ${d}`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('topLayers and wordEmbeddings decide what moves: frozen parts stay bit-identical, sparse rows only where the batch has tokens', async () => {
  const { dir } = writeTinyEncoder('xlm-roberta');
  const snapshot = (enc: TransformerEncoder, n: string) => Float32Array.from(param(enc.weights, n));
  // top 1 of 2 layers
  let enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
  let head = new EncoderHead(enc, samples, { topLayers: 1 });
  const names = ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight', 'embeddings.LayerNorm.weight', 'encoder.layer.0.output.dense.weight', 'encoder.layer.1.output.dense.weight'];
  let before = Object.fromEntries(names.map((n) => [n, snapshot(enc, n)]));
  let r = new AlignmentLoss().forward(await head.forward([0, 1, 2]));
  await head.backward(r.grads);
  await head.step(1e-3);
  for (const n of names.slice(0, 4)) assert.deepEqual(param(enc.weights, n), before[n], `${n} must stay frozen`);
  assert.notDeepEqual(param(enc.weights, names[4]), before[names[4]]);
  assert.throws(() => new EncoderHead(enc, samples, { topLayers: 1, wordEmbeddings: 'sparse' }), /use one or the other/);
  assert.throws(() => new EncoderHead(enc, samples, { topLayers: 3 }), /topLayers must be an integer in \[1, 2\]/);
  // all layers, sparse word rows; short texts of different lengths, so every role's micro-batch is padded
  enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
  const short = [
    { lang: 'de', id: 's0', queryPivot: 'the cat', queryTarget: 'katze', docPivot: 'the cat sleeps.', docTarget: 'katze schläft.' },
    { lang: 'ru', id: 's1', queryPivot: 'the dog sleeps', queryTarget: 'кошка', docPivot: 'dog.', docTarget: 'кошка спит' },
    { lang: 'el', id: 's2', queryPivot: 'query', queryTarget: 'γάτα γάτα', docPivot: 'passage: the dog', docTarget: 'γάτα' },
  ];
  head = new EncoderHead(enc, short, { wordEmbeddings: 'sparse' });
  before = Object.fromEntries(names.map((n) => [n, snapshot(enc, n)]));
  const batch = [0, 1, 2];
  const used = new Set<number>();
  for (const role of ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const) {
    const tok = enc.tokenize(batch.map((i) => short[i][role]));
    assert.ok(tok.mask.includes(0n), `${role}: the batch must be padded`);
    tok.ids.forEach((id, i) => tok.mask[i] && used.add(id));
  }
  assert.ok(!used.has(enc.config.padTokenId));
  r = new AlignmentLoss().forward(await head.forward(batch));
  await head.backward(r.grads);
  await head.step(1e-3);
  const H = enc.dim;
  const word = param(enc.weights, names[0]);
  for (let id = 0; id < enc.config.vocabSize; id++) {
    const moved = word.subarray(id * H, (id + 1) * H).some((v, d) => v !== before[names[0]][id * H + d]);
    assert.equal(moved, used.has(id), `word row ${id}: moved ${moved}, in batch ${used.has(id)}`);
  }
  for (const n of names.slice(1)) assert.notDeepEqual(param(enc.weights, n), before[n], `${n} must train`);
  rmSync(dir, { recursive: true, force: true });
});

test('fineTuneEncoder writes model/, loss.csv and training.json; the model loads through loadEmbedder with the trainer\'s embeddings; a SIGKILLed run resumes to the same weights', async () => {
  const { dir } = writeTinyEncoder('xlm-roberta', { dtype: 'F16' });
  const full = join(scratch, 'full');
  const res = await fineTuneEncoder({ ...trainOptions(dir), outDir: full });
  assert.ok(res.steps >= 4, `steps ${res.steps}`);
  for (const f of ['model/config.json', 'model/model.safetensors', 'model/onnx/model.onnx', 'model/tokenizer.json', 'loss.csv', 'training.json']) assert.ok(existsSync(join(full, f)), f);
  assert.ok(!existsSync(join(full, 'checkpoint')), 'the checkpoint is removed at the end');
  const csv = readFileSync(join(full, 'loss.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, res.steps + 1);
  assert.match(csv[0], /^step,epoch,loss,lr,/);
  // dtype kept (F16), and the folder embeds as the trainer does on the stored (rounded) weights.
  assert.equal(readSafetensors(join(full, 'model/model.safetensors')).tensors.get('encoder.layer.0.output.dense.weight')!.dtype, 'F16');
  const reloaded = await TransformerEncoder.load(join(full, 'model'), { threads: 1 });
  const probe = samples.slice(0, 3).map((s) => s.queryTarget);
  const mine = await reloaded.embed(probe);
  const emb = await loadEmbedder(join(full, 'model'), { pooling: 'mean', normalize: false, cache: false });
  const theirs = await emb.embed(probe);
  let d = 0;
  for (let i = 0; i < mine.length; i++) d = Math.max(d, Math.abs(mine[i] - theirs[i]));
  assert.ok(d < 1e-4, `transformers.js vs trainer: ${d}`);
  await emb.dispose();

  // Kill a run after step 2 (SIGKILL, no cleanup), then resume in this process.
  const killed = join(scratch, 'killed');
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/train-child.ts'), dir, killed, '2'], { encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  assert.ok(existsSync(join(killed, 'checkpoint/state.json')), 'a checkpoint was written before the kill');
  assert.equal(JSON.parse(readFileSync(join(killed, 'checkpoint/state.json'), 'utf8')).step, 2);
  const resumed = await fineTuneEncoder({ ...trainOptions(dir), outDir: killed });
  assert.equal(resumed.stepsThisRun, res.steps - 2);
  assert.deepEqual(readFileSync(join(killed, 'model/model.safetensors')), readFileSync(join(full, 'model/model.safetensors')), 'resumed weights differ from the uninterrupted run');
  assert.deepEqual(resumed.history.map((h) => h.loss), res.history.map((h) => h.loss));
  rmSync(dir, { recursive: true, force: true });
});

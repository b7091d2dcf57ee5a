import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { saveEncoderFolder } from '../../../lib/models/transformer/folder.js';
import { resolveEncoderFolder } from '../../../lib/models/transformer/hub.js';
import { encodeSafetensors, readSafetensors } from '../../../lib/models/transformer/safetensors.js';
import { param, readEncoderWeights } from '../../../lib/models/transformer/weights.js';
import { writeTinyEncoder } from './tiny-encoders.js';

env.allowRemoteModels = false;
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-enc-folder-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function header(path: string): Record<string, { dtype: string; shape: number[] }> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const h = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  delete h.__metadata__;
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, { dtype: (v as { dtype: string }).dtype, shape: (v as { shape: number[] }).shape }]));
}

test('safetensors: a file written and read back has the same bytes, names, shapes, dtypes and values (F32, F16, BF16, I64)', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const { dir } = writeTinyEncoder('bert', { dtype });
    const path = join(dir, 'model.safetensors');
    const bytes = readFileSync(path);
    const st = readSafetensors(path);
    assert.deepEqual(Buffer.from(encodeSafetensors(st)), bytes, `${dtype}: re-encoding changes the bytes`);
    const h = header(path);
    assert.equal(h['embeddings.word_embeddings.weight'].dtype, dtype);
    assert.equal(h['embeddings.position_ids'].dtype, 'I64');
    assert.equal(new DataView(st.tensors.get('embeddings.position_ids')!.raw!.buffer).getBigInt64(8 * 5, true), 5n);
    rmSync(dir, { recursive: true, force: true });
  }
  // Known encodings: 1.5 = 0x3e00 (F16), 0x3fc0 (BF16); -2 = 0xc000 / 0xc000.
  const file = { tensors: new Map([['a', { dtype: 'F16', shape: [2], data: Float32Array.from([1.5, -2]) }], ['b', { dtype: 'BF16', shape: [2], data: Float32Array.from([1.5, -2]) }]]) };
  const enc = Buffer.from(encodeSafetensors(file));
  const n = Number(enc.readBigUInt64LE(0));
  assert.equal(n % 8, 0, 'header padded to 8 bytes');
  assert.deepEqual([...enc.subarray(8 + n)], [0x00, 0x3e, 0x00, 0xc0, 0xc0, 0x3f, 0x00, 0xc0]);
});

test('safetensors: a malformed file fails with a message naming the file and the tensor', () => {
  const path = join(scratch, 'bad.safetensors');
  const good = Buffer.from(encodeSafetensors({ tensors: new Map([['w', { dtype: 'F32', shape: [3], data: new Float32Array(3) }]]) }));
  writeFileSync(path, good.subarray(0, good.length - 4));
  assert.throws(() => readSafetensors(path), (e: Error) => e.message.includes(path) && e.message.includes("'w'") && e.message.includes('data_offsets'));
});

for (const family of ['bert', 'xlm-roberta'] as const) {
  test(`${family}: save -> load gives the same embeddings; the saved folder keeps names, shapes and dtypes and loads through loadEmbedder`, async () => {
    const { dir } = writeTinyEncoder(family, { dtype: 'BF16' });
    const enc = await TransformerEncoder.load(dir, { threads: 1 });
    // Change the weights (as training would), save, reload.
    const w = param(enc.weights, 'encoder.layer.1.output.dense.weight');
    for (let i = 0; i < w.length; i++) w[i] *= 1.5;
    const texts = ['The cats sleep.', 'кошка спит', 'query: the dog'];
    const before = await enc.embed(texts);
    const out = join(scratch, `${family}-saved`);
    saveEncoderFolder(enc.weights, dir, out);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors', 'onnx/model.onnx']) assert.ok(existsSync(join(out, f)), f);
    assert.deepEqual(header(join(out, 'model.safetensors')), header(join(dir, 'model.safetensors')));
    const again = await TransformerEncoder.load(out, { threads: 1 });
    const after = await again.embed(texts);
    // bf16 storage rounds the changed weights; the reloaded model must equal the rounded one exactly.
    const rounded = readEncoderWeights(out);
    assert.deepEqual(param(rounded, 'encoder.layer.0.attention.self.query.weight'), param(enc.weights, 'encoder.layer.0.attention.self.query.weight'));
    let d = 0;
    for (let i = 0; i < before.length; i++) d = Math.max(d, Math.abs(before[i] - after[i]));
    assert.ok(d < 2e-2, `bf16 round trip moved embeddings by ${d}`);
    const emb = await loadEmbedder(out, { pooling: 'mean', normalize: false, cache: false });
    const viaHub = await emb.embed(texts);
    let d2 = 0;
    for (let i = 0; i < after.length; i++) d2 = Math.max(d2, Math.abs(after[i] - viaHub[i]));
    assert.ok(d2 < 1e-4, `transformers.js vs trainer: ${d2}`);
    const names = (emb as unknown as { encoder: { sessions: { model: { inputNames: string[]; outputNames: string[] } } } }).encoder.sessions.model;
    assert.deepEqual([...names.inputNames].sort(), family === 'bert' ? ['attention_mask', 'input_ids', 'token_type_ids'] : ['attention_mask', 'input_ids']);
    assert.deepEqual(names.outputNames, ['last_hidden_state', 'pooler_output']);
    await emb.dispose();
    await enc.dispose();
    await again.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${family}: save keeps fp32 weights exactly (save -> load -> identical embeddings)`, async () => {
    const { dir } = writeTinyEncoder(family);
    const enc = await TransformerEncoder.load(dir, { threads: 1 });
    const out = join(scratch, `${family}-fp32`);
    saveEncoderFolder(enc.weights, dir, out);
    const again = await TransformerEncoder.load(out, { threads: 1 });
    assert.deepEqual(await again.embed(['the cat', 'кошка']), await enc.embed(['the cat', 'кошка']));
    await enc.dispose();
    await again.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
}

test('readEncoderWeights: unsupported model_type, a folder with only ONNX weights, a wrong shape fail with clear messages', () => {
  const { dir } = writeTinyEncoder('bert');
  const cfgPath = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, model_type: 'distilbert' }));
  assert.throws(() => readEncoderWeights(dir), /unsupported model_type 'distilbert'; use 'bert' or 'xlm-roberta'/);
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, hidden_size: 48 }));
  assert.throws(() => readEncoderWeights(dir), /tensor 'embeddings.word_embeddings.weight' has shape \[\d+, 32\]; config.json implies \[\d+, 48\]/);
  writeFileSync(cfgPath, JSON.stringify(cfg));
  rmSync(join(dir, 'model.safetensors'));
  assert.throws(() => readEncoderWeights(dir), (e: Error) => e.message.includes(join(dir, 'model.safetensors')) && e.message.includes('onnx/model.onnx') && e.message.includes('safe_serialization'));
  mkdirSync(join(scratch, 'empty'));
  assert.throws(() => readEncoderWeights(join(scratch, 'empty')), /config.json is missing/);
  rmSync(dir, { recursive: true, force: true });
});

test('resolveEncoderFolder: a local folder is itself; an uncached hub id offline fails naming the file and how to bring the folder', async () => {
  const { dir } = writeTinyEncoder('bert');
  assert.equal(await resolveEncoderFolder(dir), dir);
  await assert.rejects(resolveEncoderFolder('xlalign-test/not-cached-model'), (e: Error) => e.message.includes('config.json') && e.message.includes('no network access') && e.message.includes('huggingface-cli download xlalign-test/not-cached-model'));
  rmSync(dir, { recursive: true, force: true });
});

test('resolveEncoderFolder: a hub id is fetched once into transformers.js\'s file cache (served here by a local HTTP server), optional files may be missing', async () => {
  const { dir } = writeTinyEncoder('xlm-roberta');
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    const m = /^\/xlalign-test\/tiny-xlmr\/resolve\/main\/(.+)$/.exec(req.url!);
    const file = m && join(dir, decodeURIComponent(m[1]));
    if (!file || !existsSync(file)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const saved = { remoteHost: env.remoteHost, cacheDir: env.cacheDir, allow: env.allowRemoteModels };
  try {
    env.remoteHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    env.cacheDir = join(scratch, 'hub-cache');
    env.allowRemoteModels = true;
    const got = await resolveEncoderFolder('xlalign-test/tiny-xlmr');
    assert.equal(got, join(scratch, 'hub-cache', 'xlalign-test/tiny-xlmr'));
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) assert.deepEqual(readFileSync(join(got, f)), readFileSync(join(dir, f)), f);
    const n = requests.length;
    assert.equal(await resolveEncoderFolder('xlalign-test/tiny-xlmr'), got);
    assert.ok(requests.length - n <= 5, 'the required files are not fetched again');
    assert.ok(requests.slice(n).every((u) => !u.endsWith('model.safetensors')));
    const enc = await TransformerEncoder.load(got, { threads: 1 });
    assert.equal(enc.config.modelType, 'xlm-roberta');
    await enc.dispose();
  } finally {
    env.remoteHost = saved.remoteHost;
    env.cacheDir = saved.cacheDir;
    env.allowRemoteModels = saved.allow;
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('save with ONNX external data (as for models over 2 GB): onnx/model.onnx_data holds the weights, config.json says so, transformers.js loads it with the trainer\'s embeddings', async () => {
  const { dir } = writeTinyEncoder('bert');
  const enc = await TransformerEncoder.load(dir, { threads: 1 });
  const out = join(scratch, 'external');
  saveEncoderFolder(enc.weights, dir, out, { externalData: true });
  const data = readFileSync(join(out, 'onnx/model.onnx_data'));
  const model = readFileSync(join(out, 'onnx/model.onnx'));
  assert.ok(data.length > 4 * param(enc.weights, 'embeddings.word_embeddings.weight').length, `external data: ${data.length} bytes`);
  assert.ok(model.length < data.length / 4, `model.onnx keeps no weights: ${model.length} bytes`);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config'].use_external_data_format, true);
  const texts = ['the cat sleeps', 'кошка спит'];
  const emb = await loadEmbedder(out, { normalize: false, cache: false });
  const theirs = await emb.embed(texts);
  const mine = await enc.embed(texts);
  assert.ok(mine.every((v, i) => Math.abs(v - theirs[i]) < 1e-4));
  await emb.dispose();
  // Saving again without external data removes the stale data file and the config flag.
  saveEncoderFolder(enc.weights, dir, out);
  assert.ok(!existsSync(join(out, 'onnx/model.onnx_data')));
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config'], undefined);
  await enc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

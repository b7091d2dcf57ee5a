import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { findCheckpoint } from '../../../lib/nn/checkpoint.js';
import { readPytorchBin } from '../../../lib/nn/pytorch-bin.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../../../lib/nn/safetensors.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { readEncoderWeights } from '../../../lib/models/transformer/weights.js';
import { fineTuneEncoder } from '../../../lib/train/fine-tune-encoder.js';
import { writeTinyEncoder } from './tiny-encoders.js';
import { trainOptions } from './train-options.js';

/**
 * The hub's weight forms (model.safetensors, sharded safetensors, pytorch_model.bin in the
 * torch.save zip format) load to the same tensors, embed the same and fine-tune; a pickle
 * with code in it, and the legacy format, are refused. The .bin twins are written by
 * PyTorch (Debian's python3-torch); those tests are skipped without it.
 */
env.allowRemoteModels = false;
const PYTHON = process.env.XLALIGN_TORCH_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `PyTorch is not available at ${PYTHON} (install Debian's python3-torch and python3-numpy)`;
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-ckpt-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const TEXTS = ['The cats sleep.', 'кошка спит', 'the dog sleeps'];

function torch(...args: string[]): void {
  const r = spawnSync(PYTHON, ['scripts/encoder-torch-reference.py', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** A copy of `dir` without its weights (config, tokenizer files, ONNX export). */
function twinWithoutWeights(dir: string, name: string): string {
  const out = join(scratch, name);
  cpSync(dir, out, { recursive: true });
  rmSync(join(out, 'model.safetensors'));
  return out;
}

function sameTensor(name: string, a: SafeTensor | undefined, b: SafeTensor | undefined): void {
  assert.ok(a && b, `${name} missing`);
  assert.equal(a.dtype, b.dtype, `${name} dtype`);
  assert.deepEqual(a.shape, b.shape, `${name} shape`);
  if (a.data) assert.deepEqual(a.data, b.data, `${name} values`);
  else assert.deepEqual(Buffer.from(a.raw!), Buffer.from(b.raw!), `${name} bytes`);
}

for (const [dtype, st] of [['f32', 'F32'], ['f16', 'F16'], ['bf16', 'BF16']] as const) {
  test(`pytorch_model.bin (${dtype}, torch.save zip) reads to the same tensors as model.safetensors, tied and strided views included`, { skip }, async () => {
    const { dir } = writeTinyEncoder('bert', { dtype: st });
    const bin = twinWithoutWeights(dir, `bin-${dtype}`);
    torch('save-bin', dir, join(bin, 'pytorch_model.bin'), dtype);
    assert.equal(findCheckpoint(bin)?.format, 'pytorch-bin');
    const a = readEncoderWeights(dir);
    const b = readEncoderWeights(bin);
    for (const [n, t] of a.file.tensors) sameTensor(n, t, b.file.tensors.get(n));
    const word = a.file.tensors.get('embeddings.word_embeddings.weight')!;
    const H = word.shape[1];
    const tied = b.file.tensors.get('extra.tied')!;
    assert.deepEqual(tied.shape, [3, H]);
    assert.deepEqual(tied.data, word.data!.slice(2 * H, 5 * H));
    const tr = b.file.tensors.get('extra.transposed')!;
    assert.deepEqual(tr.shape, [H, 2]);
    for (let i = 0; i < H; i++) for (let j = 0; j < 2; j++) assert.equal(tr.data![i * 2 + j], word.data![(j + 1) * H + i]);
    const ea = await TransformerEncoder.load(dir, { threads: 1 });
    const eb = await TransformerEncoder.load(bin, { threads: 1 });
    assert.deepEqual(await eb.embed(TEXTS), await ea.embed(TEXTS));
    await ea.dispose();
    await eb.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
}

test('sharded safetensors (model.safetensors.index.json + 2 shards) read as the single file; a missing shard is named', async () => {
  const { dir } = writeTinyEncoder('xlm-roberta', { dtype: 'BF16' });
  const sharded = twinWithoutWeights(dir, 'sharded');
  const whole = readSafetensors(join(dir, 'model.safetensors'));
  const names = [...whole.tensors.keys()];
  const shards = [names.slice(0, 7), names.slice(7)];
  const weightMap: Record<string, string> = {};
  shards.forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(sharded, file), { tensors: new Map(part.reverse().map((n) => [n, whole.tensors.get(n)!])), metadata: { format: 'pt' } });
    for (const n of part) weightMap[n] = file;
  });
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  assert.equal(findCheckpoint(sharded)?.format, 'safetensors-sharded');
  const a = readEncoderWeights(dir);
  const b = readEncoderWeights(sharded);
  for (const [n, t] of a.file.tensors) sameTensor(n, t, b.file.tensors.get(n));
  const ea = await TransformerEncoder.load(dir, { threads: 1 });
  const eb = await TransformerEncoder.load(sharded, { threads: 1 });
  assert.deepEqual(await eb.embed(TEXTS), await ea.embed(TEXTS));
  await ea.dispose();
  await eb.dispose();
  rmSync(join(sharded, 'model-00002-of-00002.safetensors'));
  assert.throws(() => readEncoderWeights(sharded), /model.safetensors.index.json names the shard model-00002-of-00002.safetensors, which is missing/);
  rmSync(dir, { recursive: true, force: true });
});

test('a pickle that would call os.system is refused before anything runs; the legacy format is refused with a message', { skip }, () => {
  const evil = join(scratch, 'evil.bin');
  const marker = join(scratch, 'pwned');
  torch('save-evil', evil, marker);
  assert.throws(() => readPytorchBin(evil), (e: Error) => /refusing to load: the pickle uses the global (posix|os)\.system/.test(e.message) && e.message.includes(evil));
  assert.throws(() => readPytorchBin(evil + '4'), /refusing to load: the pickle uses the global builtins\.eval/);
  assert.ok(!existsSync(marker), 'the pickle ran code');
  const { dir } = writeTinyEncoder('bert');
  const legacy = twinWithoutWeights(dir, 'legacy');
  torch('save-bin', dir, join(legacy, 'pytorch_model.bin'), 'f32', 'legacy');
  assert.throws(() => readEncoderWeights(legacy), /pytorch_model.bin is in PyTorch's legacy \(pre-1.6, non-zip\) format/);
  rmSync(dir, { recursive: true, force: true });
});

test('a pytorch_model.bin twin and a sharded twin fine-tune; the output is one model.safetensors that embeds as the trainer does', { skip }, async () => {
  const { dir } = writeTinyEncoder('bert', { dtype: 'F16' });
  const bin = twinWithoutWeights(dir, 'ft-bin');
  torch('save-bin', dir, join(bin, 'pytorch_model.bin'), 'f16');
  const sharded = twinWithoutWeights(dir, 'ft-sharded');
  const whole = readSafetensors(join(dir, 'model.safetensors'));
  const names = [...whole.tensors.keys()];
  const weightMap: Record<string, string> = {};
  [names.slice(0, 10), names.slice(10)].forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(sharded, file), { tensors: new Map(part.map((n) => [n, whole.tensors.get(n)!])) });
    for (const n of part) weightMap[n] = file;
  });
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  const outs: Buffer[] = [];
  for (const src of [dir, bin, sharded]) {
    const out = join(scratch, `ft-out-${outs.length}`);
    const opts = { ...trainOptions(src), epochs: 1, checkpointEvery: 0 };
    const r = await fineTuneEncoder({ ...opts, outDir: out });
    assert.ok(r.steps >= 3);
    const files = readdirSync(join(out, 'model')).sort();
    assert.ok(files.includes('model.safetensors'), files.join(', '));
    assert.ok(!files.some((f) => f.endsWith('.bin') || f.includes('-of-') || f.endsWith('.index.json')), `no source weight files copied: ${files.join(', ')}`);
    const written = readSafetensors(join(out, 'model', 'model.safetensors'));
    assert.equal(written.tensors.get('encoder.layer.0.output.dense.weight')!.dtype, 'F16');
    const reloaded = await TransformerEncoder.load(join(out, 'model'), { threads: 1 });
    const emb = await loadEmbedder(join(out, 'model'), { pooling: 'mean', normalize: false, cache: false });
    const mine = await reloaded.embed(TEXTS);
    const theirs = await emb.embed(TEXTS);
    let d = 0;
    for (let i = 0; i < mine.length; i++) d = Math.max(d, Math.abs(mine[i] - theirs[i]));
    assert.ok(d < 1e-4, `transformers.js vs trainer: ${d}`);
    await emb.dispose();
    await reloaded.dispose();
    // the same start in three forms trains to the same weights (extra tensors of the .bin twin aside)
    const core = new Map([...written.tensors].filter(([n]) => !n.startsWith('extra.')));
    outs.push(Buffer.from(JSON.stringify([...core].map(([n, t]) => [n, Array.from(t.data ?? t.raw!)]))));
  }
  assert.ok(outs[1].equals(outs[0]), 'pytorch_model.bin start trains to other weights than model.safetensors');
  assert.ok(outs[2].equals(outs[0]), 'sharded start trains to other weights than model.safetensors');
  rmSync(dir, { recursive: true, force: true });
});

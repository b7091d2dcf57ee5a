import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { writeTinyEncoder } from './tiny-encoders.js';

env.allowRemoteModels = false;
const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');

function xlalign(args: string[], cwd: string) {
  return spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

for (const family of ['bert', 'xlm-roberta'] as const) {
  test(`xlalign train --head encoder on a ${family} folder${family === 'xlm-roberta' ? ' without an ONNX export' : ''}: trains, writes <out>/model (loads through transformers.js with the trainer's embeddings) and before/after`, async () => {
    const { dir } = writeTinyEncoder(family);
    if (family === 'xlm-roberta') rmSync(join(dir, 'onnx'), { recursive: true }); // a safetensors-only folder, as on the hub
    const cwd = mkdtempSync(join(tmpdir(), `cli-train-enc-${family}-`));
    const r = xlalign(['train', '--head', 'encoder', '--retriever', dir, '--samples', '24', '--epochs', '1', '--train-batch-size', '8', '--lr', '1e-3', '--langs', 'de', '--scenarios', 'mixed-target', '--resamples', '50', '--no-cache', '--out', 'out'], cwd);
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['model/config.json', 'model/model.safetensors', 'model/onnx/model.onnx', 'model/tokenizer.json', 'loss.csv', 'training.json', 'before-after.json', 'deltas.md', 'config.json']) assert.ok(existsSync(join(cwd, 'out', f)), f);
    assert.equal(existsSync(join(cwd, 'out/base-model')), family === 'xlm-roberta', 'a base export is written only when the folder has no onnx/model.onnx');
    const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
    assert.equal(config.head, 'encoder');
    assert.equal(config.loop.steps, 3);
    const deltas = JSON.parse(readFileSync(join(cwd, 'out/before-after.json'), 'utf8'));
    assert.ok(deltas.some((d: { metric: string; lang: string }) => d.metric === 'pivot_inclination' && d.lang === 'de'));
    const texts = ['Wo schläft die Katze?', 'the cat sleeps'];
    const enc = await TransformerEncoder.load(join(cwd, 'out/model'), { threads: 1 });
    const mine = await enc.embed(texts);
    const emb = await loadEmbedder(join(cwd, 'out/model'), { normalize: false, cache: false });
    const theirs = await emb.embed(texts);
    assert.ok(mine.every((v, i) => Math.abs(v - theirs[i]) < 1e-4));
    await emb.dispose();
    await enc.dispose();
    rmSync(cwd, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
}

test('xlalign train --head encoder fails before any evaluation on a static model, an unsupported model_type or a folder without safetensors', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-train-enc-bad-'));
  let r = xlalign(['train', '--head', 'encoder', '--retriever', 'default', '--out', 'out'], cwd);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /static model/);
  const { dir } = writeTinyEncoder('bert');
  rmSync(join(dir, 'model.safetensors'));
  r = xlalign(['train', '--head', 'encoder', '--retriever', dir, '--out', 'out'], cwd);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /model\.safetensors is missing.*onnx\/model\.onnx/);
  assert.ok(!existsSync(join(cwd, 'out/before')), 'no evaluation ran');
  rmSync(dir, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

test('xlalign train --head encoder --device cuda without the CUDA provider: a one-line error saying how to install it, before any work', async (t) => {
  const { deviceAvailable } = await import('../../../lib/nn/ort-device.js');
  if (deviceAvailable('cuda')) return t.skip('this onnxruntime-node has the CUDA provider');
  const { dir } = writeTinyEncoder('bert');
  const cwd = mkdtempSync(join(tmpdir(), 'cli-train-cuda-'));
  const r = xlalign(['train', '--head', 'encoder', '--retriever', dir, '--samples', '24', '--langs', 'de', '--no-cache', '--device', 'cuda', '--out', 'out'], cwd);
  assert.notEqual(r.status, 0);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /CUDA execution provider.*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/);
  assert.ok(!existsSync(join(cwd, 'out/before')), 'no evaluation ran');
  rmSync(dir, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

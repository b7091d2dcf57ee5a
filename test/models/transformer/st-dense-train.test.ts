import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { readSafetensors } from '../../../lib/nn/safetensors.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { graphParamNames } from '../../../lib/models/transformer/graph.js';
import { fineTuneEncoder } from '../../../lib/train/fine-tune-encoder.js';
import { createRng } from '../../../lib/util/rng.js';
import { PYTHON, writeStFolder } from './st-folders.js';
import { writeTinyEncoder } from './tiny-encoders.js';
import { trainOptions } from './train-options.js';

/**
 * Fine-tuning a sentence-transformers folder: the Dense module after pooling is a graph
 * parameter trained with the encoder (its gradient and every other one against PyTorch
 * autograd in float64, with the prompt left out of pooling), and the fine-tuned folder is
 * written back with the same modules (modules.json, 1_Pooling, 2_Dense with the trained
 * weights, Normalize, the prompts), so it embeds as the trainer does.
 */
env.allowRemoteModels = false;
const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `PyTorch is not available at ${PYTHON}`;
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-st-train-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

for (const [pooling, cfg] of [['weightedmean', { pooling_mode_weightedmean_tokens: true, include_prompt: false }], ['cls', { pooling_mode: 'cls', include_prompt: true }]] as const) {
  test(`Dense(tanh) after ${pooling} pooling${cfg.include_prompt ? '' : ' without the prompt'}: forward and every gradient (Dense included) equal PyTorch autograd`, { skip }, async (t) => {
    const dir = writeStFolder({ pooling: cfg, dense: [{ out: 12, activation: 'Tanh' }], normalize: true, stConfig: { prompts: { query: 'query: ', document: 'passage: ' } } });
    try {
      const enc = await TransformerEncoder.load(dir, { threads: 1 });
      assert.equal(enc.pooling, pooling);
      assert.equal(enc.outDim, 12);
      const skipTokens = enc.promptTokens('query: ');
      assert.equal(skipTokens, cfg.include_prompt ? 0 : 3, 'query: is [CLS] query : -> 3 positions out of pooling');
      const tok = enc.tokenize(['query: The cats sleep.', 'query: кошка спит', 'query: a'], 'query', skipTokens);
      const rng = createRng(4);
      const gp = Float32Array.from({ length: tok.batch * enc.outDim }, () => rng.normal());
      const { pooled } = await enc.forward(tok);
      const names = graphParamNames(enc.config, enc.pooling, enc.dense);
      assert.ok(names.includes('2_Dense/linear.weight') && names.includes('2_Dense/linear.bias'));
      const g = await enc.backward(tok, gp, names, false);
      const rows = (a: ArrayLike<number | bigint>, w: number) => Array.from({ length: tok.batch }, (_, b) => Array.from(a as ArrayLike<number>, Number).slice(b * w, (b + 1) * w));
      const req = { st: true, pooling, prompt_tokens: skipTokens, ids: rows(tok.ids, tok.seq), mask: rows(Array.from(tok.mask, Number), tok.seq), grad_pooled: rows(gp, enc.outDim) };
      const r = spawnSync(PYTHON, ['scripts/encoder-torch-reference.py', 'check', dir], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 28 });
      assert.equal(r.status, 0, r.stderr);
      const ref = JSON.parse(r.stdout) as { pooled: number[][]; grads: Record<string, number[]> };
      let d = 0;
      ref.pooled.flat().forEach((v, i) => (d = Math.max(d, Math.abs(v - pooled[i]))));
      assert.ok(d < 1e-4, `pooled: ${d}`);
      t.diagnostic(`pooled: max |diff| vs PyTorch ${d.toExponential(2)}`);
      let worst = 0;
      for (const n of names) {
        const mine = g.params.get(n)!;
        const theirs = ref.grads[n];
        assert.ok(theirs, `PyTorch has no gradient for ${n}`);
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < theirs.length; i++) {
          diff = Math.max(diff, Math.abs(mine[i] - theirs[i]));
          scale = Math.max(scale, Math.abs(theirs[i]));
        }
        assert.ok(diff <= 1e-3 * Math.max(scale, 1e-2), `${n}: max |diff| ${diff}, max |grad| ${scale}`);
        worst = Math.max(worst, diff / Math.max(scale, 1e-2));
      }
      t.diagnostic(`gradients: worst max |diff| / max |grad| over ${names.length} parameters ${worst.toExponential(2)}`);
      await enc.dispose();
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
}

test('fineTuneEncoder trains the Dense module and writes the folder back with the same modules; it embeds through loadEmbedder as the trainer does', { skip }, async () => {
  const dir = writeStFolder({ pooling: { pooling_mode_mean_tokens: true }, dense: [{ out: 16, activation: 'Tanh', bin: true }], normalize: true, stConfig: { prompts: { query: 'query: ', document: 'passage: ' }, similarity_fn_name: 'cosine' } });
  try {
    const out = join(scratch, 'ft');
    const res = await fineTuneEncoder({ ...trainOptions(dir), epochs: 1, checkpointEvery: 2, outDir: out });
    const cfg = res.config.head as Record<string, unknown>;
    assert.equal(cfg.queryPrefix, 'query: ', 'the prompts come from the folder');
    assert.deepEqual(cfg.dense, [{ weight: '2_Dense/linear.weight', out: 16, activation: 'tanh', bias: true }]);
    const model = join(out, 'model');
    for (const f of ['modules.json', '1_Pooling/config.json', '2_Dense/config.json', '2_Dense/model.safetensors', 'config_sentence_transformers.json']) assert.ok(existsSync(join(model, f)), f);
    assert.ok(!existsSync(join(model, '2_Dense/pytorch_model.bin')), 'the Dense weights are written as model.safetensors only');
    assert.deepEqual(JSON.parse(readFileSync(join(model, 'modules.json'), 'utf8')).map((m: { type: string }) => m.type.split('.').pop()), ['Transformer', 'Pooling', 'Dense', 'Normalize']);
    assert.deepEqual(JSON.parse(readFileSync(join(model, 'config_sentence_transformers.json'), 'utf8')).prompts, { query: 'query: ', document: 'passage: ' });
    assert.deepEqual(readFileSync(join(model, '1_Pooling/config.json')), readFileSync(join(dir, '1_Pooling/config.json')), 'an unchanged Pooling config is kept as published');
    // the Dense weights moved
    const before = (await TransformerEncoder.load(dir, { threads: 1 })).weights.dense![0].weight;
    const trained = readSafetensors(join(model, '2_Dense/model.safetensors')).tensors.get('linear.weight')!.data!;
    assert.ok(trained.some((v, i) => Math.abs(v - before[i]) > 1e-6), 'Dense weights unchanged by training');
    // the written folder embeds as the trainer: Dense, Normalize and prompts read back from it
    const reloaded = await TransformerEncoder.load(model, { threads: 1 });
    const texts = ['The cats sleep.', 'кошка спит'];
    const mine = await reloaded.embed(texts.map((t) => 'query: ' + t));
    const emb = await loadEmbedder(model, { cache: false });
    assert.equal(emb.moduleChain.source, 'sentence-transformers');
    const theirs = await emb.embed(texts, { kind: 'query' });
    assert.equal(emb.dim, 16);
    for (let r = 0; r < texts.length; r++) {
      const row = mine.subarray(r * 16, (r + 1) * 16);
      const n = Math.hypot(...row);
      for (let i = 0; i < 16; i++) assert.ok(Math.abs(row[i] / n - theirs[r * 16 + i]) < 1e-4, `row ${r} dim ${i}`);
    }
    await emb.dispose();
    await reloaded.dispose();
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

test('a chain that cannot be trained (concatenated modes, a ReLU Dense) is refused when the encoder loads, naming the folder', async () => {
  const multi = writeStFolder({ pooling: { pooling_mode: ['cls', 'mean'] } });
  const relu = writeStFolder({ pooling: { pooling_mode: 'mean' }, dense: [{ out: 8, activation: 'ReLU' }] });
  try {
    await assert.rejects(TransformerEncoder.load(multi, { threads: 1 }), /pooling cls\+mean \(several modes concatenated\) cannot be fine-tuned/);
    const one = await TransformerEncoder.load(multi, { threads: 1, pooling: 'mean' });
    assert.equal(one.pooling, 'mean');
    assert.deepEqual(one.moduleChain?.overrides.pooling, { folder: ['cls', 'mean'], user: 'mean' });
    await assert.rejects(TransformerEncoder.load(relu, { threads: 1 }), /2_Dense: Dense activation 'torch.nn.modules.activation.ReLU' cannot be fine-tuned/);
  } finally {
    rmSync(dirname(multi), { recursive: true, force: true });
    rmSync(dirname(relu), { recursive: true, force: true });
  }
});

test('a model named by a preset (no sentence-transformers files) is written back with the modules it was trained with, so the folder embeds the same under any name', async () => {
  const { dir } = writeTinyEncoder('xlm-roberta');
  const named = join(scratch, 'multilingual-e5-small');
  cpSync(dir, named, { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  const out = join(scratch, 'ft-preset');
  const res = await fineTuneEncoder({ ...trainOptions(named), epochs: 1, checkpointEvery: 0, outDir: out });
  assert.equal((res.config.head as Record<string, unknown>).queryPrefix, 'query: ', 'the preset prefixes are trained with');
  const model = join(out, 'model');
  assert.deepEqual(JSON.parse(readFileSync(join(model, 'modules.json'), 'utf8')).map((m: { type: string }) => m.type.split('.').pop()), ['Transformer', 'Pooling', 'Normalize']);
  const emb = await loadEmbedder(model, { cache: false });
  assert.equal(emb.moduleChain.source, 'sentence-transformers');
  assert.deepEqual([emb.config.queryPrefix, emb.config.passagePrefix, emb.moduleChain.pooling], ['query: ', 'passage: ', ['mean']]);
  await emb.dispose();
});

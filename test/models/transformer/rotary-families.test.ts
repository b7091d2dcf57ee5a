/**
 * gte-multilingual-base ("new") and jina-embeddings-v3 (rotary XLM-R with task LoRA) twins:
 * the real config.json fields at hidden 32 / 2 layers with random weights. Proven as BERT and
 * XLM-R are: forward and every gradient against PyTorch autograd (float64,
 * scripts/encoder-torch-reference.py), every parameter group against finite differences,
 * save -> loadEmbedder (the hub's ONNX layout, jina's task_id fed by xlalign) with the same
 * vectors, and a training step.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { TransformerEncoder, type EncoderTokens } from '../../../lib/models/transformer/encoder.js';
import { embeddingNames, isTaskParam } from '../../../lib/models/transformer/families.js';
import { saveEncoderFolder } from '../../../lib/models/transformer/folder.js';
import { graphParamNames } from '../../../lib/models/transformer/graph.js';
import { param, readEncoderWeights } from '../../../lib/models/transformer/weights.js';
import { fineTuneEncoder } from '../../../lib/train/fine-tune-encoder.js';
import { EncoderHead } from '../../../lib/train/heads/encoder-head.js';
import { AlignmentLoss } from '../../../lib/train/losses/alignment-loss.js';
import { buildTrainingSamples } from '../../../lib/train/samples.js';
import { createRng } from '../../../lib/util/rng.js';
import { writeTinyEncoder } from './tiny-encoders.js';
import { directionalDifference, quadraticProbe } from './finite-differences.js';
import { trainOptions } from './train-options.js';

env.allowRemoteModels = false;
/** Debian's python3-torch and python3-numpy, as in torch-reference.test.ts; skipped with a message otherwise. */
const PYTHON = process.env.XLALIGN_TORCH_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `PyTorch is not available at ${PYTHON} (install Debian's python3-torch and python3-numpy): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;
const TEXTS = ['The cats sleep.', 'кошка спит', 'query: the dog sleeps', 'γάτα 猫睡'];
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-rotary-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const CASES = [
  { family: 'gte', pooling: 'cls', kind: 'passage' },
  { family: 'gte', pooling: 'mean', kind: 'passage' },
  { family: 'jina', pooling: 'mean', kind: 'query' },
  { family: 'jina', pooling: 'mean', kind: 'passage' },
] as const;

for (const { family, pooling, kind } of CASES) {
  test(`${family} (${pooling}${family === 'jina' ? `, ${kind} task` : ''}): forward and all gradients equal PyTorch autograd in float64`, { skip }, async () => {
    const { dir } = writeTinyEncoder(family);
    try {
      const enc = await TransformerEncoder.load(dir, { pooling, threads: 1 });
      const tok = enc.tokenize(TEXTS, kind);
      assert.ok(tok.mask.includes(0n), 'the batch is padded');
      const rng = createRng(9);
      const gp = Float32Array.from({ length: tok.batch * enc.dim }, () => rng.normal());
      const { pooled } = await enc.forward(tok);
      const names = graphParamNames(enc.config, pooling);
      const g = await enc.backward(tok, gp, names, true);
      const emb = enc.scatterEmbeddingGrads(tok, g.inputsEmbeds!);
      const rows = (a: ArrayLike<number | bigint>, w: number) => Array.from({ length: tok.batch }, (_, b) => Array.from(a as ArrayLike<number>, Number).slice(b * w, (b + 1) * w));
      const req = { ids: rows(tok.ids, tok.seq), mask: rows(Array.from(tok.mask, Number), tok.seq), pooling, grad_pooled: rows(gp, enc.dim), task: tok.task };
      const r = spawnSync(PYTHON, ['scripts/encoder-torch-reference.py', 'check', dir], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 28 });
      assert.equal(r.status, 0, r.stderr);
      const ref = JSON.parse(r.stdout) as { pooled: number[][]; grads: Record<string, number[]> };
      const d = maxDiff(ref.pooled.flat(), pooled);
      assert.ok(d < 1e-4, `pooled: max |diff| ${d}`);
      const compare = (name: string, mine: ArrayLike<number>, theirs: ArrayLike<number>) => {
        assert.ok(theirs, `${name}: no reference gradient`);
        let scale = 0;
        for (let i = 0; i < theirs.length; i++) scale = Math.max(scale, Math.abs(theirs[i]));
        const diff = maxDiff(mine, theirs);
        assert.ok(scale > 0 || name.includes('lora'), `${name}: reference gradient is zero`);
        assert.ok(diff <= 1e-3 * Math.max(scale, 1e-2), `${name}: max |diff| ${diff}, max |grad| ${scale}`);
      };
      for (const n of names) {
        let theirs = ref.grads[n];
        if (isTaskParam(n)) {
          // The reference differentiates all tasks' factors: only the batch's task has a gradient.
          const per = theirs.length / enc.config.lora!.tasks.length;
          const others = theirs.filter((v, i) => Math.floor(i / per) !== tok.task && v !== 0);
          assert.equal(others.length, 0, `${n}: another task's adapter has a gradient`);
          theirs = theirs.slice(tok.task! * per, (tok.task! + 1) * per);
        }
        compare(n, g.params.get(n)!, theirs);
      }
      const e = embeddingNames(enc.config);
      const H = enc.dim;
      const word = ref.grads[e.word];
      emb.wordRows.forEach((id, j) => compare(`word row ${id}`, emb.wordGrads.subarray(j * H, (j + 1) * H), word.slice(id * H, (id + 1) * H)));
      compare(e.tokenType!, emb.tokenType, ref.grads[e.tokenType!]);
      assert.equal(emb.position.length, 0, 'no position table');
      if (family === 'jina') {
        // The embedding tables' LoRA factors of the batch's task.
        const r = enc.config.lora!.rank;
        const slice = (n: string) => {
          const t = ref.grads[n];
          const per = t.length / enc.config.lora!.tasks.length;
          return t.slice(tok.task! * per, (tok.task! + 1) * per);
        };
        const wa = slice(e.wordLora!.a);
        emb.wordRows.forEach((id, j) => compare(`word lora_A row ${id}`, emb.lora!.wordA.subarray(j * r, (j + 1) * r), wa.slice(id * r, (id + 1) * r)));
        compare(e.wordLora!.b, emb.lora!.wordB, slice(e.wordLora!.b));
        compare(e.tokenTypeLora!.a, emb.lora!.typeA, slice(e.tokenTypeLora!.a));
        compare(e.tokenTypeLora!.b, emb.lora!.typeB, slice(e.tokenTypeLora!.b));
      }
      await enc.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Central finite differences of L = Σ r ⊙ pooled + ½ Σ pooled² along a random unit direction
 * of each parameter group (the method of gradient.test.ts), ε = 1e-2, float32 graphs.
 */
for (const { family, pooling, kind } of [CASES[0], CASES[2]]) {
  test(`${family}: the gradient of every parameter group (${pooling} pooling${family === 'jina' ? ', LoRA factors of the query task' : ''}) equals central finite differences`, async () => {
    const { dir } = writeTinyEncoder(family);
    try {
      const enc = await TransformerEncoder.load(dir, { pooling, threads: 1 });
      const tok: EncoderTokens = enc.tokenize(TEXTS.slice(0, 3), kind);
      const rng = createRng(3);
      const lossOf = quadraticProbe(async () => (await enc.forward(tok)).pooled, 3 * enc.dim, rng);
      const names = graphParamNames(enc.config, pooling);
      const g = await enc.backward(tok, (await lossOf()).grad, names, true);
      const emb = enc.scatterEmbeddingGrads(tok, g.inputsEmbeds!);
      const H = enc.dim;
      const groups = names.map((n) => {
        const values = param(enc.weights, enc.paramKey(n, tok));
        return { name: n, values, idx: [...values.keys()], grad: g.params.get(n)! as ArrayLike<number> };
      });
      const e = embeddingNames(enc.config);
      const wordIdx = [...emb.wordRows].flatMap((id) => Array.from({ length: H }, (_, d) => id * H + d));
      groups.push({ name: `${e.word} (rows of the batch)`, values: param(enc.weights, e.word), idx: wordIdx, grad: emb.wordGrads });
      groups.push({ name: e.tokenType!, values: param(enc.weights, e.tokenType!), idx: [...Array(H).keys()], grad: emb.tokenType.subarray(0, H) });
      if (e.wordLora) {
        const r = enc.config.lora!.rank;
        const t = tok.task!;
        const aIdx = [...emb.wordRows].flatMap((id) => Array.from({ length: r }, (_, k) => id * r + k));
        groups.push({ name: `${e.wordLora.a} (rows of the batch)`, values: param(enc.weights, `${e.wordLora.a}@${t}`), idx: aIdx, grad: emb.lora!.wordA });
        for (const [name, grad] of [[e.wordLora.b, emb.lora!.wordB], [e.tokenTypeLora!.a, emb.lora!.typeA], [e.tokenTypeLora!.b, emb.lora!.typeB]] as const) {
          const values = param(enc.weights, `${name}@${t}`);
          groups.push({ name, values, idx: [...values.keys()], grad });
        }
      }
      const eps = 1e-2;
      for (const grp of groups) {
        const { fd, analytic, gnorm } = await directionalDifference(grp, async () => (await lossOf()).loss, rng, eps);
        assert.ok(gnorm > 1e-3, `${family} ${grp.name}: gradient is trivially small (${gnorm})`);
        const err = Math.abs(fd - analytic);
        assert.ok(err <= 1e-2 * Math.abs(analytic) + 2e-3 * gnorm, `${family} ${grp.name}: finite difference ${fd} vs analytic ${analytic} (|g| ${gnorm})`);
      }
      await enc.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const family of ['gte', 'jina'] as const) {
  test(`${family}: save -> reload -> loadEmbedder (hub ONNX layout${family === 'jina' ? ' with task_id, fed per query / passage' : ''}) gives the trainer's vectors`, async () => {
    const { dir } = writeTinyEncoder(family, { dtype: 'BF16' });
    const pooling = family === 'gte' ? 'cls' : 'mean';
    const enc = await TransformerEncoder.load(dir, { pooling, threads: 1 });
    const w = param(enc.weights, family === 'gte' ? 'encoder.layer.1.mlp.down_proj.weight' : 'encoder.layers.1.mlp.fc2.parametrizations.weight.0.lora_B@1');
    for (let i = 0; i < w.length; i++) w[i] = Math.fround(w[i] * 1.5);
    const out = join(scratch, `${family}-saved`);
    saveEncoderFolder(enc.weights, dir, out);
    const again = await TransformerEncoder.load(out, { pooling, threads: 1 });
    const emb = await loadEmbedder(out, { pooling, normalize: false, cache: false });
    const session = (emb as unknown as { encoder: { sessions: { model: { inputNames: string[]; outputNames: string[] } } } }).encoder.sessions.model;
    assert.deepEqual([...session.inputNames].sort(), family === 'gte' ? ['attention_mask', 'input_ids', 'token_type_ids'] : ['attention_mask', 'input_ids', 'task_id']);
    assert.deepEqual(session.outputNames, ['last_hidden_state']);
    for (const kind of ['query', 'passage'] as const) {
      const mine = (await again.forward(again.tokenize(TEXTS, kind))).pooled;
      const theirs = await emb.embed(TEXTS, { kind });
      const d = maxDiff(mine, theirs);
      assert.ok(d < 1e-4, `${kind}: transformers.js vs trainer: ${d}`);
      const before = (await enc.forward(enc.tokenize(TEXTS, kind))).pooled;
      assert.ok(maxDiff(before, mine) < 2e-2, 'bf16 round trip');
    }
    if (family === 'jina') {
      // The two tasks give different vectors for the same text (and the cache keeps them apart).
      const q = await emb.embed(['the cat'], { kind: 'query' });
      const p = await emb.embed(['the cat'], { kind: 'passage' });
      assert.ok(maxDiff(q, p) > 1e-3, 'query and passage adapters must differ');
      assert.deepEqual(emb.tasks, { query: { name: 'retrieval.query', id: 0 }, passage: { name: 'retrieval.passage', id: 1 } });
    }
    await emb.dispose();
    await enc.dispose();
    await again.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
}

for (const family of ['gte', 'jina'] as const) {
  test(`${family}: padding never changes an embedding (alone vs. in a batch with a much longer text; rotary positions start at 0 per row)`, async () => {
    const { dir } = writeTinyEncoder(family);
    const enc = await TransformerEncoder.load(dir, { threads: 1 });
    const alone = await enc.embed(['кошка']);
    const batched = await enc.embed(['кошка', 'the cat sleeps the dog sleeps the cat sleeps query passage']);
    assert.ok(maxDiff(alone, batched.subarray(0, enc.dim)) < 1e-5);
    await enc.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
}

test('config: unsupported variants of the rotary families fail naming the file and field', () => {
  const { dir } = writeTinyEncoder('gte');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const bad = (over: Record<string, unknown>, re: RegExp) => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, ...over }));
    assert.throws(() => readEncoderWeights(dir), (e: Error) => re.test(e.message) && e.message.includes(join(dir, 'config.json')), JSON.stringify(over));
  };
  bad({ layer_norm_type: 'rms_norm' }, /unsupported layer_norm_type 'rms_norm'/);
  bad({ rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling 'linear'/);
  bad({ pack_qkv: false }, /pack_qkv false/);
  bad({ logn_attention_scale: true }, /logn_attention_scale/);
  bad({ model_type: 'xlm-roberta', position_embedding_type: 'rotary' }, /needs 'lora_adaptations'/);
  rmSync(dir, { recursive: true, force: true });
});

const samples = buildTrainingSamples({ size: 8, langs: ['de', 'el'], seed: 3 });

test('gte: one AdamW step of the EncoderHead (all parameters, sparse word rows) lowers the alignment loss', async () => {
  const { dir } = writeTinyEncoder('gte');
  const enc = await TransformerEncoder.load(dir, { pooling: 'cls', threads: 1, maxLength: 24 });
  const head = new EncoderHead(enc, samples, { microBatch: 3, wordEmbeddings: 'sparse' });
  const loss = new AlignmentLoss();
  const batch = [0, 1, 2, 3, 4, 5];
  const ln = Float32Array.from(param(enc.weights, 'embeddings.LayerNorm.weight'));
  const r0 = loss.forward(await head.forward(batch));
  await head.backward(r0.grads);
  await head.step(1e-3);
  const r1 = loss.forward(await head.forward(batch));
  assert.ok(r1.loss < r0.loss - 1e-3, `loss ${r0.loss} -> ${r1.loss}`);
  assert.notDeepEqual(param(enc.weights, 'embeddings.LayerNorm.weight'), ln);
  await enc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('jina: train "adapters" moves only the retrieval.query / retrieval.passage LoRA factors (linear layers and embedding tables) and lowers the loss; "full" moves the shared weights', async () => {
  const { dir } = writeTinyEncoder('jina');
  let enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
  const head = new EncoderHead(enc, samples, { microBatch: 3 });
  assert.equal(head.train, 'adapters');
  const A = 'encoder.layers.0.mixer.Wqkv.parametrizations.weight.0.lora_A';
  const WA = 'embeddings.word_embeddings.parametrizations.weight.0.lora_A';
  const TB = 'embeddings.token_type_embeddings.parametrizations.weight.0.lora_B';
  const frozen = ['encoder.layers.0.mixer.Wqkv.parametrizations.weight.original', 'encoder.layers.1.norm2.weight', 'emb_ln.weight', 'embeddings.word_embeddings.parametrizations.weight.original', `${WA}@2`, `${TB}@3`, `${A}@2`, `${A}@4`];
  const snap = Object.fromEntries([...frozen, `${A}@0`, `${A}@1`, `${WA}@0`, `${TB}@1`].map((n) => [n, Float32Array.from(param(enc.weights, n))]));
  const loss = new AlignmentLoss();
  const batch = [0, 1, 2, 3, 4, 5];
  const r0 = loss.forward(await head.forward(batch));
  await head.backward(r0.grads);
  await head.step(1e-2);
  const r1 = loss.forward(await head.forward(batch));
  assert.ok(r1.loss < r0.loss - 1e-3, `loss ${r0.loss} -> ${r1.loss}`);
  for (const n of frozen) assert.deepEqual(param(enc.weights, n), snap[n], `${n} must stay frozen`);
  assert.notDeepEqual(param(enc.weights, `${A}@0`), snap[`${A}@0`], 'retrieval.query adapter trains');
  assert.notDeepEqual(param(enc.weights, `${A}@1`), snap[`${A}@1`], 'retrieval.passage adapter trains');
  assert.notDeepEqual(param(enc.weights, `${TB}@1`), snap[`${TB}@1`], 'the token-type table\'s passage adapter trains');
  // The word table's query adapter: exactly the rows of the batch's query tokens move (lazy Adam).
  const used = new Set<number>();
  for (const i of batch) for (const q of [samples[i].queryPivot, samples[i].queryTarget]) enc.tokenize([q], 'query').ids.forEach((id) => used.add(id));
  const rank = enc.config.lora!.rank;
  const wa = param(enc.weights, `${WA}@0`);
  for (let id = 0; id < enc.config.vocabSize; id++) {
    const moved = wa.subarray(id * rank, (id + 1) * rank).some((v, k) => v !== snap[`${WA}@0`][id * rank + k]);
    assert.equal(moved, used.has(id), `word lora_A row ${id}: moved ${moved}, in the queries ${used.has(id)}`);
  }
  assert.throws(() => new EncoderHead(enc, samples, { wordEmbeddings: 'sparse' }), /use one or the other/);
  await enc.dispose();
  enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
  const full = new EncoderHead(enc, samples, { microBatch: 3, train: 'full' });
  const r = loss.forward(await full.forward([0, 1, 2]));
  await full.backward(r.grads);
  await full.step(1e-3);
  assert.notDeepEqual(param(enc.weights, frozen[0]), snap[frozen[0]], 'train full moves the shared weights');
  await enc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('jina: fineTuneEncoder (adapters) killed with SIGKILL after step 2 resumes to the uninterrupted run\'s weights bit for bit', async () => {
  const { dir } = writeTinyEncoder('jina');
  const over = { wordEmbeddings: 'frozen' as const };
  const full = join(scratch, 'jina-full');
  const res = await fineTuneEncoder({ ...trainOptions(dir), ...over, outDir: full });
  const killed = join(scratch, 'jina-killed');
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/train-child.ts'), dir, killed, '2', JSON.stringify(over)], { encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const resumed = await fineTuneEncoder({ ...trainOptions(dir), ...over, outDir: killed });
  assert.equal(resumed.stepsThisRun, res.steps - 2);
  assert.deepEqual(readFileSync(join(killed, 'model/model.safetensors')), readFileSync(join(full, 'model/model.safetensors')), 'resumed weights differ from the uninterrupted run');
  assert.notDeepEqual(readFileSync(join(full, 'model/model.safetensors')), readFileSync(join(dir, 'model.safetensors')), 'training changed the weights');
  rmSync(dir, { recursive: true, force: true });
});

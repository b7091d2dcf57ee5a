/**
 * Issue 18 (memory, one pass, devices): kept activations, row chunks and length-sorted
 * micro-batches give the gradients of the plain GradCache path; the activation estimate
 * matches what is kept; the training graphs use only ops the CUDA execution provider
 * implements; `--device cuda` without the provider is a one-line error saying how.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { checkDevice, deviceAvailable } from '../../../lib/nn/ort-device.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { buildSplitTrainGraphs, buildTrainGraph, graphParamNames } from '../../../lib/models/transformer/graph.js';
import { estimateActivationBytes, rowsPerRun } from '../../../lib/models/transformer/memory.js';
import { paramShapes } from '../../../lib/models/transformer/weights.js';
import { EncoderHead, type EncoderHeadOptions } from '../../../lib/train/heads/encoder-head.js';
import { AlignmentLoss } from '../../../lib/train/losses/alignment-loss.js';
import { buildTrainingSamples } from '../../../lib/train/samples.js';
import { createRng } from '../../../lib/util/rng.js';
import { writeTinyEncoder } from './tiny-encoders.js';
import { writeStFolder } from './st-folders.js';

const samples = buildTrainingSamples({ size: 8, langs: ['de', 'el'], seed: 3 });
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d / scale;
}

/** Accumulated gradients of one forward + backward of the head on a fixed batch. */
async function headGrads(dir: string, options: EncoderHeadOptions, runBudgetMiB?: number) {
  const enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24, runBudgetMiB });
  const head = new EncoderHead(enc, samples, { wordEmbeddings: 'sparse', ...options });
  const r = new AlignmentLoss().forward(await head.forward([0, 1, 2, 3, 4, 5]));
  await head.backward(r.grads);
  const grads = new Map([...head.accumulatedGradients()].map(([k, v]) => [k, Float32Array.from(v)]));
  await enc.dispose();
  return { grads, stats: { ...head.stats }, loss: r.loss };
}

for (const family of ['bert', 'xlm-roberta', 'gte', 'jina', 'bert+dense'] as const) {
  test(`${family}: one pass (kept activations) and GradCache (recomputed) give the same gradients; so do sorted and unsorted micro-batches`, async () => {
    // jina-v3 trains its retrieval adapters (gradients under name@task, embedding LoRA rows included); 'bert+dense': a sentence-transformers Dense module after pooling
    const dir = family === 'bert+dense' ? writeStFolder({ pooling: { pooling_mode_mean_tokens: true }, dense: [{ out: 12, activation: 'Tanh' }] }) : writeTinyEncoder(family).dir;
    dirs.push(dir);
    const o: EncoderHeadOptions = family === 'jina' ? { train: 'adapters', wordEmbeddings: 'frozen' } : {};
    const recompute = await headGrads(dir, { ...o, keepBudgetMiB: 0, microBatch: 4, sortByLength: false });
    const kept = await headGrads(dir, { ...o, microBatch: 4, sortByLength: false });
    const sorted = await headGrads(dir, { ...o, microBatch: 2 });
    const unsorted = await headGrads(dir, { ...o, microBatch: 2, sortByLength: false });
    if (family === 'jina') assert.ok([...kept.grads.keys()].some((k) => /lora_A@\d+$/.test(k)), 'task adapters are trained per task');
    if (family === 'bert+dense') assert.ok(kept.grads.has('2_Dense/linear.weight'), 'the Dense module is trained');
    assert.equal(recompute.stats.keptRuns, 0);
    assert.ok(recompute.stats.recomputedRuns > 0);
    assert.equal(kept.stats.recomputedRuns, 0, 'the tiny batch fits the default keep budget');
    assert.ok(kept.stats.keptRuns > 0);
    const fewer = family === 'bert' ? sorted.stats.paddingSlots < unsorted.stats.paddingSlots : sorted.stats.paddingSlots <= unsorted.stats.paddingSlots;
    assert.ok(fewer, `sorted micro-batches pad less: ${sorted.stats.paddingSlots} vs ${unsorted.stats.paddingSlots} of ${sorted.stats.tokenSlots} slots`);
    assert.ok(Math.abs(kept.loss - recompute.loss) < 1e-6 && Math.abs(sorted.loss - recompute.loss) < 1e-5);
    assert.deepEqual([...kept.grads.keys()].sort(), [...recompute.grads.keys()].sort());
    assert.ok(recompute.grads.size > (family === 'jina' ? 10 : 20), `${recompute.grads.size} gradients`);
    for (const [n, g] of recompute.grads) {
      if (n.endsWith('key.bias')) continue; // exactly zero (softmax ignores a shift of all scores): float noise, no relative error to compare
      assert.ok(maxRelDiff(g, kept.grads.get(n)!) < 1e-5, `${n}: kept vs recomputed ${maxRelDiff(g, kept.grads.get(n)!)}`);
      assert.ok(maxRelDiff(g, sorted.grads.get(n)!) < 1e-4, `${n}: sorted vs unsorted ${maxRelDiff(g, sorted.grads.get(n)!)}`);
    }
  });
}

for (const family of ['bert', 'jina'] as const) test(`${family}: backward in row chunks under a tiny run budget equals one run (parameters under their graph names, and inputs_embeds)`, async () => {
  const { dir } = writeTinyEncoder(family);
  dirs.push(dir);
  const one = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
  const chunked = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24, runBudgetMiB: 1e-6 });
  const tok = one.tokenize(['the cat sleeps', 'katze', 'the dog sleeps on the cat', 'γάτα γάτα'], 'query');
  assert.equal(rowsPerRun(chunked.config, tok.seq, chunked.runBudgetMiB), 1);
  const rng = createRng(5);
  const gp = Float32Array.from({ length: tok.batch * one.dim }, () => rng.normal());
  const names = graphParamNames(one.config, 'mean');
  const a = await one.backward(tok, gp, names, true);
  const aParams = new Map([...a.params].map(([k, v]) => [k, Float32Array.from(v)]));
  const b = await chunked.backward(tok, gp, names, true);
  assert.deepEqual([...b.params.keys()].sort(), [...names].sort());
  for (const n of names) if (!n.endsWith('key.bias')) assert.ok(maxRelDiff(aParams.get(n)!, b.params.get(n)!) < 1e-5, n);
  assert.ok(maxRelDiff(a.inputsEmbeds!, b.inputsEmbeds!) < 1e-5);
  await one.dispose();
  await chunked.dispose();
});

test('estimateActivationBytes is within 10% of what forwardKeep keeps', async () => {
  const { dir } = writeTinyEncoder('xlm-roberta');
  dirs.push(dir);
  const enc = await TransformerEncoder.load(dir, { threads: 1, maxLength: 24 });
  const tok = enc.tokenize(['the cat sleeps on the dog and the cat', 'katze', 'γάτα']);
  const { kept } = await enc.forwardKeep(tok, graphParamNames(enc.config, 'mean'), true);
  const est = estimateActivationBytes(enc.config, tok.batch, tok.seq);
  assert.ok(Math.abs(kept.bytes - est) / kept.bytes < 0.1, `kept ${kept.bytes} B, estimated ${est} B`);
  await enc.dispose();
});

/**
 * Ops with a CUDA kernel in ONNX Runtime (docs/OperatorKernels.md, CUDAExecutionProvider,
 * float, at the opsets the tape writes); `Shape` runs on the host by design in every EP.
 */
const CUDA_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Gemm', 'MatMul', 'LayerNormalization', 'Softmax', 'Erf', 'Exp', 'Tanh', 'Transpose', 'Reshape', 'Unsqueeze', 'Concat', 'Cast', 'Shape', 'ReduceSum', 'ReduceMean', 'Identity',
  // the rotary families (gte, jina-v3): rotate-half and fused projections
  'Neg', 'Slice', 'Split', 'Pad']);

test('the training graphs of every family use only ops the CUDA execution provider implements', () => {
  for (const family of ['bert', 'xlm-roberta', 'gte', 'jina'] as const) {
    const { dir, weights: w } = writeTinyEncoder(family);
    dirs.push(dir);
    const shapes = paramShapes(w.config);
    const pooling = family === 'bert' ? 'pooler' : 'mean';
    const trainable = graphParamNames(w.config, pooling);
    const graphs = [buildTrainGraph(w.config, { pooling, shapes, backward: true, trainable, embeddingsGrad: true }), ...Object.values(buildSplitTrainGraphs(w.config, { pooling, shapes, trainable, embeddingsGrad: true })).filter((v) => v instanceof Uint8Array)];
    for (const bytes of graphs) {
      const ops = new Set(onnxProto.onnx.ModelProto.decode(bytes as Uint8Array).graph!.node!.map((n) => n.opType!));
      for (const op of ops) assert.ok(CUDA_OPS.has(op), `${family}: op ${op} has no CUDA kernel in the list`);
    }
  }
});

test("device 'cuda' without ONNX Runtime's CUDA provider is a one-line error saying how to install it", () => {
  assert.equal(checkDevice('t', 'cpu'), 'cpu');
  assert.throws(() => checkDevice('t', 'tpu'), /unsupported device 'tpu'; use 'cpu', 'cuda'/);
  if (deviceAvailable('cuda')) assert.equal(checkDevice('t', 'cuda'), 'cuda');
  else {
    assert.throws(() => checkDevice('t', 'cuda'), (e: Error) => /ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/.test(e.message) && !e.message.includes('\n'));
    const { dir, weights } = writeTinyEncoder('bert');
    dirs.push(dir);
    assert.throws(() => new TransformerEncoder(weights, undefined, '', { device: 'cuda' }), /CUDA execution provider/);
  }
});

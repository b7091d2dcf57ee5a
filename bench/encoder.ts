/**
 * Transformer-encoder training speed and memory (issues 11, 18), each measurement in its own
 * child process (so peak RSS is its own), all in one run:
 *
 * - **step**: forward + backward tokens/s and peak RSS at multilingual-e5-small's shape (BERT,
 *   12 layers, hidden 384, 12 heads, intermediate 1536, vocabulary 250,037, random weights),
 *   batch 32 x 128 tokens, word table frozen, every other parameter and the embedding input
 *   get gradients, mean pooling; xlalign's `TransformerEncoder.backward` (row chunks under
 *   its run budget) vs PyTorch CPU (Debian python3-torch, `scripts/encoder-torch-reference.py
 *   bench`) on the whole batch in one pass; both on all cores. Forward alone too.
 * - **gemm** (in the step's process, right before and after it): the machine's reference: ONNX Runtime's Gemm (y = x Wᵀ + b, as the encoder's
 *   linear layers) on the encoder's own layer shapes at the token count of one training run
 *   ([M,H]x[H,H] four times a layer, [M,H]x[H,I], [M,I]x[I,H]), GFLOPS of the layer's mix;
 *   training and embedding GFLOPS are printed as a fraction of it.
 * - **cost** (`--costs small,base,large`): real training steps (EncoderHead: length-sorted
 *   micro-batches, activations kept within its budget else GradCache, AdamW, alignment loss)
 *   on the 2,800 XQuAD training samples at real lengths (up to 512 tokens, the models'
 *   limit), batch 32; seconds per step (the mean of steps 2.. when more than one ran: step 1 also builds the sessions),
 *   minutes per epoch (⌈2800/32⌉ batches), padding share of the token slots, peak RSS.
 *   Shapes: small = multilingual-e5-small (12L/384), base = multilingual-e5-base and
 *   gte-multilingual-base (12L/768, vocabulary 250,002), large = bge-m3 / jina-v3 (XLM-R large:
 *   24L/1024/16 heads/4096, vocabulary 250,002). Tokenizer: the default static model's
 *   WordPiece (no e5/XLM-R tokenizer offline), so lengths are close to, not equal to, the
 *   real models' (XQuAD paragraphs ~150-250 tokens either way).
 * - **large-memory** (`--large-memory`): one training step of the large shape with every
 *   text at 512 tokens (paragraphs concatenated, then truncated), batch 2 (the peak does not
 *   depend on the batch: runs are bounded by the run budget, kept activations by the keep
 *   budget); peak RSS.
 *
 * Every child records the load average before and after and the CPU's SIMD flags.
 *
 *   tsx bench/encoder.ts [--iters 3] [--threads N] [--small] [--costs small,base,large] [--cost-steps 10] [--large-memory] [--skip-step]
 *
 * `--small` uses 4 layers and vocabulary 40,000 for a smoke run. Never a timed test.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder, ONNX_FLOAT } from '../lib/nn/onnx-autodiff.js';
import { trainingSessionOptions } from '../lib/nn/ort-device.js';
import type { EncoderConfig } from '../lib/models/transformer/config.js';
import { TransformerEncoder } from '../lib/models/transformer/encoder.js';
import { graphParamNames } from '../lib/models/transformer/graph.js';
import { rowsPerRun } from '../lib/models/transformer/memory.js';
import { randomEncoderWeights, type RandomEncoderSpec } from '../lib/models/transformer/random.js';
import { EncoderHead } from '../lib/train/heads/encoder-head.js';
import { AlignmentLoss } from '../lib/train/losses/alignment-loss.js';
import { buildTrainingSamples, type TrainingSample } from '../lib/train/samples.js';
import { packageRoot } from '../lib/util/fs.js';
import { createRng } from '../lib/util/rng.js';

/** Options of {@link benchmarkEncoder}. */
export interface EncoderBenchOptions {
  /** Timed forward+backward iterations (after one warm-up). Default 3. */
  iters?: number;
  /** Threads for both ONNX Runtime and PyTorch. Default all cores. */
  threads?: number;
  /** Smaller model (4 layers, vocabulary 40,000) for a smoke run. Default false. */
  small?: boolean;
  batch?: number;
  seq?: number;
  /** PyTorch's python. Default /usr/bin/python3. */
  python?: string;
  /** Shapes of the real-step cost entry (`small`, `base`, `large`). Default none. */
  costs?: string[];
  /** Timed training steps per cost shape. Default 10. */
  costSteps?: number;
  /** Run the large shape's one-step memory check at 512 tokens. Default false. */
  largeMemory?: boolean;
  /** Skip the step/PyTorch/Gemm comparison (costs only). Default false. */
  skipStep?: boolean;
}

const E5_SMALL: RandomEncoderSpec = { modelType: 'bert', vocabSize: 250037, hiddenSize: 384, numLayers: 12, numHeads: 12, intermediateSize: 1536, maxPositions: 512, seed: 1 };
/** The study's model shapes (BERT-type positions for all three: the cost per token is the family's; see the file comment). */
export const COST_SHAPES: Record<string, RandomEncoderSpec> = {
  small: E5_SMALL,
  base: { modelType: 'bert', vocabSize: 250002, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 512, seed: 1 },
  large: { modelType: 'bert', vocabSize: 250002, hiddenSize: 1024, numLayers: 24, numHeads: 16, intermediateSize: 4096, maxPositions: 512, seed: 1 },
};

function spec(small: boolean): RandomEncoderSpec {
  return small ? { ...E5_SMALL, numLayers: 4, vocabSize: 40000 } : E5_SMALL;
}

/** The SIMD flags of this CPU (from /proc/cpuinfo; empty elsewhere). */
export function cpuFlags(): string[] {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return (line?.split(':')[1] ?? '').trim().split(/\s+/).filter((f) => /^(avx|amx|fma|f16c)/.test(f));
  } catch {
    return [];
  }
}

/** Forward FLOPs per token of an encoder at sequence length `seq` (2 per multiply-add: the linear layers and the attention's two matmuls). */
export function forwardFlopsPerToken(c: Pick<EncoderConfig, 'hiddenSize' | 'intermediateSize' | 'numLayers'>, seq: number): number {
  const H = c.hiddenSize;
  return c.numLayers * (2 * (4 * H * H + 2 * H * c.intermediateSize) + 4 * seq * H);
}

/** xlalign side, in this process: tokens/s of forward+backward and of forward alone. */
async function xlalignStep(o: Required<EncoderBenchOptions>): Promise<Record<string, number>> {
  const s = spec(o.small);
  const t0 = performance.now();
  const enc = new TransformerEncoder(randomEncoderWeights(s), undefined, '', { threads: o.threads, maxLength: o.seq });
  const initSeconds = (performance.now() - t0) / 1000;
  const rng = createRng(7);
  const n = o.batch * o.seq;
  const ids = Int32Array.from({ length: n }, () => 5 + Math.floor(rng.next() * (s.vocabSize - 5)));
  const tok = enc.fromIds(ids, new BigInt64Array(n).fill(1n), o.batch, o.seq);
  const gp = Float32Array.from({ length: o.batch * s.hiddenSize }, () => rng.normal());
  const names = graphParamNames(enc.config, 'mean');
  const rows = Math.min(o.batch, rowsPerRun(enc.config, o.seq, enc.runBudgetMiB));
  // the machine's reference right before and after (on a shared machine the load moves)
  const gemmBefore = await gemmReference(o, rows * o.seq);
  await enc.backward(tok, gp, names, true); // warm-up (session creation)
  const t1 = performance.now();
  for (let i = 0; i < o.iters; i++) await enc.backward(tok, gp, names, true);
  const stepSeconds = (performance.now() - t1) / 1000 / o.iters;
  await enc.forward(tok);
  const t2 = performance.now();
  for (let i = 0; i < o.iters; i++) await enc.forward(tok);
  const forwardSeconds = (performance.now() - t2) / 1000 / o.iters;
  const gemmAfter = await gemmReference(o, rows * o.seq);
  return {
    tokensPerSecond: n / stepSeconds, stepSeconds, forwardTokensPerSecond: n / forwardSeconds, forwardSeconds, initSeconds, rowsPerRun: rows, runBudgetMiB: enc.runBudgetMiB,
    gemmTokens: rows * o.seq, gemmBeforeGflops: gemmBefore.layerMixGflops, gemmAfterGflops: gemmAfter.layerMixGflops,
    ...Object.fromEntries(Object.entries(gemmAfter).filter(([k]) => k.endsWith('Gflops') && k !== 'layerMixGflops').map(([k, v]) => [`gemmAfter${k}`, v])),
  };
}

/**
 * ONNX Runtime's Gemm on the encoder's layer shapes at `tokens` rows, same session options
 * as training: seconds of each shape (mean of at least 5 runs) and the GFLOPS of one layer's mix.
 */
async function gemmReference(o: Required<EncoderBenchOptions>, tokens: number): Promise<Record<string, number>> {
  const s = spec(o.small);
  const H = s.hiddenSize;
  const I = s.intermediateSize;
  const shapes: [string, number, number, number][] = [['MxHxH', H, H, 4], ['MxHxI', H, I, 1], ['MxIxH', I, H, 1]];
  const out: Record<string, number> = { tokens };
  const rng = createRng(11);
  let flops = 0;
  let seconds = 0;
  for (const [name, k, nOut, perLayer] of shapes) {
    const g = new OnnxGraphBuilder();
    g.input('x', ONNX_FLOAT, [tokens, k]);
    g.input('w', ONNX_FLOAT, [nOut, k]);
    g.input('b', ONNX_FLOAT, [nOut]);
    g.output(g.op('Gemm', ['x', 'w', 'b'], { transB: 1 }), 'y', ONNX_FLOAT, [tokens, nOut]);
    const sess = await ort.InferenceSession.create(g.toBytes('gemm'), trainingSessionOptions(o.threads, 'cpu'));
    const feeds = {
      x: new ort.Tensor('float32', Float32Array.from({ length: tokens * k }, () => rng.normal()), [tokens, k]),
      w: new ort.Tensor('float32', Float32Array.from({ length: nOut * k }, () => rng.normal() * 0.02), [nOut, k]),
      b: new ort.Tensor('float32', new Float32Array(nOut), [nOut]),
    };
    await sess.run(feeds);
    const reps = Math.max(5, o.iters);
    const t = performance.now();
    for (let i = 0; i < reps; i++) await sess.run(feeds);
    const best = (performance.now() - t) / 1000 / reps; // mean, as the training figures
    await sess.release();
    const f = 2 * tokens * k * nOut;
    out[`${name}Gflops`] = f / best / 1e9;
    flops += perLayer * f;
    seconds += perLayer * best;
  }
  out.layerMixGflops = flops / seconds / 1e9;
  return out;
}

/** Samples whose four texts are XQuAD paragraphs run together, so every text fills `maxLength` tokens. */
function longSamples(samples: readonly TrainingSample[], n: number): TrainingSample[] {
  const paras = [...new Set(samples.map((x) => x.docPivot))];
  const long = (k: number) => Array.from({ length: 6 }, (_, j) => paras[(k * 6 + j) % paras.length]).join(' ');
  return Array.from({ length: n }, (_, i) => ({ ...samples[i], queryPivot: long(4 * i), queryTarget: long(4 * i + 1), docPivot: long(4 * i + 2), docTarget: long(4 * i + 3) }));
}

/** Real training steps of one shape on the XQuAD training set (see the file comment). */
async function xlalignCost(o: Required<EncoderBenchOptions>, shape: string, memoryCheck: boolean): Promise<Record<string, unknown>> {
  const s = COST_SHAPES[shape];
  const tokenizer = await AutoTokenizer.from_pretrained(join(packageRoot(), 'data/models/xlalign-static-v1'), { local_files_only: true });
  const enc = new TransformerEncoder(randomEncoderWeights(s), tokenizer, '', { threads: o.threads, maxLength: 512 });
  const all = buildTrainingSamples();
  const batchSize = memoryCheck ? 2 : o.batch;
  const samples = memoryCheck ? longSamples(all, batchSize) : all;
  const head = new EncoderHead(enc, samples);
  const loss = new AlignmentLoss();
  const steps = memoryCheck ? 1 : o.costSteps;
  const order = Array.from({ length: samples.length }, (_, i) => i);
  const rng = createRng(42);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  // every step is timed; the first one also builds the sessions, so with more than one step
  // the figure is the mean of the others
  const times: number[] = [];
  const load: number[][] = [loadavg()];
  let tokens = 0;
  for (let step = 0; step < steps; step++) {
    const batch = Array.from({ length: batchSize }, (_, i) => order[(step * batchSize + i) % order.length]);
    const slots0 = head.stats.tokenSlots - head.stats.paddingSlots;
    const t = performance.now();
    const r = loss.forward(await head.forward(batch));
    await head.backward(r.grads);
    await head.step(2e-5);
    times.push((performance.now() - t) / 1000);
    if (steps === 1 || step > 0) tokens += head.stats.tokenSlots - head.stats.paddingSlots - slots0;
    console.error(`bench/encoder cost ${shape}: step ${step + 1}/${steps} ${times[step].toFixed(1)} s, load ${loadavg()[0].toFixed(1)}`);
  }
  const timed = steps === 1 ? 1 : steps - 1;
  const seconds = steps === 1 ? times[0] : times.slice(1).reduce((a, b) => a + b, 0);
  load.push(loadavg());
  const perStep = seconds / timed;
  const batches = Math.ceil(all.length / o.batch);
  const fwd = forwardFlopsPerToken(enc.config, 256);
  return {
    shape, layers: s.numLayers, hidden: s.hiddenSize, vocab: s.vocabSize, batch: batchSize, maxLength: enc.maxLength, steps, stepsTimed: timed, stepSeconds: times, secondsPerStep: perStep,
    minutesPerEpoch: memoryCheck ? undefined : (perStep * batches) / 60, batchesPerEpoch: batches,
    paddingShare: head.stats.paddingSlots / head.stats.tokenSlots, keptRuns: head.stats.keptRuns, recomputedRuns: head.stats.recomputedRuns,
    realTokensPerStep: tokens / timed,
    approxGflops: (tokens * fwd * (3 + head.stats.recomputedRuns / Math.max(1, head.stats.keptRuns + head.stats.recomputedRuns))) / seconds / 1e9,
    loadavg: load,
  };
}

function runChild(mode: string, o: object): Record<string, any> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, JSON.stringify(o)], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`bench/encoder: child '${mode}' failed (exit ${r.status})\n${r.stdout}`);
  return JSON.parse(line.slice(7));
}

/**
 * Run the comparison (each side in its own process) and return the figures.
 * @example const r = benchmarkEncoder({ iters: 3 }); r.ratio // xlalign tokens/s / PyTorch tokens/s
 */
export function benchmarkEncoder(options: EncoderBenchOptions = {}): Record<string, unknown> {
  const o: Required<EncoderBenchOptions> = {
    iters: 3, threads: availableParallelism(), small: false, batch: 32, seq: 128, python: '/usr/bin/python3', costs: [], costSteps: 10, largeMemory: false, skipStep: false,
    ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as EncoderBenchOptions),
  };
  const s = spec(o.small);
  const shape = { layers: s.numLayers, hidden: s.hiddenSize, heads: s.numHeads, intermediate: s.intermediateSize, vocab: s.vocabSize, batch: o.batch, seq: o.seq, threads: o.threads };
  const machine = { cpuFlags: cpuFlags(), cores: availableParallelism(), loadavgBefore: loadavg() };
  const result: Record<string, unknown> = { shape, machine };
  if (!o.skipStep) {
    const xl = runChild('step', o);
    const args = ['bench', ...Object.entries({ layers: s.numLayers, hidden: s.hiddenSize, heads: s.numHeads, intermediate: s.intermediateSize, vocab: s.vocabSize, batch: o.batch, seq: o.seq, iters: o.iters, threads: o.threads }).flatMap(([k, v]) => [`--${k}`, String(v)])];
    const py = spawnSync(o.python, [join(packageRoot(), 'scripts/encoder-torch-reference.py'), ...args], { encoding: 'utf8' });
    const torch = py.status === 0 ? (JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, number>) : undefined;
    // Gemm in the step's own process, before and after it: their mean is the reference
    const gemm = { tokens: xl.gemmTokens, before: xl.gemmBeforeGflops, after: xl.gemmAfterGflops, layerMixGflops: (xl.gemmBeforeGflops + xl.gemmAfterGflops) / 2 };
    const fwd = forwardFlopsPerToken({ hiddenSize: s.hiddenSize, intermediateSize: s.intermediateSize, numLayers: s.numLayers }, o.seq);
    const trainGflops = (xl.tokensPerSecond * 3 * fwd) / 1e9;
    const embedGflops = (xl.forwardTokensPerSecond * fwd) / 1e9;
    Object.assign(result, {
      xlalign: { ...xl, trainGflops, embedGflops },
      pytorch: torch ? { ...torch, trainGflops: (torch.tokens_per_s * 3 * fwd) / 1e9 } : `PyTorch not available at ${o.python}: ${py.stderr?.trim().split('\n').pop() ?? py.error?.message}`,
      ratio: torch ? xl.tokensPerSecond / torch.tokens_per_s : undefined,
      memoryRatio: torch ? xl.peakRssMiB / torch.peak_rss_mb : undefined,
      gemm,
      fractionOfGemm: { training: trainGflops / gemm.layerMixGflops, embedding: embedGflops / gemm.layerMixGflops },
    });
  }
  if (o.costs.length > 0) result.costs = o.costs.map((c) => runChild('cost', { ...o, shape: c }));
  if (o.largeMemory) result.largeMemory = runChild('large-memory', o);
  (result.machine as Record<string, unknown>).loadavgAfter = loadavg();
  return result;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const o = JSON.parse(argv[2]);
    const before = loadavg();
    const mode = argv[1];
    const r =
      mode === 'step' ? await xlalignStep(o)
      : mode === 'cost' ? await xlalignCost(o, o.shape, false)
      : await xlalignCost(o, 'large', true);
    console.log(`RESULT ${JSON.stringify({ ...r, peakRssMiB: process.resourceUsage().maxRSS / 1024, loadavgBefore: before, loadavgAfter: loadavg() })}`);
  } else {
    const get = (k: string) => {
      const i = argv.indexOf(k);
      return i >= 0 ? argv[i + 1] : undefined;
    };
    const num = (k: string) => (get(k) === undefined ? undefined : Number(get(k)));
    const r = benchmarkEncoder({
      iters: num('--iters'), threads: num('--threads'), small: argv.includes('--small'), costs: get('--costs')?.split(',').filter(Boolean),
      costSteps: num('--cost-steps'), largeMemory: argv.includes('--large-memory'), skipStep: argv.includes('--skip-step'),
    });
    console.log(JSON.stringify(r, null, 2));
  }
}

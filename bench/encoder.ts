/**
 * Transformer-encoder training speed (issue 11): forward + backward tokens/s and peak RSS at
 * multilingual-e5-small's shape (BERT, 12 layers, hidden 384, 12 heads, intermediate 1536,
 * vocabulary 250,037, random weights) at batch 32 x 128 tokens, for xlalign (ONNX Runtime,
 * the training graph of `lib/models/transformer`) and PyTorch CPU (Debian python3-torch,
 * `scripts/encoder-torch-reference.py bench`) on the same shapes, both on all cores, in the
 * same run, each in its own process (so peak RSS is its own). Same work on both sides: word
 * table frozen, every other parameter and the embedding input get gradients, mean pooling.
 *
 * Plus the wall time of a measured number of real training steps (EncoderHead, GradCache
 * two-pass, AdamW, alignment loss) on the 2,800 XQuAD training samples at that shape
 * (batch 32, maxLength 128; tokenizer: the default static model's WordPiece, since the e5
 * tokenizer is not available offline), extrapolated to one epoch (⌈2800/32⌉ batches).
 *
 *   tsx bench/encoder.ts [--iters 3] [--epoch-steps 2] [--threads N] [--small]
 *
 * `--small` uses 4 layers and vocabulary 40,000 (covers the static tokenizer) for a smoke run. Never a timed test.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer } from '@huggingface/transformers';
import { TransformerEncoder } from '../lib/models/transformer/encoder.js';
import { graphParamNames } from '../lib/models/transformer/graph.js';
import { randomEncoderWeights, type RandomEncoderSpec } from '../lib/models/transformer/random.js';
import { EncoderHead } from '../lib/train/heads/encoder-head.js';
import { AlignmentLoss } from '../lib/train/losses/alignment-loss.js';
import { buildTrainingSamples } from '../lib/train/samples.js';
import { packageRoot } from '../lib/util/fs.js';
import { createRng } from '../lib/util/rng.js';

/** Options of {@link benchmarkEncoder}. */
export interface EncoderBenchOptions {
  /** Timed forward+backward iterations (after one warm-up). Default 3. */
  iters?: number;
  /** Real training steps timed for the epoch estimate (0 = skip). Default 2. */
  epochSteps?: number;
  /** Threads for both ONNX Runtime and PyTorch. Default all cores. */
  threads?: number;
  /** Smaller model (4 layers, vocabulary 40,000) for a smoke run. Default false. */
  small?: boolean;
  batch?: number;
  seq?: number;
  /** PyTorch's python. Default /usr/bin/python3. */
  python?: string;
}

const E5_SMALL: RandomEncoderSpec = { modelType: 'bert', vocabSize: 250037, hiddenSize: 384, numLayers: 12, numHeads: 12, intermediateSize: 1536, maxPositions: 512, seed: 1 };

function spec(small: boolean): RandomEncoderSpec {
  return small ? { ...E5_SMALL, numLayers: 4, vocabSize: 40000 } : E5_SMALL;
}

/** xlalign side, in this process: tokens/s of forward+backward and of forward alone. */
async function xlalignStep(o: Required<Omit<EncoderBenchOptions, 'python'>>): Promise<Record<string, number>> {
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
  await enc.backward(tok, gp, names, true); // warm-up (session creation)
  const t1 = performance.now();
  for (let i = 0; i < o.iters; i++) await enc.backward(tok, gp, names, true);
  const stepSeconds = (performance.now() - t1) / 1000 / o.iters;
  await enc.forward(tok);
  const t2 = performance.now();
  for (let i = 0; i < o.iters; i++) await enc.forward(tok);
  const forwardSeconds = (performance.now() - t2) / 1000 / o.iters;
  return { tokensPerSecond: n / stepSeconds, stepSeconds, forwardTokensPerSecond: n / forwardSeconds, forwardSeconds, initSeconds };
}

/** Real training steps on the XQuAD training set; returns seconds per step and the one-epoch estimate. */
async function xlalignEpoch(o: Required<Omit<EncoderBenchOptions, 'python'>>): Promise<Record<string, number>> {
  const s = spec(o.small);
  const tokenizer = await AutoTokenizer.from_pretrained(join(packageRoot(), 'data/models/xlalign-static-v1'), { local_files_only: true });
  const enc = new TransformerEncoder(randomEncoderWeights(s), tokenizer, '', { threads: o.threads, maxLength: o.seq });
  const samples = buildTrainingSamples();
  const head = new EncoderHead(enc, samples, { microBatch: 32 });
  const loss = new AlignmentLoss();
  const batches = Math.ceil(samples.length / o.batch);
  let seconds = 0;
  for (let step = 0; step <= o.epochSteps; step++) {
    const batch = Array.from({ length: o.batch }, (_, i) => (step * o.batch + i) % samples.length);
    const t = performance.now();
    const r = loss.forward(await head.forward(batch));
    await head.backward(r.grads);
    await head.step(2e-5);
    if (step > 0) seconds += (performance.now() - t) / 1000; // step 0 builds the sessions
  }
  const perStep = seconds / o.epochSteps;
  return { stepsTimed: o.epochSteps, secondsPerStep: perStep, samples: samples.length, batchesPerEpoch: batches, epochSecondsEstimate: perStep * batches };
}

function runChild(mode: string, o: object): Record<string, number> {
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
  const o = { iters: 3, epochSteps: 2, threads: availableParallelism(), small: false, batch: 32, seq: 128, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const s = spec(o.small);
  const shape = { layers: s.numLayers, hidden: s.hiddenSize, heads: s.numHeads, intermediate: s.intermediateSize, vocab: s.vocabSize, batch: o.batch, seq: o.seq, threads: o.threads };
  const xl = runChild('step', o);
  const python = options.python ?? '/usr/bin/python3';
  const args = ['bench', ...Object.entries({ layers: s.numLayers, hidden: s.hiddenSize, heads: s.numHeads, intermediate: s.intermediateSize, vocab: s.vocabSize, batch: o.batch, seq: o.seq, iters: o.iters, threads: o.threads }).flatMap(([k, v]) => [`--${k}`, String(v)])];
  const py = spawnSync(python, [join(packageRoot(), 'scripts/encoder-torch-reference.py'), ...args], { encoding: 'utf8' });
  const torch = py.status === 0 ? (JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, number>) : undefined;
  const epoch = o.epochSteps > 0 ? runChild('epoch', o) : undefined;
  return {
    shape,
    xlalign: xl,
    pytorch: torch ?? `PyTorch not available at ${python}: ${py.stderr?.trim().split('\n').pop() ?? py.error?.message}`,
    ratio: torch ? xl.tokensPerSecond / torch.tokens_per_s : undefined,
    epoch,
  };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const o = JSON.parse(argv[2]);
    const r = argv[1] === 'step' ? await xlalignStep(o) : await xlalignEpoch(o);
    console.log(`RESULT ${JSON.stringify({ ...r, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}`);
  } else {
    const get = (k: string) => {
      const i = argv.indexOf(k);
      return i >= 0 ? Number(argv[i + 1]) : undefined;
    };
    const r = benchmarkEncoder({ iters: get('--iters'), epochSteps: get('--epoch-steps'), threads: get('--threads'), small: argv.includes('--small') });
    console.log(JSON.stringify(r, null, 2));
  }
}

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkOneOf, xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { AdamWF32State } from '../nn/adamw-f32.js';
import { TransformerEncoder, type EncoderOptions } from '../models/transformer/encoder.js';
import { saveEncoderFolder } from '../models/transformer/folder.js';
import { resolveEncoderFolder } from '../models/transformer/hub.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../models/transformer/safetensors.js';
import { embeddingNames } from '../models/transformer/families.js';
import { param } from '../models/transformer/weights.js';
import { EncoderHead, type EncoderHeadOptions } from './heads/encoder-head.js';
import { AlignmentLoss } from './losses/alignment-loss.js';
import type { ParallelLoss } from './losses/types.js';
import type { TrainingSample } from './samples.js';
import { writeLossCsv } from '../results/loss-curve.js';
import { LR_SCHEDULES, trainLoop, type LossRow, type LrSchedule } from './train-loop.js';
import { writeTrainingRecord } from '../results/training-record.js';

/** Options of {@link fineTuneEncoder}; all but `modelDir` and `samples` optional. */
export interface FineTuneEncoderOptions extends EncoderHeadOptions, EncoderOptions {
  /** The model folder to start from (config.json, model.safetensors, tokenizer files), or a hub id (fetched once into transformers.js's cache, see resolveEncoderFolder). */
  modelDir: string;
  /** Never use the network for a hub id. Default false. */
  localFilesOnly?: boolean;
  samples: readonly TrainingSample[];
  /** Output folder: `model/` (the fine-tuned folder), `loss.csv`, `training.json`, `checkpoint/` while running. Default: nothing written. */
  outDir?: string;
  /** Default `new AlignmentLoss()`. */
  loss?: ParallelLoss;
  /** Samples per batch (in-batch negatives). Default 32. */
  batchSize?: number;
  /** Default 1. */
  epochs?: number;
  /** Seed of the batch order. Default 42. */
  seed?: number;
  /** Peak learning rate. Default 2e-5. */
  lr?: number;
  /** Default `'linear'` (warm-up then linear decay to 0). */
  schedule?: LrSchedule;
  /** Default 0.1. */
  warmupRatio?: number;
  /** Keep samples that share `docId` out of one batch. Default true. */
  groupByDoc?: boolean;
  /** Write a checkpoint every N steps (and at each epoch end) to `<outDir>/checkpoint`; 0 = never. Default 50. */
  checkpointEvery?: number;
  /** Progress bar on stderr. Default: when stderr is a TTY. */
  progress?: boolean;
  /** Called after every step. */
  onStep?: (row: LossRow) => void;
}

/** What {@link fineTuneEncoder} returns. */
export interface FineTuneEncoderResult {
  encoder: TransformerEncoder;
  history: LossRow[];
  steps: number;
  /** Steps run by this call (fewer than `steps` after a resume). */
  stepsThisRun: number;
  seconds: number;
  /** Mean loss of each epoch (Σ loss / steps, in step order), as trainLoop reports it. */
  epochLosses: number[];
  config: Record<string, unknown>;
}

interface CheckpointState {
  step: number;
  file: string;
  fingerprint: Record<string, unknown>;
  history: LossRow[];
}

/**
 * Fine-tune a BERT / XLM-R encoder on parallel samples with a {@link ParallelLoss} (default
 * InfoNCE + JSD) through an {@link EncoderHead}, in the one `trainLoop` (seeded batches,
 * `learningRate` warm-up/decay, one AdamW step per batch; `resume` and `afterStep` carry the
 * checkpoints). With `outDir`: a checkpoint every
 * `checkpointEvery` steps (trained parameters in float32 and the AdamW moments in
 * `checkpoint/state-<step>.safetensors`, then `checkpoint/state.json` atomically), so a run
 * killed at any point (SIGKILL included) resumes from the last checkpoint to the same final
 * weights; at the end `model/` (same names, shapes and dtypes as the input), `loss.csv`,
 * `training.json`, and the checkpoint is removed.
 *
 * @throws XlalignError for fewer than 2 samples, bad options, a checkpoint from different
 *   options (it names the field), or a non-finite loss (with the step).
 * @example
 * await fineTuneEncoder({ modelDir: 'models/e5-small', samples: buildTrainingSamples(), outDir: 'runs/e5-ft', queryPrefix: 'query: ', passagePrefix: 'passage: ' });
 */
export async function fineTuneEncoder(options: FineTuneEncoderOptions): Promise<FineTuneEncoderResult> {
  const where = 'fineTuneEncoder';
  const { modelDir, samples, outDir, batchSize = 32, epochs = 1, seed = 42, lr = 2e-5, warmupRatio = 0.1, groupByDoc = true, checkpointEvery = 50 } = options;
  const schedule = checkOneOf(where, 'schedule', options.schedule ?? 'linear', LR_SCHEDULES);
  if (samples.length < 2) throw xlError(where, `need at least 2 training samples, got ${samples.length}`);
  if (!Number.isInteger(batchSize) || batchSize < 2) throw xlError(where, `batchSize must be an integer >= 2, got ${batchSize}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw xlError(where, `epochs must be a positive integer, got ${epochs}`);
  if (!(lr > 0)) throw xlError(where, `lr must be > 0, got ${lr}`);
  if (!(warmupRatio >= 0 && warmupRatio < 1)) throw xlError(where, `warmupRatio must be in [0, 1), got ${warmupRatio}`);
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0) throw xlError(where, `checkpointEvery must be an integer >= 0, got ${checkpointEvery}`);
  const loss = options.loss ?? new AlignmentLoss();
  const encoder = await TransformerEncoder.load(await resolveEncoderFolder(modelDir, { localFilesOnly: options.localFilesOnly }), options);
  const head = new EncoderHead(encoder, samples, options);

  const groupOf = groupByDoc && samples.every((s) => s.docId !== undefined) ? (i: number) => samples[i].docId : undefined;
  const fingerprint = { modelDir: resolve(modelDir), samples: samples.length, firstSample: samples[0].id, batchSize, epochs, seed, lr, schedule, warmupRatio, head: head.getConfig(), loss: loss.getConfig() };

  const ckDir = outDir ? join(outDir, 'checkpoint') : undefined;
  let resume: { history: LossRow[] } | undefined;
  if (ckDir && existsSync(join(ckDir, 'state.json'))) {
    const state = JSON.parse(readFileSync(join(ckDir, 'state.json'), 'utf8')) as CheckpointState;
    for (const [k, v] of Object.entries(fingerprint)) {
      if (JSON.stringify(state.fingerprint[k]) !== JSON.stringify(v)) {
        throw xlError(where, `${join(ckDir, 'state.json')} is a checkpoint of another run (${k}: ${JSON.stringify(state.fingerprint[k])} there, ${JSON.stringify(v)} now); remove ${ckDir} or use another outDir`);
      }
    }
    restoreCheckpoint(head, join(ckDir, state.file));
    resume = { history: state.history };
  }
  const start = resume?.history.length ?? 0;

  // the one training loop (seeded batches, schedule, loss curve, progress); this function
  // adds the encoder's checkpoints through afterStep and resumes through `resume`
  const t0 = performance.now();
  const run = await trainLoop(head, samples.length, {
    batchSize, epochs, seed, lr, schedule, warmupRatio, loss, groupOf, progress: options.progress, onStep: options.onStep, resume,
    lossCsv: outDir ? join(outDir, 'loss.csv') : undefined,
    afterStep: ({ stepsDone, total, epochEnd, history }) => {
      if (ckDir && checkpointEvery > 0 && (stepsDone % checkpointEvery === 0 || epochEnd) && stepsDone < total) {
        writeCheckpoint(head, ckDir, { step: stepsDone, file: `state-${stepsDone}.safetensors`, fingerprint, history: [...history] });
      }
    },
  });
  const history = run.history;
  const step = run.steps;
  const seconds = (performance.now() - t0) / 1000;
  const config = { ...fingerprint, steps: step, stepsThisRun: step - start, resumedFrom: start || undefined };
  if (outDir) {
    // written back with the modules it was trained with (Dense weights, pooling, the prompts used)
    const chain = encoder.moduleChain && { ...encoder.moduleChain, queryPrefix: head.getConfig().queryPrefix as string, passagePrefix: head.getConfig().passagePrefix as string };
    saveEncoderFolder(encoder.weights, encoder.sourceDir, join(outDir, 'model'), { moduleChain: chain });
    writeLossCsv(join(outDir, 'loss.csv'), history);
    writeTrainingRecord(join(outDir, 'training.json'), { ...config, seconds });
    if (ckDir) rmSync(ckDir, { recursive: true, force: true });
  }
  const epochLosses = run.epochLosses;
  return { encoder, history, steps: step, stepsThisRun: step - start, seconds, epochLosses, config };
}

/** The parameters a head changes: its trainable graph parameters and the embedding tables it trains. */
function changedParams(head: EncoderHead): string[] {
  const names = [...head.trainable];
  const e = embeddingNames(head.encoder.config);
  if (head.trainEmbeddingBlock) names.push(...[e.position, e.tokenType].filter((n): n is string => n !== undefined));
  if (head.wordEmbeddings === 'sparse') names.push(e.word);
  if (head.trainEmbeddingLora && e.wordLora && e.tokenTypeLora) names.push(e.wordLora.a, e.wordLora.b, e.tokenTypeLora.a, e.tokenTypeLora.b);
  return names;
}

function writeCheckpoint(head: EncoderHead, dir: string, state: CheckpointState): void {
  const tensors = new Map<string, SafeTensor>();
  const w = head.encoder.weights;
  for (const n of changedParams(head)) tensors.set(`param.${n}`, { dtype: 'F32', shape: [param(w, n).length], data: param(w, n) });
  const steps: Record<string, number> = {};
  for (const [n, s] of head.optimizer.exportState()) {
    tensors.set(`adam.m.${n}`, { dtype: 'F32', shape: [s.m.length], data: s.m });
    tensors.set(`adam.v.${n}`, { dtype: 'F32', shape: [s.v.length], data: s.v });
    if (s.rowT) tensors.set(`adam.rowT.${n}`, { dtype: 'I32', shape: [s.rowT.length], raw: new Uint8Array(s.rowT.buffer, s.rowT.byteOffset, s.rowT.byteLength) });
    steps[n] = s.t;
  }
  writeSafetensors(join(dir, state.file), { tensors, metadata: { steps: JSON.stringify(steps) } });
  const prev = existsSync(join(dir, 'state.json')) ? (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as CheckpointState).file : undefined;
  writeFileAtomic(join(dir, 'state.json'), JSON.stringify(state));
  if (prev && prev !== state.file) rmSync(join(dir, prev), { force: true });
}

function restoreCheckpoint(head: EncoderHead, file: string): void {
  const st = readSafetensors(file);
  const w = head.encoder.weights;
  for (const n of changedParams(head)) {
    const t = st.tensors.get(`param.${n}`);
    if (!t?.data) throw xlError('fineTuneEncoder', `${file}: checkpoint has no 'param.${n}'`);
    param(w, n).set(t.data);
  }
  const steps = JSON.parse(st.metadata?.steps ?? '{}') as Record<string, number>;
  const states = new Map<string, AdamWF32State>();
  for (const [n, t] of Object.entries(steps)) {
    const m = st.tensors.get(`adam.m.${n}`)?.data;
    const v = st.tensors.get(`adam.v.${n}`)?.data;
    if (!m || !v) throw xlError('fineTuneEncoder', `${file}: checkpoint lacks the AdamW moments of '${n}'`);
    const raw = st.tensors.get(`adam.rowT.${n}`)?.raw;
    states.set(n, { m, v, t, rowT: raw ? new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : undefined });
  }
  head.optimizer.importState(states);
}

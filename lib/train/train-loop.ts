import cliProgress from 'cli-progress';
import { checkOneOf, xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { createRng, shuffled, type Rng } from '../util/rng.js';
import { AdamW } from '../nn/adamw.js';
import { AlignmentLoss } from './losses/alignment-loss.js';
import type { ParallelBatch, ParallelGrads, ParallelLoss } from './losses/types.js';

/**
 * Something trainable on parallel samples: the alignment adapter over cached embeddings
 * (`lib/train/heads/adapter-head.ts`) or the static embedding table
 * (`lib/train/heads/static-parallel-head.ts`).
 */
export interface TrainHead {
  /** L2-normalised embeddings of the four texts of each sample index in `batch`. */
  forward(batch: readonly number[]): ParallelBatch;
  /** Accumulate parameter gradients for dL/d(embeddings) of the last forward. */
  backward(grads: ParallelGrads): void;
  /** Apply the accumulated gradients with `optimizer` and clear them. */
  step(optimizer: AdamW): void;
}

/** Learning-rate schedules of {@link trainLoop}. */
export const LR_SCHEDULES = ['constant', 'linear'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** Options of {@link trainLoop}; every field optional. */
export interface TrainLoopOptions {
  /** Samples per batch (in-batch negatives: 2·batchSize documents per softmax). Default 32. */
  batchSize?: number;
  /** Passes over the samples. Default 3. */
  epochs?: number;
  /** Seed of the batch order. Default 42. */
  seed?: number;
  /** Peak learning rate of AdamW. Default 1e-3. */
  lr?: number;
  /** Decoupled weight decay of AdamW. Default 0.01. */
  weightDecay?: number;
  /** `linear` (default): linear warmup over `warmupRatio` of the steps, then linear decay to 0; `constant`: warmup then constant. */
  schedule?: LrSchedule;
  /** Fraction of the steps used for warmup. Default 0.1. */
  warmupRatio?: number;
  /** The loss. Default `new AlignmentLoss()` (InfoNCE + 1·JSD, τ = 0.05). */
  loss?: ParallelLoss;
  /**
   * Key of each sample's document (e.g. `(i) => samples[i].docId`): two samples with the
   * same key are never put in one batch, so that a shared document is not used as its own
   * negative. Default none.
   */
  groupOf?: (index: number) => string | undefined;
  /** A cli-progress bar on stderr with the running loss. Default: when stderr is a TTY. */
  progress?: boolean;
  /** Write the loss curve (one row per step) to this CSV file, atomically, after each epoch. Default none. */
  lossCsv?: string;
  /** Called after every step (notebooks, early stopping by throwing). */
  onStep?: (row: LossRow) => void;
}

/** One row of the loss curve. `parts` are the unweighted loss terms (`infoNCE`, `jsd`, ...). */
export interface LossRow {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  parts: Record<string, number>;
}

/** What {@link trainLoop} returns. */
export interface TrainLoopResult {
  history: LossRow[];
  steps: number;
  seconds: number;
  /** The resolved options (seed, lr, ...) and the loss and optimizer configs, for the record. */
  config: Record<string, unknown>;
}

/** The defaults of {@link TrainLoopOptions}. */
export const TRAIN_DEFAULTS = { batchSize: 32, epochs: 3, seed: 42, lr: 1e-3, weightDecay: 0.01, schedule: 'linear', warmupRatio: 0.1 } as const;

/**
 * Split shuffled sample indices into batches of at most `batchSize` in which no two
 * samples share a group key; a sample whose key is already in the batch waits for the next
 * batch (order otherwise kept). Batches smaller than 2 are dropped (a softmax over one
 * document teaches nothing). Deterministic given the order.
 */
export function makeBatches(order: readonly number[], batchSize: number, groupOf?: (index: number) => string | undefined): number[][] {
  const batches: number[][] = [];
  let pending = order.slice();
  while (pending.length > 0) {
    const batch: number[] = [];
    const keys = new Set<string>();
    const rest: number[] = [];
    for (const i of pending) {
      const key = groupOf?.(i);
      if (batch.length < batchSize && (key === undefined || !keys.has(key))) {
        batch.push(i);
        if (key !== undefined) keys.add(key);
      } else rest.push(i);
    }
    batches.push(batch);
    pending = rest;
  }
  return batches.filter((b) => b.length >= 2);
}

/** Learning rate at 0-based `step` of `total` steps. */
export function learningRate(step: number, total: number, lr: number, schedule: LrSchedule, warmupRatio: number): number {
  const warm = Math.floor(total * warmupRatio);
  if (step < warm) return (lr * (step + 1)) / (warm + 1);
  if (schedule === 'constant') return lr;
  return (lr * Math.max(0, total - step)) / Math.max(1, total - warm);
}

/**
 * Train a {@link TrainHead} on `numSamples` parallel samples with AdamW: each epoch the
 * indices are shuffled (seeded), cut into batches ({@link makeBatches}), and for each batch
 * forward -> loss -> backward -> step. Writes the loss curve as CSV (`step,epoch,loss,lr,
 * <parts...>`) when asked, shows a progress bar with the running (exponential moving
 * average) loss, and returns the history and the resolved configuration.
 *
 * @throws XlalignError for fewer than 2 samples, a non-finite loss (with the step), or bad options.
 * @example
 * const head = new AdapterHead(adapter, cached);             // see trainAdapter
 * const { history } = trainLoop(head, cached.size, { epochs: 3, lr: 1e-3, lossCsv: 'runs/adapter/loss.csv' });
 */
export function trainLoop(head: TrainHead, numSamples: number, options: TrainLoopOptions = {}): TrainLoopResult {
  const o = { ...TRAIN_DEFAULTS, ...dropUndefined(options) };
  const schedule = checkOneOf('trainLoop', 'schedule', o.schedule, LR_SCHEDULES);
  if (!Number.isInteger(numSamples) || numSamples < 2) throw xlError('trainLoop', `need at least 2 samples, got ${numSamples}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 2) throw xlError('trainLoop', `batchSize must be an integer >= 2, got ${o.batchSize}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw xlError('trainLoop', `epochs must be a positive integer, got ${o.epochs}`);
  if (!(o.warmupRatio >= 0 && o.warmupRatio < 1)) throw xlError('trainLoop', `warmupRatio must be in [0, 1), got ${o.warmupRatio}`);
  const loss = options.loss ?? new AlignmentLoss();
  const optimizer = new AdamW({ lr: o.lr, weightDecay: o.weightDecay });
  const rng: Rng = createRng(o.seed);
  const indices = Array.from({ length: numSamples }, (_, i) => i);
  const epochs = Array.from({ length: o.epochs }, () => makeBatches(shuffled(indices, rng), o.batchSize, options.groupOf));
  const total = epochs.reduce((s, e) => s + e.length, 0);
  const progress = options.progress ?? Boolean(process.stderr.isTTY);
  const bar = progress
    ? new cliProgress.SingleBar(
        { format: 'train {bar} {value}/{total} steps | epoch {epoch} | loss {loss} | {duration_formatted}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { epoch: 1, loss: '-' });
  const history: LossRow[] = [];
  const start = performance.now();
  let ema: number | undefined;
  let step = 0;
  try {
    epochs.forEach((batches, e) => {
      for (const batch of batches) {
        optimizer.lr = learningRate(step, total, o.lr, schedule, o.warmupRatio);
        const embeddings = head.forward(batch);
        const r = loss.forward(embeddings);
        if (!Number.isFinite(r.loss)) throw xlError('trainLoop', `loss is ${r.loss} at step ${step} (epoch ${e + 1}); lower lr (now ${optimizer.lr})`);
        head.backward(r.grads);
        head.step(optimizer);
        const row: LossRow = { step, epoch: e + 1, loss: r.loss, lr: optimizer.lr, parts: r.parts };
        history.push(row);
        options.onStep?.(row);
        ema = ema === undefined ? r.loss : 0.9 * ema + 0.1 * r.loss;
        step++;
        bar?.update(step, { epoch: e + 1, loss: ema.toFixed(4) });
      }
      if (options.lossCsv) writeFileAtomic(options.lossCsv, lossCurveCsv(history));
    });
  } finally {
    bar?.stop();
  }
  const { batchSize, epochs: numEpochs, seed, lr, weightDecay, warmupRatio } = o;
  return {
    history,
    steps: step,
    seconds: (performance.now() - start) / 1000,
    config: {
      ...{ batchSize, epochs: numEpochs, seed, lr, weightDecay, schedule, warmupRatio, numSamples, steps: step },
      groupedBatches: Boolean(options.groupOf),
      loss: loss.getConfig(),
      optimizer: { ...optimizer.getConfig(), lr },
    },
  };
}

/**
 * The loss curve as CSV: header `step,epoch,loss,lr,<part names in first-seen order>`,
 * one row per step, numbers in full precision.
 * @example writeFileAtomic('loss.csv', lossCurveCsv(result.history));
 */
export function lossCurveCsv(history: readonly LossRow[]): string {
  const parts: string[] = [];
  for (const row of history) for (const k of Object.keys(row.parts)) if (!parts.includes(k)) parts.push(k);
  const lines = [['step', 'epoch', 'loss', 'lr', ...parts].join(',')];
  for (const r of history) lines.push([r.step, r.epoch, r.loss, r.lr, ...parts.map((k) => r.parts[k] ?? '')].join(','));
  return lines.join('\n') + '\n';
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

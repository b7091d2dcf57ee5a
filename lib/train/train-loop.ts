import cliProgress from 'cli-progress';
import { createProgress } from '../util/progress.js';
import { checkOneOf, xlError } from '../util/errors.js';
import { createRng, shuffled, type Rng } from '../util/rng.js';
import { writeLossCsv, type LossRow } from '../results/loss-curve.js';
import type { TrainableHead } from './head.js';
import { AlignmentLoss } from './losses/alignment-loss.js';
import type { BatchLoss, ParallelBatch, ParallelGrads } from './losses/types.js';

// loss.csv has one owner (lib/results/loss-curve.ts); re-exported for the training API.
export { lossCurveCsv, type LossRow } from '../results/loss-curve.js';

/**
 * Learning-rate schedules of {@link trainLoop}, each after a linear warmup over
 * `warmupRatio` of the steps: `linear` decays linearly to 0, `constant` stays at the peak,
 * `linear-floor` decays linearly to `lrFloor`·peak (the static model's pretraining: 10%).
 */
export const LR_SCHEDULES = ['constant', 'linear', 'linear-floor'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** Options of {@link trainLoop}; every field optional. */
export interface TrainLoopOptions<B = ParallelBatch, G = ParallelGrads> {
  /** Samples per batch (in-batch negatives: 2·batchSize documents per softmax). Default 32. */
  batchSize?: number;
  /** Passes over the samples. Default 3. */
  epochs?: number;
  /** Seed of the batch order. Default 42. */
  seed?: number;
  /** Peak learning rate, passed (scheduled) to the head's `step(lr)`. Default 1e-3. */
  lr?: number;
  /** `linear` (default), `constant` or `linear-floor`; see {@link LR_SCHEDULES}. */
  schedule?: LrSchedule;
  /** Fraction of the steps used for warmup. Default 0.1. */
  warmupRatio?: number;
  /** Schedule `linear-floor`: the last learning rate as a fraction of the peak. Default 0.1. */
  lrFloor?: number;
  /**
   * The loss. Default `new AlignmentLoss()` (InfoNCE + 1·JSD, τ = 0.05), for heads over
   * parallel samples; a head with another batch type needs its loss here.
   */
  loss?: BatchLoss<B, G>;
  /**
   * Key of each sample's document (e.g. `(i) => samples[i].docId`): two samples with the
   * same key are never put in one batch, so that a shared document is not used as its own
   * negative. Default none.
   */
  groupOf?: (index: number) => string | undefined;
  /**
   * The batches of one epoch, drawn from the loop's seeded generator (called once per
   * epoch, in order, before training starts). Default: the shuffled sample indices cut by
   * {@link makeBatches} (`batchSize`, `groupOf`). The pretraining uses one-language batches.
   */
  batches?: (rng: Rng) => number[][];
  /**
   * A cli-progress bar on stderr with the running loss. Default: when stderr is a TTY; off a
   * terminal (CI, nohup) one progress line every ~10 s instead (`lib/util/progress.ts`).
   * `false`: silent.
   */
  progress?: boolean;
  /** Write the loss curve (`lib/results/loss-curve.ts`) to this CSV file, atomically, after each epoch. Default none. */
  lossCsv?: string;
  /** Called after every step (notebooks, early stopping by throwing). */
  onStep?: (row: LossRow) => void;
  /** Called after every epoch with its 1-based number and mean loss (Σ loss / steps, in step order). */
  onEpoch?: (epoch: number, meanLoss: number) => void;
  /**
   * Awaited after every step, once the head has stepped: where a head checkpoints itself
   * (parameters and optimizer state) so that a killed run can resume. `stepsDone` counts
   * from the start of training (resumed steps included); `epochEnd` marks an epoch's last step.
   */
  afterStep?: (info: { stepsDone: number; total: number; epochEnd: boolean; history: readonly LossRow[] }) => void | Promise<void>;
  /**
   * Resume a run whose first `history.length` steps are done (the head restored from its
   * checkpoint): the same seeded batches are drawn, the done ones skipped, and `history`
   * opens the returned history, the loss curve and the epoch means.
   */
  resume?: { history: readonly LossRow[] };
}

/** What {@link trainLoop} returns. */
export interface TrainLoopResult {
  history: LossRow[];
  steps: number;
  seconds: number;
  /** Mean loss of each epoch (Σ loss / steps, in step order). */
  epochLosses: number[];
  /** The resolved options (seed, lr, ...), the loss's and the head's (optimizer) configs, for the record. */
  config: Record<string, unknown>;
}

/** The defaults of {@link TrainLoopOptions}. */
export const TRAIN_DEFAULTS = { batchSize: 32, epochs: 3, seed: 42, lr: 1e-3, schedule: 'linear', warmupRatio: 0.1, lrFloor: 0.1 } as const;

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

/**
 * Learning rate at 0-based `step` of `total` steps: warmup `lr·(step+1)/(warm+1)` for the
 * first `warm = ⌊total·warmupRatio⌋` steps, then
 *  - `linear`: `lr·(total − step)/(total − warm)` (to 0),
 *  - `constant`: `lr`,
 *  - `linear-floor`: `lr·(1 − (1 − lrFloor)·(step − warm)/(total − warm))` (to lrFloor·lr).
 */
export function learningRate(step: number, total: number, lr: number, schedule: LrSchedule, warmupRatio: number, lrFloor = 0.1): number {
  const warm = Math.floor(total * warmupRatio);
  if (step < warm) return (lr * (step + 1)) / (warm + 1);
  if (schedule === 'constant') return lr;
  if (schedule === 'linear-floor') return lr * (1 - (1 - lrFloor) * ((step - warm) / Math.max(1, total - warm)));
  return (lr * Math.max(0, total - step)) / Math.max(1, total - warm);
}

/**
 * Train a {@link TrainableHead} on `numSamples` samples: each epoch the indices are
 * shuffled (seeded) and cut into batches ({@link makeBatches}, or `options.batches`), and
 * for each batch `await head.forward` -> loss -> `await head.backward` ->
 * `await head.step(lr)` with the scheduled learning rate ({@link learningRate}); the head's
 * own optimizer applies it. Writes the loss curve as CSV when asked, shows a progress bar
 * with the running (exponential moving average) loss, and returns the history, the mean
 * loss of each epoch and the resolved configuration (merged with `head.getConfig()`).
 *
 * @throws XlalignError for fewer than 2 samples, a non-finite loss (with the step), or bad options.
 * @example
 * const head = new AdapterHead(adapter, cached);             // see trainAdapter
 * const { history } = await trainLoop(head, cached.size, { epochs: 3, lr: 1e-3, lossCsv: 'runs/adapter/loss.csv' });
 */
export async function trainLoop<B = ParallelBatch, G = ParallelGrads>(
  head: TrainableHead<B, G>,
  numSamples: number,
  options: TrainLoopOptions<B, G> = {},
): Promise<TrainLoopResult> {
  const o = { ...TRAIN_DEFAULTS, ...dropUndefined(options) };
  const schedule = checkOneOf('trainLoop', 'schedule', o.schedule, LR_SCHEDULES);
  if (!Number.isInteger(numSamples) || numSamples < 2) throw xlError('trainLoop', `need at least 2 samples, got ${numSamples}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 2) throw xlError('trainLoop', `batchSize must be an integer >= 2, got ${o.batchSize}`);
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw xlError('trainLoop', `epochs must be a positive integer, got ${o.epochs}`);
  if (!(o.lr > 0)) throw xlError('trainLoop', `lr must be > 0, got ${o.lr}`);
  if (!(o.warmupRatio >= 0 && o.warmupRatio < 1)) throw xlError('trainLoop', `warmupRatio must be in [0, 1), got ${o.warmupRatio}`);
  if (!(o.lrFloor >= 0 && o.lrFloor <= 1)) throw xlError('trainLoop', `lrFloor must be in [0, 1], got ${o.lrFloor}`);
  // The default loss is for parallel batches; another batch type must bring its loss.
  const loss = options.loss ?? (new AlignmentLoss() as unknown as BatchLoss<B, G>);
  const rng: Rng = createRng(o.seed);
  const indices = Array.from({ length: numSamples }, (_, i) => i);
  const batchesOf = options.batches ?? ((r: Rng) => makeBatches(shuffled(indices, r), o.batchSize, options.groupOf));
  const epochs = Array.from({ length: o.epochs }, () => batchesOf(rng));
  const total = epochs.reduce((s, e) => s + e.length, 0);
  const progress = options.progress ?? Boolean(process.stderr.isTTY);
  const bar = progress
    ? new cliProgress.SingleBar(
        { format: 'train {bar} {value}/{total} steps | epoch {epoch} | loss {loss} | {duration_formatted}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { epoch: 1, loss: '-' });
  const lines = options.progress === undefined && !bar ? createProgress({ stage: 'train', total, unit: 'steps', mode: 'lines' }) : undefined;
  const history: LossRow[] = [...(options.resume?.history ?? [])];
  const resumed = history.length;
  if (resumed > total) throw xlError('trainLoop', `resume: ${resumed} steps done but the run has ${total}`);
  bar?.update(resumed);
  const epochLosses: number[] = [];
  const start = performance.now();
  let ema: number | undefined;
  let step = 0;
  try {
    for (let e = 0; e < epochs.length; e++) {
      let sum = 0;
      for (const [b, batch] of epochs[e].entries()) {
        if (step < resumed) {
          sum += history[step].loss;
          step++;
          continue;
        }
        const lr = learningRate(step, total, o.lr, schedule, o.warmupRatio, o.lrFloor);
        const embeddings = await head.forward(batch);
        const r = loss.forward(embeddings);
        if (!Number.isFinite(r.loss)) throw xlError('trainLoop', `loss is ${r.loss} at step ${step} (epoch ${e + 1}); lower lr (now ${lr})`);
        await head.backward(r.grads);
        await head.step(lr);
        const row: LossRow = { step, epoch: e + 1, loss: r.loss, lr, parts: r.parts };
        history.push(row);
        options.onStep?.(row);
        sum += r.loss;
        ema = ema === undefined ? r.loss : 0.9 * ema + 0.1 * r.loss;
        step++;
        bar?.update(step, { epoch: e + 1, loss: ema.toFixed(4) });
        lines?.tick();
        await options.afterStep?.({ stepsDone: step, total, epochEnd: b === epochs[e].length - 1, history });
      }
      epochLosses.push(sum / epochs[e].length);
      if (options.lossCsv) writeLossCsv(options.lossCsv, history);
      options.onEpoch?.(e + 1, sum / epochs[e].length);
    }
  } finally {
    bar?.stop();
    lines?.done();
  }
  const { batchSize, epochs: numEpochs, seed, lr, warmupRatio } = o;
  return {
    history,
    steps: step,
    seconds: (performance.now() - start) / 1000,
    epochLosses,
    config: {
      ...{ batchSize, epochs: numEpochs, seed, lr, schedule, warmupRatio, ...(schedule === 'linear-floor' ? { lrFloor: o.lrFloor } : {}), numSamples, steps: step },
      ...(resumed ? { resumedFrom: resumed } : {}),
      groupedBatches: Boolean(options.groupOf),
      ...(options.batches ? { batches: 'custom' } : {}),
      loss: loss.getConfig(),
      ...head.getConfig(),
    },
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import { xlError } from '../util/errors.js';
import type { Embedder } from '../embed/types.js';
import { AlignmentAdapter, saveAdapter, type AdapterOptions } from './adapter.js';
import type { TrainingSample } from './samples.js';
import { AdapterHead, type ParallelEmbeddings } from './heads/adapter-head.js';
import { trainLoop, type TrainLoopOptions, type TrainLoopResult } from './train-loop.js';

/** The part of an {@link Embedder} that training needs. */
export type TrainingEmbedder = Pick<Embedder, 'embed' | 'dim' | 'id'>;

/**
 * Embed the four texts of every sample with a frozen embedder: queries with
 * `kind: 'query'`, documents with `kind: 'passage'`, each distinct text once (the
 * embedder's cache makes a second run cheap). Rows are L2-normalised here as well, so an
 * embedder with `normalize: false` gives the same training input.
 *
 * @throws XlalignError when the embedder returns the wrong number of values.
 * @example const cached = await embedTrainingSamples(embedder, samples); cached.queryPivot // size x dim
 */
export async function embedTrainingSamples(embedder: TrainingEmbedder, samples: readonly TrainingSample[]): Promise<ParallelEmbeddings> {
  const dim = embedder.dim;
  const size = samples.length;
  const gather = async (texts: string[], kind: 'query' | 'passage'): Promise<Map<string, Float32Array>> => {
    const distinct = [...new Set(texts)];
    const vectors = await embedder.embed(distinct, { kind });
    if (vectors.length !== distinct.length * dim) {
      throw xlError('embedTrainingSamples', `embedder ${embedder.id} returned ${vectors.length} values for ${distinct.length} texts of dim ${dim}`);
    }
    return new Map(distinct.map((t, i) => [t, vectors.subarray(i * dim, (i + 1) * dim)]));
  };
  const queries = await gather(samples.flatMap((s) => [s.queryPivot, s.queryTarget]), 'query');
  const docs = await gather(samples.flatMap((s) => [s.docPivot, s.docTarget]), 'passage');
  const fill = (pick: (s: TrainingSample) => string, table: Map<string, Float32Array>): Float32Array => {
    const out = new Float32Array(size * dim);
    samples.forEach((s, i) => {
      const v = table.get(pick(s))!;
      let n = 0;
      for (let j = 0; j < dim; j++) n += v[j] * v[j];
      const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
      for (let j = 0; j < dim; j++) out[i * dim + j] = v[j] * inv;
    });
    return out;
  };
  return {
    size,
    dim,
    queryPivot: fill((s) => s.queryPivot, queries),
    queryTarget: fill((s) => s.queryTarget, queries),
    docPivot: fill((s) => s.docPivot, docs),
    docTarget: fill((s) => s.docTarget, docs),
  };
}

/** Options of {@link trainAdapter}: the data, the adapter's shape, and the loop's options. */
export interface TrainAdapterOptions extends TrainLoopOptions, AdapterOptions {
  /** The frozen encoder (any transformers.js model through `loadEmbedder`, or the static default). */
  embedder: TrainingEmbedder;
  /** Training samples (e.g. `buildTrainingSamples()` or `loadTrainingJsonl(file)`). */
  samples: readonly TrainingSample[];
  /** Save the trained adapter here (safetensors, see `saveAdapter`). Default: not saved. */
  out?: string;
  /** Keep samples that share `docId` out of one batch. Default true (when samples carry docId). */
  groupByDoc?: boolean;
  /** AdamW decoupled weight decay of the head's optimizer (toward the identity: it decays Δ). Default 0.01. */
  weightDecay?: number;
}

/** What {@link trainAdapter} returns. */
export interface TrainAdapterResult {
  adapter: AlignmentAdapter;
  /** Loss history, seconds, resolved config. */
  result: TrainLoopResult;
  /** Seconds spent embedding the samples (excluded from `result.seconds`). */
  embedSeconds: number;
}

/**
 * Train an alignment adapter on top of a frozen embedder: embed the samples once
 * ({@link embedTrainingSamples}), then run {@link trainLoop} on an {@link AdapterHead}
 * (defaults: AlignmentLoss = InfoNCE + JSD at τ = 0.05, batch 32, 3 epochs, AdamW lr 1e-3,
 * weight decay 0.01 toward the identity, linear schedule with 10% warmup, seed 42,
 * full-rank W = I + Δ). The adapter's `training` record holds the config, the embedder id
 * and the number of samples, and is saved with it.
 *
 * @throws XlalignError for fewer than 2 samples, or from the embedder / loop.
 * @example
 * const embedder = await loadEmbedder('data/models/xlalign-static-v1');
 * const { adapter } = await trainAdapter({ embedder, samples: buildTrainingSamples(), out: 'runs/ft/adapter.safetensors' });
 * const aligned = await loadEmbedder('data/models/xlalign-static-v1', { adapter });
 */
export async function trainAdapter(options: TrainAdapterOptions): Promise<TrainAdapterResult> {
  const { embedder, samples, out, groupByDoc = true, rank, seed = 42, initStd, weightDecay = 0.01, ...loop } = options;
  if (samples.length < 2) throw xlError('trainAdapter', `need at least 2 training samples, got ${samples.length}`);
  const t0 = performance.now();
  const cached = await embedTrainingSamples(embedder, samples);
  const embedSeconds = (performance.now() - t0) / 1000;
  const adapter = AlignmentAdapter.create(cached.dim, { rank, seed, initStd });
  const head = new AdapterHead(adapter, cached, { weightDecay });
  const groupOf = groupByDoc && samples.every((s) => s.docId !== undefined) ? (i: number) => samples[i].docId : undefined;
  const result = await trainLoop(head, samples.length, { seed, groupOf, ...loop });
  adapter.training = { ...result.config, embedder: embedder.id, samples: samples.length, seconds: result.seconds };
  if (out) saveAdapter(out, adapter);
  return { adapter, result, embedSeconds };
}

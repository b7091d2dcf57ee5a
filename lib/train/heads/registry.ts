/**
 * The head registry: every way xlalign trains alignment, one entry per head, as
 * `{ name, description, options, defaults, checkModel, prepare, train, trained }`. The
 * experiments (`lib/experiments`) and the command line (`lib/cli`: `--head`, the head's own
 * flags) read this table and have no per-head branch. A new head = a `TrainableHead` in this
 * folder and one entry here.
 *
 * - `static`: the static model's whole token table ({@link StaticParallelHead} via
 *   `fineTuneStaticModel`); writes a new model folder `<out>/model`.
 * - `adapter`: a linear map on a frozen model's cached embeddings ({@link AdapterHead} via
 *   `trainAdapter`); writes `<out>/adapter.safetensors`.
 * - `encoder`: the transformer encoder itself ({@link EncoderHead} via `fineTuneEncoder`);
 *   writes `<out>/model`. Which architectures it takes is decided by the folder's
 *   `config.json` (`lib/models/transformer`), not here.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { xlError } from '../../util/errors.js';
import type { Embedder, EmbedOptions } from '../../embed/types.js';
import { isStaticModelFolder } from '../../models/static/is-static.js';
import type { EncoderPooling } from '../../models/transformer/graph.js';
import type { ParallelLoss } from '../losses/types.js';
import type { TrainingSample } from '../samples.js';
import type { TrainLoopResult } from '../train-loop.js';
import type { EncoderTrainMode, WordEmbeddingMode } from './encoder-head.js';

// This table is read by the command line while it validates flags: the heavy modules
// (transformers.js, ONNX Runtime, the trainers) are imported only when a head prepares or trains.
const embedding = () => import('../../embed/transformers-embedder.js');
const transformer = async () => ({ ...(await import('../../models/transformer/hub.js')), ...(await import('../../models/transformer/folder.js')), ...(await import('../../models/transformer/weights.js')), ...(await import('../../models/transformer/graph.js')), ...(await import('../../models/transformer/encoder.js')) });
const modelPathOf = async (model: string) => (model === 'default' ? (await import('../../retrieve/resolve-retriever.js')).defaultModelPath() : model);

/** The registered heads. */
export const HEAD_NAMES = ['static', 'adapter', 'encoder'] as const;
export type HeadName = (typeof HEAD_NAMES)[number];

/** Old head names still accepted, each with the note printed when it is used. */
export const HEAD_ALIASES: Record<string, { head: HeadName; note: string }> = {
  model: { head: 'static', note: "--head model is deprecated: it is called 'static' now (the static model's token table); use --head static" },
};

/** One option of a head, offered as a command-line flag by `train`, `ablate` and `study`. */
export interface HeadOptionSpec {
  /** Key in {@link HeadTrainContext.options} (commander's camelCase of the flag). */
  key: string;
  /** The flag with its argument, e.g. `--rank <r>`. */
  flags: string;
  description: string;
  /** `int`: an integer >= `min`; `choice`: one of `choices`. */
  kind: 'int' | 'choice';
  min?: number;
  choices?: readonly string[];
  /** Default on the command line (string, as commander gives it); none: the head's own default. */
  default?: string;
}

/** The training loop's hyperparameters a head uses when none is given. */
export interface HeadLoopDefaults {
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  warmupRatio: number;
}

/** The loop's hyperparameters as given (undefined: the head's default). */
export interface HeadLoopOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmupRatio?: number;
  progress?: boolean;
}

/** Where a setting's value comes from, as a study records it (`lib/experiments/study.ts`). */
export type ValueSource = 'study' | 'sister paper' | 'xlalign' | 'assumption' | 'flag';

/** A default with where it comes from. */
export interface Provenance {
  source: ValueSource;
  note?: string;
}

/**
 * Where a head's defaults come from when the study's protocol runs with it: the head
 * itself, each loop default (absent: `xlalign`, this toolkit's default), and head options
 * whose study value differs from the command line's default.
 */
export interface HeadProvenance {
  head: Provenance;
  loop: Partial<Record<keyof HeadLoopDefaults, Provenance>>;
  options?: Record<string, Provenance & { value: unknown }>;
}

/** What {@link HeadEntry.prepare} and {@link HeadEntry.trained} are given. */
export interface HeadModelContext {
  /** The model as named (`default`, a folder, a hub id). */
  model: string;
  /** Output folder of the experiment. */
  out: string;
  /** Embedding options of the model (preset applied). */
  embed: EmbedOptions;
}

/** What {@link HeadEntry.train} is given. */
export interface HeadTrainContext extends HeadModelContext {
  /** The folder evaluated before training ({@link HeadEntry.prepare}'s result). */
  beforePath: string;
  samples: readonly TrainingSample[];
  loss: ParallelLoss;
  seed: number;
  loop: HeadLoopOptions;
  /** The head's own options ({@link HeadEntry.options} keys). */
  options: Record<string, unknown>;
  /** The base model's embedder when one is loaded already (the adapter embeds the samples with it). */
  baseEmbedder?: Embedder;
}

/** One head. */
export interface HeadEntry {
  name: HeadName;
  /** One line for `--help`. */
  description: string;
  /** Suffix of the trained retriever's name (`default+adapter`, `default+aligned`). */
  suffix: string;
  /** Its own options (flags). */
  options: readonly HeadOptionSpec[];
  /** The loop's hyperparameters it uses when none is given. */
  defaults: HeadLoopDefaults;
  /** Where those defaults come from, for the study's record. */
  provenance: HeadProvenance;
  /**
   * Can this head train `model` (`kind`: as `checkRetriever` of the CLI classifies it)? The
   * reason it cannot, in one line, or undefined. Cheap: reads at most a config.json.
   */
  checkModel(model: string, kind: 'special' | 'folder' | 'hub'): string | undefined;
  /**
   * Check the model before any evaluation (fetching a hub model) and return the folder the
   * *before* evaluation loads (the encoder writes an ONNX export into `<out>/base-model` when
   * the folder has none).
   */
  prepare(ctx: HeadModelContext): Promise<string>;
  /** Build the trainable head (its factory), run the one training loop, and save the result into `out`. */
  train(ctx: HeadTrainContext): Promise<TrainLoopResult>;
  /** The trained retriever, read back from what {@link train} saved in `out`: the model folder and embedding options. */
  trained(ctx: HeadModelContext & { beforePath: string }): Promise<{ model: string; embed: EmbedOptions }>;
  /** The files {@link train} writes (relative to `out`), which a resumed run checks. */
  artefacts: readonly string[];
  /** Whether {@link train} embeds with the base model (the adapter): then an experiment keeps the before evaluation's embedder open for it. */
  usesBaseEmbedder: boolean;
}

const loopOf = (ctx: HeadTrainContext, d: HeadLoopDefaults) => ({
  epochs: ctx.loop.epochs ?? d.epochs, batchSize: ctx.loop.batchSize ?? d.batchSize, lr: ctx.loop.lr ?? d.lr,
  weightDecay: ctx.loop.weightDecay ?? d.weightDecay, warmupRatio: ctx.loop.warmupRatio ?? d.warmupRatio, progress: ctx.loop.progress,
});

const STATIC: HeadEntry = {
  name: 'static',
  description: "the static model's whole token table (static models only: 'default' or a folder written by xlalign); writes <out>/model",
  suffix: 'aligned',
  options: [],
  // a table: no weight decay (it would shrink token vectors toward 0, not toward the pretrained model)
  defaults: { epochs: 3, batchSize: 32, lr: 1e-3, weightDecay: 0, warmupRatio: 0.1 },
  provenance: {
    head: { source: 'xlalign', note: 'a static model has no encoder: its token table is trained' },
    loop: { batchSize: { source: 'assumption', note: 'in-batch negatives; not reported' }, warmupRatio: { source: 'assumption', note: 'linear warmup then linear decay' } },
  },
  checkModel(model, kind) {
    if (kind === 'hub') return `the static head fine-tunes a static embedding model's table, but '${model}' is a hub model; use --head adapter or encoder`;
    if (kind === 'folder' && !isStaticModelFolder(resolve(model))) return `the static head fine-tunes a static embedding model's table, but '${model}' is not a static model folder (config.json has no xlalign_static); use --head adapter or encoder`;
    return undefined;
  },
  async prepare({ model }) {
    const path = await modelPathOf(model);
    const reason = STATIC.checkModel(model, model === 'default' ? 'special' : existsSync(path) ? 'folder' : 'hub');
    if (reason) throw xlError('head static', reason);
    return path;
  },
  async train(ctx) {
    const { epochs, batchSize, lr, weightDecay, warmupRatio, progress } = loopOf(ctx, STATIC.defaults);
    const out = resolve(ctx.out, 'model');
    const { fineTuneStaticModel } = await import('../fine-tune-static.js');
    const r = await fineTuneStaticModel({ modelDir: ctx.beforePath, samples: ctx.samples, outDir: out, loss: ctx.loss, seed: ctx.seed, epochs, batchSize, lr, weightDecay, warmupRatio, progress, lossCsv: resolve(ctx.out, 'loss.csv') });
    return r.result;
  },
  trained: async ({ out, embed }) => ({ model: resolve(out, 'model'), embed }),
  artefacts: ['model/config.json', 'model/onnx/model.onnx', 'loss.csv'],
  usesBaseEmbedder: false,
};

const ADAPTER: HeadEntry = {
  name: 'adapter',
  description: 'a linear map (identity-initialised, optionally low-rank) on the frozen embeddings of any model; writes <out>/adapter.safetensors',
  suffix: 'adapter',
  options: [{ key: 'rank', flags: '--rank <r>', description: 'adapter: low-rank residual W = I + U·V of this rank (default full rank)', kind: 'int', min: 1 }],
  // weight decay pulls the residual toward the identity
  defaults: { epochs: 3, batchSize: 32, lr: 1e-3, weightDecay: 0.01, warmupRatio: 0.1 },
  provenance: {
    head: { source: 'xlalign', note: 'a linear map on the frozen model; the study fine-tunes the model itself' },
    loop: { batchSize: { source: 'assumption', note: 'in-batch negatives; not reported' }, warmupRatio: { source: 'assumption', note: 'linear warmup then linear decay' } },
  },
  checkModel: () => undefined,
  prepare: async ({ model }) => modelPathOf(model),
  async train(ctx) {
    const { epochs, batchSize, lr, weightDecay, warmupRatio, progress } = loopOf(ctx, ADAPTER.defaults);
    const { trainAdapter } = await import('../train-adapter.js');
    const embedder = ctx.baseEmbedder ?? (await (await embedding()).loadEmbedder(ctx.beforePath, ctx.embed));
    try {
      const r = await trainAdapter({
        embedder, samples: ctx.samples, rank: ctx.options.rank as number | undefined, loss: ctx.loss, seed: ctx.seed, epochs, batchSize, lr, weightDecay, warmupRatio, progress,
        lossCsv: resolve(ctx.out, 'loss.csv'), out: resolve(ctx.out, 'adapter.safetensors'),
      });
      return r.result;
    } finally {
      if (!ctx.baseEmbedder) await embedder.dispose();
    }
  },
  trained: async ({ out, beforePath, embed }) => ({ model: beforePath, embed: { ...embed, adapter: (await import('../adapter.js')).loadAdapter(resolve(out, 'adapter.safetensors')) } }),
  artefacts: ['adapter.safetensors', 'loss.csv'],
  usesBaseEmbedder: true,
};

const ENCODER: HeadEntry = {
  name: 'encoder',
  description: "the transformer encoder itself (a folder with config.json and weights, or a hub id; the architectures lib/models/transformer reads); writes <out>/model",
  suffix: 'aligned',
  options: [
    // (the modes of WORD_EMBEDDING_MODES in encoder-head.ts; the head checks them again)
    { key: 'wordEmbeddings', flags: '--word-embeddings <mode>', description: "encoder: 'frozen' word table, or 'sparse' updates of the rows a batch uses", kind: 'choice', choices: ['frozen', 'sparse'] satisfies WordEmbeddingMode[], default: 'frozen' },
    { key: 'topLayers', flags: '--top-layers <n>', description: 'encoder: train only the top N layers (default all layers and the embedding block)', kind: 'int', min: 1 },
    { key: 'microBatch', flags: '--micro-batch <n>', description: 'encoder: texts per forward/backward run (GradCache; default 16)', kind: 'int', min: 1 },
    { key: 'encoderTrain', flags: '--encoder-train <what>', description: "encoder with task LoRA adapters (jina-embeddings-v3): 'adapters' trains the retrieval.query / retrieval.passage adapters only (train's default), 'full' every weight (study's default, as the study)", kind: 'choice', choices: ['adapters', 'full'] satisfies EncoderTrainMode[] },
  ],
  // the study's sister paper fine-tunes encoders fully for one epoch; lr 2e-5 with 10% warmup is the usual full fine-tuning setting (assumption)
  defaults: { epochs: 1, batchSize: 32, lr: 2e-5, weightDecay: 0.01, warmupRatio: 0.1 },
  provenance: {
    head: { source: 'sister paper', note: 'the encoder is fine-tuned fully (all layers)' },
    loop: {
      epochs: { source: 'assumption', note: 'not reported; 1 epoch over ~2.8k samples' },
      batchSize: { source: 'assumption', note: 'in-batch negatives; not reported' },
      lr: { source: 'assumption', note: 'the usual full fine-tuning rate; not reported' },
      warmupRatio: { source: 'assumption', note: 'linear warmup then linear decay' },
      weightDecay: { source: 'assumption' },
    },
    options: {
      wordEmbeddings: { value: 'sparse', source: 'sister paper', note: 'full fine-tuning trains the word table too: the rows a batch uses get AdamW steps (lazy); frozen saves the moments of the table' },
      encoderTrain: { value: 'full', source: 'study', note: "the study fine-tunes all four encoders fully; jina-v3's task adapters stay as published and pick the query / passage task ('adapters' trains only them, ~1% of the parameters, as Jina trained them)" },
    },
  },
  checkModel(model, kind) {
    if (kind === 'special' || (kind === 'folder' && isStaticModelFolder(resolve(model)))) return `'${model}' is a static model (one token table, no transformer layers); fine-tune it with --head static, or train --head adapter on it`;
    return undefined;
  },
  async prepare({ model, out, embed }) {
    const { resolveEncoderFolder, checkEncoderFolder, checkTrainableChain, ENCODER_POOLINGS, saveEncoderFolder, readEncoderWeights } = await transformer();
    const { readModuleChain } = await import('../../embed/st-modules.js');
    const dir = await resolveEncoderFolder(await modelPathOf(model));
    checkEncoderFolder(dir);
    // the folder's module chain (pooling, Dense, prompts) must be trainable: checked before any evaluation
    checkTrainableChain(readModuleChain(dir, model, { pooling: embed.pooling }), dir);
    if (embed.pooling !== undefined && !(ENCODER_POOLINGS as readonly string[]).includes(embed.pooling)) throw xlError('head encoder', `head 'encoder' trains with pooling ${ENCODER_POOLINGS.map((p) => `'${p}'`).join(', ')}; got '${embed.pooling}'`);
    if (existsSync(join(dir, 'onnx', 'model.onnx'))) return dir;
    // evaluate a folder without an ONNX export through one written here
    const base = resolve(out, 'base-model');
    if (!existsSync(join(base, 'onnx', 'model.onnx'))) saveEncoderFolder(readEncoderWeights(dir), dir, base);
    return base;
  },
  async train(ctx) {
    const { epochs, batchSize, lr, weightDecay, warmupRatio, progress } = loopOf(ctx, ENCODER.defaults);
    const { pooling, maxLength, queryPrefix, passagePrefix, device } = ctx.embed;
    const o = ctx.options;
    const { fineTuneEncoder } = await import('../fine-tune-encoder.js');
    const r = await fineTuneEncoder({
      modelDir: await (await transformer()).resolveEncoderFolder(await modelPathOf(ctx.model)), samples: ctx.samples, outDir: ctx.out, loss: ctx.loss, seed: ctx.seed, epochs, batchSize, lr, weightDecay, warmupRatio, progress,
      pooling: pooling as EncoderPooling | undefined, maxLength, queryPrefix, passagePrefix, device,
      wordEmbeddings: o.wordEmbeddings as WordEmbeddingMode | undefined, topLayers: o.topLayers as number | undefined, microBatch: o.microBatch as number | undefined,
      train: o.encoderTrain as EncoderTrainMode | undefined,
    });
    return { history: r.history, steps: r.steps, seconds: r.seconds, epochLosses: r.epochLosses, config: r.config };
  },
  trained: async ({ out, embed }) => ({ model: resolve(out, 'model'), embed }),
  artefacts: ['model/config.json', 'model/onnx/model.onnx', 'loss.csv'],
  usesBaseEmbedder: false,
};

/** The registered heads, by name. */
export const HEADS: Record<HeadName, HeadEntry> = { static: STATIC, adapter: ADAPTER, encoder: ENCODER };

/**
 * A head by name or deprecated alias (`model` -> `static`, with its note).
 * @throws XlalignError for an unknown name, listing the heads.
 * @example resolveHead('model') // { entry: HEADS.static, note: '--head model is deprecated: ...' }
 */
export function resolveHead(name: string): { entry: HeadEntry; note?: string } {
  if ((HEAD_NAMES as readonly string[]).includes(name)) return { entry: HEADS[name as HeadName] };
  const alias = HEAD_ALIASES[name];
  if (alias) return { entry: HEADS[alias.head], note: alias.note };
  throw xlError('head', `unknown head '${name}'; use ${HEAD_NAMES.join(', ')}`);
}

/**
 * The head that fine-tunes a model itself, chosen by its folder: `static` for the default
 * model and static model folders (config.json `xlalign_static`), `encoder` for anything
 * else (a transformer folder or a hub id; the encoder head checks its config).
 * @example headForModel('default') // 'static'
 */
export function headForModel(model: string): HeadName {
  return model === 'default' || isStaticModelFolder(model) ? 'static' : 'encoder';
}

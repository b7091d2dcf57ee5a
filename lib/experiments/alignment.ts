import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { xquadCorpus, type ParallelCorpus } from '../data/parallel.js';
import { XQUAD_ARTICLES } from '../data/xquad.js';
import { resolveDataset } from '../data/registry.js';
import { loadEmbedder } from '../embed/transformers-embedder.js';
import type { EmbedOptions } from '../embed/types.js';
import { xlError } from '../util/errors.js';
import { compareEvaluations, deltaTables, type DeltaRow } from '../eval/compare.js';
import { writeMetricRows } from '../results/metric-rows.js';
import { retrieverNames } from '../retrieve/resolve-retriever.js';
import { runEvaluation, type EvaluationResult } from '../eval/run-evaluation.js';
import type { Scenario } from '../pools/types.js';
import { DenseRetriever } from '../retrieve/dense-retriever.js';
import { defaultModelPath } from '../retrieve/resolve-retriever.js';
import { writeFileAtomic } from '../util/fs.js';
import { writeBeforeAfter } from '../results/before-after.js';
import { buildTrainingSamples, saveTrainingJsonl, type TrainingSample } from '../train/samples.js';
import { fineTuneStaticModel } from '../train/fine-tune-static.js';
import { AlignmentLoss } from '../train/losses/alignment-loss.js';
import { corpusGrouping, splitCorpus, splitGroups, splitXquadArticles, type CorpusSplit, type DocGrouping } from '../data/split.js';
import { trainAdapter } from '../train/train-adapter.js';
import type { TrainLoopResult } from '../train/train-loop.js';

/** The loss variants: the full objective, or one term alone (the ablations). */
export const LOSS_VARIANTS = ['full', 'infonce', 'jsd'] as const;
export type LossVariant = (typeof LOSS_VARIANTS)[number];

/** The metrics of the before/after tables. */
export const EXPERIMENT_METRICS = ['ndcg@10', 'r@10', 'maxr', 'maxr.median', 'complete@10', 'pivot_inclination', 'pivot_above'] as const;

/** Options of {@link runAlignmentExperiment}; defaults in brackets. */
export interface ExperimentOptions {
  /** `default` (the embedded static model), a model folder, or a hub id. [`default`] */
  model?: string;
  /** `model`: fine-tune the static model's whole table (static models only); `adapter`: a linear map on frozen embeddings. [`adapter`] */
  head?: 'model' | 'adapter';
  /** Output folder. */
  out: string;
  /**
   * The parallel corpus trained and evaluated on: a registered dataset name (`xquad`), a
   * dataset folder (own JSONL or BEIR, see `lib/data/registry.ts`) or any
   * {@link ParallelCorpus}. [`xquad`]
   */
  dataset?: string | ParallelCorpus;
  /**
   * The grouping the train/eval split keeps whole. [XQuAD: articles; another corpus: its
   * `groups` (an own dataset's `group` field), else each document its own group]
   */
  grouping?: DocGrouping;
  /** Training samples; default: `buildTrainingSamples({ size, seed, split })` from the train articles. */
  samples?: TrainingSample[];
  /** Samples to build when `samples` is not given. [2800] */
  size?: number;
  /** Loss variant. [`full`] */
  loss?: LossVariant;
  /** λ, weight of the JSD term in `full`. [1] */
  lambda?: number;
  /** Softmax temperature of both terms. [0.05] */
  temperature?: number;
  /** Seed of sampling, initialisation, batch order and bootstrap. [42] */
  seed?: number;
  /** Seed of the train/eval split. [the split's default, 20240] */
  splitSeed?: number;
  /** Pivot language. [`en`] */
  pivot?: string;
  /** Query languages evaluated. [all 12] */
  langs?: readonly string[];
  /** Scenarios evaluated. [all] */
  scenarios?: readonly Scenario[];
  /** Options of the training loop (epochs, batchSize, lr, schedule ...) and the head's weight decay. */
  loop?: { epochs?: number; batchSize?: number; lr?: number; weightDecay?: number; progress?: boolean };
  /** Adapter: rank of a low-rank residual (full rank when absent). */
  rank?: number;
  /** Embedding options of the model (pooling, prefixes, cache ...). */
  embed?: EmbedOptions;
  /** Bootstrap resamples for the intervals. [1000] */
  resamples?: number;
  /** Progress lines (stderr). [none] */
  log?: (line: string) => void;
  /** Documents per query in the before/after run files. [all] */
  runDepth?: number;
  /** gzip the before/after run files (`.run.gz`). [true] */
  compressRuns?: boolean;
}

/** What {@link runAlignmentExperiment} returns (and writes into `out`). */
export interface ExperimentResult {
  before: EvaluationResult;
  after: EvaluationResult;
  deltas: DeltaRow[];
  training: TrainLoopResult;
  /** Seconds of training (without embedding the samples for the adapter). */
  trainSeconds: number;
  /** Name of the trained retriever (`default+adapter`, `default+aligned(jsd)` ...). */
  name: string;
  /** The markdown tables written to `deltas.md`. */
  markdown: string;
}

/** The corpus of a dataset name (the datasets the experiment knows) or the corpus itself. */
/** A corpus, a registered dataset name, or a dataset folder (`lib/data/registry.ts`). */
async function resolveCorpus(dataset: string | ParallelCorpus): Promise<ParallelCorpus> {
  if (typeof dataset !== 'string') return dataset;
  if (dataset === 'xquad') return xquadCorpus();
  const entry = resolveDataset(dataset);
  if (!entry.languages) throw xlError('runAlignmentExperiment', `dataset '${dataset}' needs its languages named; load it and pass the ParallelCorpus`);
  return entry.load({ langs: entry.languages });
}

/**
 * The study's experiment: train alignment on XQuAD *train* articles (or the train groups
 * of any parallel corpus, `dataset`) (InfoNCE + λ·JSD, or
 * one term alone), then evaluate before and after on the *eval* articles, every scenario
 * and language, with a paired bootstrap 95% interval per delta. Writes into `out`:
 * `before/` and `after/` (TREC files), `metrics.json|csv` (both retrievers), `before-after.json`,
 * `deltas.md`, `loss.csv`, `train-samples.jsonl`, `config.json` (all seeds), and the trained
 * artefact (`adapter.safetensors` or the `model/` folder).
 *
 * @throws XlalignError for an unknown model, or `head: 'model'` on a model that is not static.
 * @example const r = await runAlignmentExperiment({ head: 'model', loss: 'jsd', out: 'results/train-jsd' });
 */
export async function runAlignmentExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const {
    model = 'default', head = 'adapter', loss: variant = 'full', lambda = 1, temperature = 0.05, seed = 42, pivot = 'en',
    embed = {}, resamples = 1000, log = () => {},
  } = options;
  if (model === 'bm25') throw xlError('runAlignmentExperiment', "bm25 has nothing to train; use 'default', a model folder or a hub id");
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const corpus = await resolveCorpus(options.dataset ?? 'xquad');
  const isXquad = options.dataset === undefined || options.dataset === 'xquad';
  const grouping = options.grouping ?? (isXquad ? XQUAD_ARTICLES : corpusGrouping(corpus));
  const splitOpts = options.splitSeed === undefined ? {} : { seed: options.splitSeed };
  const split: CorpusSplit = isXquad && grouping === XQUAD_ARTICLES ? splitXquadArticles(splitOpts) : splitGroups(corpus, grouping, splitOpts);
  const samples = options.samples ?? buildTrainingSamples({ size: options.size ?? 2800, seed, split, pivot, corpus, grouping });
  saveTrainingJsonl(resolve(out, 'train-samples.jsonl'), samples);
  const evalCorpus = splitCorpus(corpus, split, 'eval', grouping);
  const evalOpts = { scenarios: options.scenarios, langs: options.langs, pivot, metrics: EXPERIMENT_METRICS, runDepth: options.runDepth, compressRuns: options.compressRuns ?? true,
    // --no-cache / --force reach the pool cache too
    ...(embed.cache === false ? { cacheDir: false as const } : {}), force: embed.force ?? false };
  const modelPath = model === 'default' ? defaultModelPath() : model;
  const lossFn = new AlignmentLoss({
    infoNCEWeight: variant === 'jsd' ? 0 : 1,
    jsdWeight: variant === 'infonce' ? 0 : lambda,
    infoNCE: { temperature },
    jensenShannon: { temperature },
  });
  const loop = { ...options.loop, seed, loss: lossFn, lossCsv: resolve(out, 'loss.csv') };
  const onPool = (tag: string) => (pool: { scenario: string; lang: string }, _r: unknown, s: number, cached: boolean) =>
    log(`${tag} ${pool.scenario} ${pool.lang}: ${s.toFixed(1)} s${cached ? ' (cached)' : ''}`);

  const baseEmbedder = await loadEmbedder(modelPath, embed);
  const baseName = retrieverNames([{ model }])[0]; // the naming rule of `xlalign eval`
  const before = await runEvaluation(evalCorpus, new DenseRetriever(baseEmbedder, { name: baseName }), { ...evalOpts, out: resolve(out, 'before'), onPool: onPool('before') });
  let afterModel = modelPath;
  let afterEmbed = embed;
  let training: TrainLoopResult;
  const t0 = performance.now();
  if (head === 'adapter') {
    const r = await trainAdapter({ embedder: baseEmbedder, samples, rank: options.rank, ...loop, out: resolve(out, 'adapter.safetensors') });
    afterEmbed = { ...embed, adapter: r.adapter };
    training = r.result;
  } else {
    afterModel = resolve(out, 'model');
    training = (await fineTuneStaticModel({ modelDir: modelPath, samples, outDir: afterModel, ...loop })).result;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await baseEmbedder.dispose();
  const name = `${baseName}+${head === 'adapter' ? 'adapter' : 'aligned'}${variant === 'full' ? '' : `(${variant})`}`;
  const afterEmbedder = await loadEmbedder(afterModel, afterEmbed);
  const after = await runEvaluation(evalCorpus, new DenseRetriever(afterEmbedder, { name }), { ...evalOpts, out: resolve(out, 'after'), onPool: onPool('after') });
  await afterEmbedder.dispose();

  const deltas = compareEvaluations(before, after, { seed, resamples });
  writeMetricRows(out, [...before.rows, ...after.rows]);
  writeBeforeAfter(resolve(out, 'before-after.json'), deltas);
  const where = isXquad ? `the XQuAD eval articles (${split.eval.length} of 48)` : `the ${corpus.name} eval ${grouping.name}s (${split.eval.length} of ${split.train.length + split.eval.length})`;
  const markdown = `## ${name} vs ${model} on ${where}\n\n${deltaTables(deltas)}`;
  writeFileAtomic(resolve(out, 'deltas.md'), markdown);
  const config = {
    experiment: 'alignment', model, head, loss: variant, lambda, temperature, seed, splitSeed: split.seed,
    runDepth: options.runDepth ?? 'all', runFormat: (options.compressRuns ?? true) ? 'gz' : 'plain',
    ...(isXquad ? { trainArticles: split.train, evalArticles: split.eval } : { dataset: corpus.name, grouping: grouping.name, trainGroups: split.train, evalGroups: split.eval }), samples: samples.length, rank: options.rank ?? null, loop: training.config, trainSeconds,
    finalLoss: training.history.at(-1)?.loss ?? null, embed: { ...embed, adapter: undefined }, node: process.version, date: new Date().toISOString(),
  };
  writeFileAtomic(resolve(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return { before, after, deltas, training, trainSeconds, name, markdown };
}

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ParallelCorpus } from '../data/parallel.js';
import { DEFAULT_DATASET, loadTrainingData, resolveDataset, type TrainingData } from '../data/registry.js';
import { loadEmbedder } from '../embed/transformers-embedder.js';
import { applyEmbedPreset } from '../embed/presets.js';
import { chainSummary, describeChain, modelChainFor, type ModuleChain } from '../embed/st-modules.js';
import type { Embedder, EmbedOptions } from '../embed/types.js';
import { xlError } from '../util/errors.js';
import { compareEvaluations, compareMeansOverLanguages, deltaTables, type DeltaRow, type MeanDeltaRow } from '../eval/compare.js';
import { readMetricRows, writeMetricRows } from '../results/metric-rows.js';
import { defaultModelPath, retrieverNames } from '../retrieve/resolve-retriever.js';
import { runEvaluation, type EvaluationResult, type RunEvaluationOptions } from '../eval/run-evaluation.js';
import type { QueryLangRole, Scenario } from '../pools/types.js';
import { DenseRetriever } from '../retrieve/dense-retriever.js';
import { writeFileAtomic } from '../util/fs.js';
import { writeBeforeAfter, writeBeforeAfterMeans } from '../results/before-after.js';
import { recordEvaluation } from '../results/config.js';
import { corpusLangHashes } from '../data/parallel.js';
import { readModelTrainingData, TRAINING_DATA_FORMAT, writeTrainingData, type TrainingDataRecord } from '../data/training-data.js';
import { loadAdapter, saveAdapter } from '../train/adapter.js';
import { buildTrainingSamples, saveTrainingJsonl, type TrainingSample } from '../train/samples.js';
import { DEFAULT_LOSS, makeLoss, type LossVariant } from './loss-variants.js';
import { splitCorpus, type DocGrouping } from '../data/split.js';
import type { TrainLoopResult } from '../train/train-loop.js';
import { resolveHead, type HeadEntry, type HeadLoopOptions } from '../train/heads/registry.js';
import type { EncoderHeadOptions } from '../train/heads/encoder-head.js';

export { ABLATION_VARIANTS, DEFAULT_LOSS, LOSS_VARIANT_TABLE, LOSS_VARIANTS, makeLoss, type LossVariant } from './loss-variants.js';

/** The metrics of the before/after tables. */
export const EXPERIMENT_METRICS = ['ndcg@10', 'ndcg@1', 'r@10', 'maxr', 'maxr.median', 'maxr_norm', 'complete@10', 'pivot_inclination', 'pivot_above'] as const;

/** Options of {@link runAlignmentExperiment}; defaults in brackets. */
export interface ExperimentOptions {
  /** `default` (the embedded static model), a model folder, or a hub id. [`default`] */
  model?: string;
  /**
   * A head of the registry (`lib/train/heads/registry.ts`): `static` fine-tunes the static
   * model's whole table (static models only; `model` is its deprecated name); `adapter` a
   * linear map on frozen embeddings; `encoder` the transformer encoder. [`adapter`]
   */
  head?: string;
  /** The head's own options (its registry entry's `options` keys: `rank`, `wordEmbeddings`, `topLayers`, `microBatch`). */
  headOptions?: Record<string, unknown>;
  /** Encoder head: word table, top-N layers, micro-batch (merged into `headOptions`). */
  encoder?: Pick<EncoderHeadOptions, 'wordEmbeddings' | 'topLayers' | 'microBatch' | 'train'>;
  /** Output folder. */
  out: string;
  /**
   * The parallel corpus trained and evaluated on: a registered dataset name (`xquad`,
   * `belebele`), a dataset folder (own JSONL or BEIR, see `lib/data/registry.ts`) or any
   * {@link ParallelCorpus}. [`xquad`]
   */
  dataset?: string | ParallelCorpus;
  /** Belebele: folder of `<dialect>.jsonl` files (its languages are the files there). */
  belebeleDir?: string;
  /**
   * The grouping the train/eval split keeps whole. [the dataset's, from the registry: XQuAD
   * articles, Belebele passages, an own dataset's `group`, else each document]
   */
  grouping?: DocGrouping;
  /** Training samples; default: `buildTrainingSamples({ size, seed, split })` from the train articles. */
  samples?: TrainingSample[];
  /** Samples to build when `samples` is not given. [2800] */
  size?: number;
  /** Loss variant (see `LOSS_VARIANT_TABLE` in `./loss-variants.ts`). [`study`] */
  loss?: LossVariant;
  /** Weight of the alignment term (L_JSD / L_NCEpsg in `study*`, λ in `alignment`). [1] */
  lambda?: number;
  /** Temperature of the InfoNCE terms (and of `alignment`'s score JSD). [0.05] */
  temperature?: number;
  /** `study*`: temperature of L_JSD's softmax over dimensions. [1] */
  jsdTemperature?: number;
  /** `study*`: L2-normalise embeddings before that softmax. [true] */
  jsdNormalize?: boolean;
  /** Seed of sampling, initialisation, batch order and bootstrap. [42] */
  seed?: number;
  /** Seed of the train/eval split. [the split's default, 20240] */
  splitSeed?: number;
  /** Pivot language. [the dataset's: `en` for XQuAD, `eng_Latn` for Belebele] */
  pivot?: string;
  /** Query languages evaluated. [all 12] */
  langs?: readonly string[];
  /** Scenarios evaluated. [all] */
  scenarios?: readonly Scenario[];
  /** Query languages of the two-language scenarios: `target`, `pivot` or both (the study's Query Tgt / Query En). [`['target']`] */
  queryLangs?: readonly QueryLangRole[];
  /** Options of the training loop (epochs, batchSize, lr, schedule ...) and the head's weight decay. */
  loop?: HeadLoopOptions;
  /** Adapter: rank of a low-rank residual (full rank when absent; merged into `headOptions`). */
  rank?: number;
  /**
   * Embedding options of the model (pooling, prefixes, cache ...). Options left undefined
   * take the model's preset (`lib/embed/presets.ts`: e5 prefixes, bge-m3 cls, LaBSE pooler)
   * unless `preset: false`.
   */
  embed?: EmbedOptions;
  /** Apply the model's embedding preset to the options not set in `embed`. [true] */
  preset?: boolean;
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
  /** Per scenario and metric, the mean over languages with its stratified bootstrap interval. */
  means: MeanDeltaRow[];
  training: TrainLoopResult;
  /** Seconds of training (without embedding the samples for the adapter). */
  trainSeconds: number;
  /** Name of the trained retriever (`default+adapter`, `default+aligned(jsd)` ...). */
  name: string;
  /** The markdown tables written to `deltas.md`. */
  markdown: string;
  /** The head trained (its registry name). */
  head: string;
  /** What was evaluated: `the XQuAD eval articles (24 of 48)`. */
  evaluatedOn: string;
}

/**
 * An alignment experiment resolved and its data prepared (everything before the first
 * evaluation): what {@link evaluateBase}, {@link trainHead}, {@link evaluateTrained} and
 * {@link compareAndRecord} work on. `runAlignmentExperiment` runs those stages in order;
 * `lib/experiments/study.ts` runs them as resumable stages.
 */
export interface ExperimentPlan {
  options: ExperimentOptions;
  out: string;
  model: string;
  head: HeadEntry;
  headOptions: Record<string, unknown>;
  variant: LossVariant;
  lossSettings: { lambda: number; temperature: number; jsdTemperature: number; jsdNormalize: boolean };
  seed: number;
  pivot: string;
  resamples: number;
  embed: EmbedOptions;
  preset?: { preset?: string; applied: Partial<EmbedOptions> };
  /** What the model folder's sentence-transformers files (or the preset) say: pooling, Dense, Normalize, prompts. */
  moduleChain: ModuleChain;
  data: TrainingData;
  samples: TrainingSample[];
  evalCorpus: ParallelCorpus;
  evalOptions: RunEvaluationOptions;
  /** Name of the base retriever (the naming rule of `xlalign eval`). */
  baseName: string;
  /** Name of the trained retriever (`default+adapter`, `default+aligned(jsd)` ...). */
  name: string;
  log: (line: string) => void;
}

/**
 * Resolve an experiment's options and prepare its data: the dataset with its grouping and
 * split (from the registry), the training samples (written to `<out>/train-samples.jsonl`)
 * and the eval corpus. Cheap checks come first (bm25, an unknown head, a model the head
 * cannot train), before any loading.
 *
 * @throws XlalignError for bm25, an unknown head or dataset, a model the head cannot train, or from sampling.
 */
export async function planAlignmentExperiment(options: ExperimentOptions): Promise<ExperimentPlan> {
  const {
    model = 'default', loss: variant = DEFAULT_LOSS, lambda = 1, temperature = 0.05, jsdTemperature = 1, jsdNormalize = true, seed = 42,
    embed: embedGiven = {}, resamples = 1000, log = () => {},
  } = options;
  if (model === 'bm25') throw xlError('runAlignmentExperiment', "bm25 has nothing to train; use 'default', a model folder or a hub id");
  const { entry: head, note } = resolveHead(options.head ?? 'adapter');
  if (note) log(note);
  const reason = head.checkModel(model, model === 'default' ? 'special' : existsSync(model) ? 'folder' : 'hub');
  if (reason) throw xlError('runAlignmentExperiment', reason);
  // the model folder's sentence-transformers files (read by loadEmbedder and the encoder), else the name preset, passed on explicitly (a copy or a fine-tuned folder no longer has the name)
  const chain = modelChainFor(model === 'default' ? defaultModelPath() : model, embedGiven, { preset: options.preset !== false });
  const presetResult = chain.source === 'preset' ? applyEmbedPreset(model, embedGiven) : undefined;
  // prefixes the folder's files do not name (multilingual-e5's predate prompts) come from the preset: passed on too
  const embed = presetResult?.options ?? (chain.promptsFrom === 'preset' ? { ...embedGiven, queryPrefix: chain.queryPrefix, passagePrefix: chain.passagePrefix } : embedGiven);
  if (chain.source !== 'defaults') log(chainSummary(model, chain));
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const dataset = options.dataset ?? DEFAULT_DATASET;
  const pivotGiven = options.pivot ?? (typeof dataset === 'string' ? undefined : dataset.pivot);
  const pivot = pivotGiven ?? (typeof dataset === 'string' ? resolveDataset(dataset).defaultPivot : undefined) ?? 'en';
  const data = await loadTrainingData(dataset, { pivot, langs: options.langs, belebeleDir: options.belebeleDir, splitSeed: options.splitSeed, grouping: options.grouping });
  const { corpus, grouping, split } = data;
  const samples = options.samples ?? buildTrainingSamples({ size: options.size ?? 2800, seed, split, pivot, corpus, grouping });
  saveTrainingJsonl(resolve(out, 'train-samples.jsonl'), samples);
  const evalCorpus = splitCorpus(corpus, split, 'eval', grouping);
  const evalOptions: RunEvaluationOptions = {
    scenarios: options.scenarios, langs: options.langs, queryLangs: options.queryLangs, pivot, metrics: EXPERIMENT_METRICS, runDepth: options.runDepth, compressRuns: options.compressRuns ?? true,
    // --no-cache / --force reach the pool cache too
    ...(embed.cache === false ? { cacheDir: false as const } : {}), force: embed.force ?? false,
  };
  const baseName = retrieverNames([{ model }])[0];
  const name = `${baseName}+${head.suffix}${variant === DEFAULT_LOSS ? '' : `(${variant})`}`;
  const headOptions = { ...options.encoder, ...(options.rank === undefined ? {} : { rank: options.rank }), ...options.headOptions };
  return {
    options, out, model, head, headOptions, variant, lossSettings: { lambda, temperature, jsdTemperature, jsdNormalize }, seed, pivot, resamples, embed,
    preset: presetResult ? { preset: presetResult.preset, applied: presetResult.applied } : undefined, moduleChain: chain, data, samples, evalCorpus, evalOptions, baseName, name, log,
  };
}

const onPool = (log: (line: string) => void, tag: string) => (pool: { scenario: string; lang: string; queryLang?: string }, _r: unknown, s: number, cached: boolean) =>
  log(`${tag} ${pool.scenario} ${pool.lang}${pool.queryLang && pool.queryLang !== pool.lang ? ` (${pool.queryLang} queries)` : ''}: ${s.toFixed(1)} s${cached ? ' (cached)' : ''}`);

/**
 * The *before* evaluation: the head prepares the model (fetch, checks, an ONNX export for an
 * encoder folder without one), then the base retriever is evaluated on the eval corpus into
 * `<out>/before`. With `keep`, the embedder is returned open (the adapter head embeds its
 * samples with it); else it is disposed.
 */
export async function evaluateBase(plan: ExperimentPlan, options: { keep?: boolean } = {}): Promise<{ result: EvaluationResult; beforePath: string; embedder?: Embedder }> {
  const beforePath = await plan.head.prepare({ model: plan.model, out: plan.out, embed: plan.embed });
  const embedder = await loadEmbedder(beforePath, plan.embed);
  try {
    const result = await runEvaluation(plan.evalCorpus, new DenseRetriever(embedder, { name: plan.baseName }), { ...plan.evalOptions, out: resolve(plan.out, 'before'), onPool: onPool(plan.log, 'before'), provenance: provenanceOf(plan, plan.model) });
    if (options.keep) return { result, beforePath, embedder };
    await embedder.dispose();
    return { result, beforePath };
  } catch (e) {
    await embedder.dispose();
    throw e;
  }
}

/**
 * Train the plan's head with its loss on its samples; the head saves its result into `out`.
 * The trained artefact then records what it was trained on (`lib/data/training-data.ts`: an
 * adapter in its metadata, a model folder in `training-data.json`, with its base model's
 * record), so that `eval` of it on this dataset keeps to the held-out groups.
 */
export async function trainHead(plan: ExperimentPlan, beforePath: string, baseEmbedder?: Embedder): Promise<{ training: TrainLoopResult; trainSeconds: number }> {
  const t0 = performance.now();
  const training = await plan.head.train({
    model: plan.model, out: plan.out, embed: plan.embed, beforePath, samples: plan.samples, loss: makeLoss(plan.variant, plan.lossSettings), seed: plan.seed,
    loop: plan.options.loop ?? {}, options: plan.headOptions, baseEmbedder,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const trainingData = trainingDataOf(plan);
  const artefact = await plan.head.trained({ model: plan.model, out: plan.out, embed: plan.embed, beforePath });
  if (artefact.embed.adapter) {
    const file = resolve(plan.out, 'adapter.safetensors');
    const adapter = loadAdapter(file);
    adapter.training = { ...adapter.training, trainingData };
    saveAdapter(file, adapter);
  } else if (artefact.model !== beforePath) {
    // a fine-tuned folder inherits what its base model was trained on
    const modelPath = plan.model === 'default' ? defaultModelPath() : plan.model;
    const base = existsSync(modelPath) ? readModelTrainingData(modelPath) : undefined;
    writeTrainingData(join(artefact.model, 'training-data.json'), { format: TRAINING_DATA_FORMAT, datasets: [...(base?.datasets ?? []), ...trainingData.datasets] });
  }
  return { training, trainSeconds };
}

/** The record of the plan's training split and samples (`training-data.json`, an adapter's metadata). */
function trainingDataOf(plan: ExperimentPlan): TrainingDataRecord {
  const { corpus, grouping, split } = plan.data;
  const pairs: Record<string, number> = {};
  for (const x of plan.samples) pairs[x.lang] = (pairs[x.lang] ?? 0) + 1;
  return {
    format: TRAINING_DATA_FORMAT,
    datasets: [{ name: corpus.name, langHashes: corpusLangHashes(corpus), grouping: grouping.name, splitSeed: split.seed, trainGroups: split.train, evalGroups: split.eval, pairs, ...(plan.options.samples ? { note: 'samples given by the caller (--train-file); the split is the one evaluated on' } : {}) }],
  };
}

/** Where an evaluation's rows come from (the settings record of `lib/results/settings.ts`). */
function provenanceOf(plan: ExperimentPlan, model: string, adapterPath?: string): RunEvaluationOptions['provenance'] {
  const source = typeof plan.options.dataset === 'string' ? plan.options.dataset : plan.data.corpus.name;
  return { source, model, adapterPath };
}

/** The *after* evaluation: the trained retriever (read back from `out`) on the eval corpus, into `<out>/after`. */
export async function evaluateTrained(plan: ExperimentPlan, beforePath: string): Promise<EvaluationResult> {
  const trained = await plan.head.trained({ model: plan.model, out: plan.out, embed: plan.embed, beforePath });
  const embedder = await loadEmbedder(trained.model, trained.embed);
  try {
    return await runEvaluation(plan.evalCorpus, new DenseRetriever(embedder, { name: plan.name }), {
      ...plan.evalOptions, out: resolve(plan.out, 'after'), onPool: onPool(plan.log, 'after'),
      provenance: provenanceOf(plan, trained.model === beforePath ? plan.model : trained.model, trained.embed.adapter ? resolve(plan.out, 'adapter.safetensors') : undefined),
    });
  } finally {
    await embedder.dispose();
  }
}

/**
 * Compare before and after (paired bootstrap per language and of the mean over languages)
 * and write `before-after.json`, `before-after-mean.json`, `metrics.json|csv|md`,
 * `deltas.md` and `config.json` into `out`.
 */
export async function compareAndRecord(plan: ExperimentPlan, before: EvaluationResult, after: EvaluationResult, training: TrainLoopResult, trainSeconds: number): Promise<ExperimentResult> {
  const { out, seed, resamples, data, samples, model, variant, lossSettings, embed } = plan;
  const deltas = compareEvaluations(before, after, { seed, resamples });
  const means = compareMeansOverLanguages(before, after, { seed, resamples });
  writeBeforeAfterMeans(resolve(out, 'before-after-mean.json'), means);
  writeMetricRows(out, [...before.rows, ...after.rows]);
  writeBeforeAfter(resolve(out, 'before-after.json'), deltas);
  const { split, grouping, corpus } = data;
  const where = `the ${data.title} eval ${grouping.name}s (${split.eval.length} of ${split.train.length + split.eval.length})`;
  const markdown = `## ${plan.name} vs ${model} on ${where}\n\n${deltaTables(deltas, { means })}`;
  writeFileAtomic(resolve(out, 'deltas.md'), markdown);
  const config = {
    experiment: 'alignment', model, head: plan.head.name, headOptions: plan.headOptions, loss: variant, ...lossSettings, lossParts: lossPartsByEpoch(training.history), seed, splitSeed: split.seed, pivot: plan.pivot,
    runDepth: plan.options.runDepth ?? 'all', runFormat: (plan.options.compressRuns ?? true) ? 'gz' : 'plain',
    dataset: corpus.name, grouping: grouping.name, trainGroups: split.train, evalGroups: split.eval, samples: samples.length, rank: plan.headOptions.rank ?? null, loop: training.config, trainSeconds,
    finalLoss: training.history.at(-1)?.loss ?? null, embed: { ...embed, adapter: undefined }, preset: plan.preset?.preset ?? null, presetApplied: plan.preset?.applied ?? {}, moduleChain: describeChain(plan.moduleChain), node: process.version, date: new Date().toISOString(),
  };
  await recordEvaluation(out, config, {
    record: { command: 'train', date: config.date, settings: [before.settingsId, after.settingsId].filter((x): x is string => x !== undefined), rows: before.rows.length + after.rows.length },
    // (an evaluation read back from an older study's evaluation.json may have no settings record)
    settings: Object.fromEntries([before, after].filter((e) => e.settingsId !== undefined && e.settings !== undefined).map((e) => [e.settingsId, e.settings])),
  });
  return { before, after, deltas, means, training, trainSeconds, name: plan.name, markdown, head: plan.head.name, evaluatedOn: where };
}

/**
 * The study's experiment: train alignment on the *train* groups of a dataset (XQuAD's train
 * articles by default; any registered dataset, dataset folder or parallel corpus: the
 * registry gives its pivot, grouping and split) with the study's L_JSD + L_NCE by default,
 * or another variant of `LOSS_VARIANT_TABLE`, through a head of the head registry, then
 * evaluate before and after on the *eval* groups, every scenario and language, with a
 * paired bootstrap 95% interval per delta. Writes into `out`: `before/` and `after/` (TREC
 * files), `metrics.json|csv` (both retrievers), `before-after.json`, `deltas.md` (with the
 * interval of the mean over languages, `before-after-mean.json`), `loss.csv`,
 * `train-samples.jsonl`, `config.json` (all seeds, and a record of the evaluation), and the
 * trained artefact (`adapter.safetensors` or the `model/` folder).
 *
 * @throws XlalignError for an unknown model, head or dataset, a model the head cannot train
 *   (`static` on a model that is not static), or an `out` that already holds metric rows (a
 *   train folder is one experiment: rows and run files of an earlier run are never replaced).
 * @example const r = await runAlignmentExperiment({ head: 'static', loss: 'jsd', out: 'results/train-jsd' });
 */
export async function runAlignmentExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  // a bad dataset name is the first thing said (before anything about the folder)
  if (typeof options.dataset === 'string') resolveDataset(options.dataset);
  const earlier = readMetricRows(resolve(options.out));
  if (earlier.length) throw xlError('runAlignmentExperiment', `${resolve(options.out)} already holds ${earlier.length} metric rows of an earlier run (config.json records how they were made); training again would replace them and their run files: use another --out`);
  const plan = await planAlignmentExperiment(options);
  // the base model stays loaded only for a head that embeds with it (the adapter); an encoder trains without it
  const base = await evaluateBase(plan, { keep: plan.head.usesBaseEmbedder });
  let trained: { training: TrainLoopResult; trainSeconds: number };
  try {
    trained = await trainHead(plan, base.beforePath, base.embedder);
  } finally {
    await base.embedder?.dispose();
  }
  const after = await evaluateTrained(plan, base.beforePath);
  return compareAndRecord(plan, base.result, after, trained.training, trained.trainSeconds);
}

/**
 * Mean of the loss and of each loss part over the first and the last epoch (the magnitudes
 * `config.json` records: L_JSD of unit vectors can be ~0.01 next to an InfoNCE of ~1).
 */
export function lossPartsByEpoch(history: readonly { epoch: number; loss: number; parts: Record<string, number> }[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  if (!history.length) return out;
  for (const [label, epoch] of [['firstEpoch', history[0].epoch], ['lastEpoch', history[history.length - 1].epoch]] as const) {
    const rows = history.filter((r) => r.epoch === epoch);
    const sums: Record<string, number> = { loss: 0 };
    for (const r of rows) {
      sums.loss += r.loss;
      for (const [k, v] of Object.entries(r.parts)) sums[k] = (sums[k] ?? 0) + v;
    }
    out[label] = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / rows.length]));
  }
  return out;
}

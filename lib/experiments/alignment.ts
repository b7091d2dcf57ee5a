import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { xquadCorpus, type ParallelCorpus } from '../data/parallel.js';
import { XQUAD_ARTICLES } from '../data/xquad.js';
import { resolveDataset } from '../data/registry.js';
import { loadEmbedder } from '../embed/transformers-embedder.js';
import { applyEmbedPreset } from '../embed/presets.js';
import type { EmbedOptions } from '../embed/types.js';
import { xlError } from '../util/errors.js';
import { compareEvaluations, compareMeansOverLanguages, deltaTables, type DeltaRow, type MeanDeltaRow } from '../eval/compare.js';
import { writeMetricRows } from '../results/metric-rows.js';
import { retrieverNames } from '../retrieve/resolve-retriever.js';
import { runEvaluation, type EvaluationResult } from '../eval/run-evaluation.js';
import type { QueryLangRole, Scenario } from '../pools/types.js';
import { DenseRetriever } from '../retrieve/dense-retriever.js';
import { defaultModelPath } from '../retrieve/resolve-retriever.js';
import { writeFileAtomic } from '../util/fs.js';
import { writeBeforeAfter } from '../results/before-after.js';
import { buildTrainingSamples, saveTrainingJsonl, type TrainingSample } from '../train/samples.js';
import { fineTuneStaticModel } from '../train/fine-tune-static.js';
import { DEFAULT_LOSS, makeLoss, type LossVariant } from './loss-variants.js';
import { corpusGrouping, splitCorpus, splitGroups, splitXquadArticles, type CorpusSplit, type DocGrouping } from '../data/split.js';
import { trainAdapter } from '../train/train-adapter.js';
import type { TrainLoopResult } from '../train/train-loop.js';
import { resolveEncoderFolder } from '../models/transformer/hub.js';
import { saveEncoderFolder } from '../models/transformer/folder.js';
import { checkEncoderFolder, readEncoderWeights } from '../models/transformer/weights.js';
import { ENCODER_POOLINGS, type EncoderPooling } from '../models/transformer/graph.js';
import { fineTuneEncoder } from '../train/fine-tune-encoder.js';
import type { EncoderHeadOptions } from '../train/heads/encoder-head.js';

export { ABLATION_VARIANTS, DEFAULT_LOSS, LOSS_VARIANT_TABLE, LOSS_VARIANTS, makeLoss, type LossVariant } from './loss-variants.js';

/** The metrics of the before/after tables. */
export const EXPERIMENT_METRICS = ['ndcg@10', 'ndcg@1', 'r@10', 'maxr', 'maxr.median', 'maxr_norm', 'complete@10', 'pivot_inclination', 'pivot_above'] as const;

/** Options of {@link runAlignmentExperiment}; defaults in brackets. */
export interface ExperimentOptions {
  /** `default` (the embedded static model), a model folder, or a hub id. [`default`] */
  model?: string;
  /** `model`: fine-tune the static model's whole table (static models only); `adapter`: a linear map on frozen embeddings; `encoder`: fine-tune a BERT / XLM-R encoder (folder or hub id with model.safetensors). [`adapter`] */
  head?: 'model' | 'adapter' | 'encoder';
  /** Encoder head: word table, top-N layers, micro-batch (see EncoderHeadOptions). */
  encoder?: Pick<EncoderHeadOptions, 'wordEmbeddings' | 'topLayers' | 'microBatch'>;
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
  /** Pivot language. [`en`] */
  pivot?: string;
  /** Query languages evaluated. [all 12] */
  langs?: readonly string[];
  /** Scenarios evaluated. [all] */
  scenarios?: readonly Scenario[];
  /** Query languages of the two-language scenarios: `target`, `pivot` or both (the study's Query Tgt / Query En). [`['target']`] */
  queryLangs?: readonly QueryLangRole[];
  /** Options of the training loop (epochs, batchSize, lr, schedule ...) and the head's weight decay. */
  loop?: { epochs?: number; batchSize?: number; lr?: number; weightDecay?: number; progress?: boolean };
  /** Adapter: rank of a low-rank residual (full rank when absent). */
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
}

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
 * of any parallel corpus, `dataset`) with the study's L_JSD + L_NCE by default, or another
 * variant of `LOSS_VARIANT_TABLE`, then evaluate before and after on the *eval* articles, every scenario
 * and language, with a paired bootstrap 95% interval per delta. Writes into `out`:
 * `before/` and `after/` (TREC files), `metrics.json|csv` (both retrievers), `before-after.json`,
 * `deltas.md` (with the interval of the mean over languages, `before-after-mean.json`), `loss.csv`, `train-samples.jsonl`, `config.json` (all seeds), and the trained
 * artefact (`adapter.safetensors` or the `model/` folder).
 *
 * @throws XlalignError for an unknown model, or `head: 'model'` on a model that is not static.
 * @example const r = await runAlignmentExperiment({ head: 'model', loss: 'jsd', out: 'results/train-jsd' });
 */
export async function runAlignmentExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const {
    model = 'default', head = 'adapter', loss: variant = DEFAULT_LOSS, lambda = 1, temperature = 0.05, jsdTemperature = 1, jsdNormalize = true, seed = 42, pivot = 'en',
    embed: embedGiven = {}, resamples = 1000, log = () => {},
  } = options;
  const presetResult = options.preset === false ? undefined : applyEmbedPreset(model, embedGiven);
  const embed = presetResult?.options ?? embedGiven;
  if (presetResult?.preset) log(`${model}: preset ${presetResult.preset} (${Object.entries(presetResult.applied).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ') || 'all overridden'})`);
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
  const evalOpts = { scenarios: options.scenarios, langs: options.langs, queryLangs: options.queryLangs, pivot, metrics: EXPERIMENT_METRICS, runDepth: options.runDepth, compressRuns: options.compressRuns ?? true,
    // --no-cache / --force reach the pool cache too
    ...(embed.cache === false ? { cacheDir: false as const } : {}), force: embed.force ?? false };
  const modelPath = model === 'default' ? defaultModelPath() : model;
  const lossFn = makeLoss(variant, { lambda, temperature, jsdTemperature, jsdNormalize });
  const loop = { ...options.loop, seed, loss: lossFn, lossCsv: resolve(out, 'loss.csv') };
  const onPool = (tag: string) => (pool: { scenario: string; lang: string }, _r: unknown, s: number, cached: boolean) =>
    log(`${tag} ${pool.scenario} ${pool.lang}: ${s.toFixed(1)} s${cached ? ' (cached)' : ''}`);

  // Encoder head: check the folder before any evaluation; evaluate a folder without an ONNX export through one written here.
  const encoderDir = head === 'encoder' ? await resolveEncoderFolder(modelPath) : undefined;
  let beforePath = modelPath;
  if (encoderDir) {
    checkEncoderFolder(encoderDir);
    if (embed.pooling !== undefined && !(ENCODER_POOLINGS as readonly string[]).includes(embed.pooling)) throw xlError('runAlignmentExperiment', `head 'encoder' trains with pooling ${ENCODER_POOLINGS.map((p) => `'${p}'`).join(', ')}; got '${embed.pooling}'`);
    if (!existsSync(join(encoderDir, 'onnx', 'model.onnx'))) saveEncoderFolder(readEncoderWeights(encoderDir), encoderDir, (beforePath = resolve(out, 'base-model')));
  }
  const baseEmbedder = await loadEmbedder(beforePath, embed);
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
  } else if (encoderDir) {
    afterModel = resolve(out, 'model');
    const { epochs, batchSize, lr, weightDecay, progress } = options.loop ?? {};
    const { pooling, maxLength, queryPrefix, passagePrefix, device } = embed;
    const r = await fineTuneEncoder({ modelDir: encoderDir, samples, outDir: out, loss: lossFn, seed, epochs, batchSize, lr, weightDecay, progress, pooling: pooling as EncoderPooling | undefined, maxLength, queryPrefix, passagePrefix, device, ...options.encoder });
    training = { history: r.history, steps: r.steps, seconds: r.seconds, epochLosses: r.epochLosses, config: r.config };
  } else {
    afterModel = resolve(out, 'model');
    training = (await fineTuneStaticModel({ modelDir: modelPath, samples, outDir: afterModel, ...loop })).result;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await baseEmbedder.dispose();
  const name = `${baseName}+${head === 'adapter' ? 'adapter' : 'aligned'}${variant === DEFAULT_LOSS ? '' : `(${variant})`}`;
  const afterEmbedder = await loadEmbedder(afterModel, afterEmbed);
  const after = await runEvaluation(evalCorpus, new DenseRetriever(afterEmbedder, { name }), { ...evalOpts, out: resolve(out, 'after'), onPool: onPool('after') });
  await afterEmbedder.dispose();

  const deltas = compareEvaluations(before, after, { seed, resamples });
  const means = compareMeansOverLanguages(before, after, { seed, resamples });
  writeFileAtomic(resolve(out, 'before-after-mean.json'), JSON.stringify(means, null, 1) + '\n');
  writeMetricRows(out, [...before.rows, ...after.rows]);
  writeBeforeAfter(resolve(out, 'before-after.json'), deltas);
  const where = isXquad ? `the XQuAD eval articles (${split.eval.length} of 48)` : `the ${corpus.name} eval ${grouping.name}s (${split.eval.length} of ${split.train.length + split.eval.length})`;
  const markdown = `## ${name} vs ${model} on ${where}\n\n${deltaTables(deltas, { means })}`;
  writeFileAtomic(resolve(out, 'deltas.md'), markdown);
  const config = {
    experiment: 'alignment', model, head, loss: variant, lambda, temperature, jsdTemperature, jsdNormalize, lossParts: lossPartsByEpoch(training.history), seed, splitSeed: split.seed,
    runDepth: options.runDepth ?? 'all', runFormat: (options.compressRuns ?? true) ? 'gz' : 'plain',
    ...(isXquad ? { trainArticles: split.train, evalArticles: split.eval } : { dataset: corpus.name, grouping: grouping.name, trainGroups: split.train, evalGroups: split.eval }), samples: samples.length, rank: options.rank ?? null, loop: training.config, trainSeconds,
    finalLoss: training.history.at(-1)?.loss ?? null, embed: { ...embed, adapter: undefined }, preset: presetResult?.preset ?? null, presetApplied: presetResult?.applied ?? {}, node: process.version, date: new Date().toISOString(),
  };
  writeFileAtomic(resolve(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return { before, after, deltas, means, training, trainSeconds, name, markdown };
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

import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { sha256, sha256File, writeFileAtomic } from '../util/fs.js';
import type { EmbedOptions } from '../embed/types.js';
import type { EvaluationResult } from '../eval/run-evaluation.js';
import type { QueryLangRole, Scenario } from '../pools/types.js';
import { paperAblationTable, paperMainTable, paperTableCsv, paperTableMarkdown, type AblationVariantRows } from '../results/paper-table.js';
import { readEvaluationFile, readTrainingResult, verifiedStageMarker, writeEvaluationFile, writeStageMarker, writeTrainingResult, type StageMarker } from '../results/study-files.js';
import { HEADS, headForModel, type HeadLoopDefaults, type HeadLoopOptions, type HeadName, type ValueSource } from '../train/heads/registry.js';
import type { TrainLoopResult } from '../train/train-loop.js';
import { compareAndRecord, evaluateBase, evaluateTrained, planAlignmentExperiment, trainHead, type ExperimentOptions, type ExperimentPlan } from './alignment.js';
import { ABLATION_VARIANTS, DEFAULT_LOSS, type LossVariant } from './loss-variants.js';

/**
 * The study's protocol in one call (arXiv 2604.05684 and its sister paper, as far as
 * xlalign records them): evaluate a model before, on the study's scenarios with target- and
 * English-language queries; fine-tune it with the study's loss (the static head for a static
 * model folder, the encoder head for a transformer); evaluate after; write the paper's
 * tables (main; ablations on request) and the before/after figures. Every stage leaves a
 * marker (`stages/<stage>.json`, atomic, with the sha256 of its outputs): a rerun after a
 * kill at any point skips the stages whose outputs are there unchanged and goes on from the
 * first that is not (the encoder's training also resumes from its own checkpoint inside
 * the stage). The stages reuse the alignment experiment's (`./alignment.ts`).
 */

/** The study's scenarios: Mono-Same, Mono-Cross, Multi (mixed) and its two one-answer variants. */
export const STUDY_SCENARIOS: readonly Scenario[] = ['mono', 'cross', 'mixed', 'mixed-target', 'mixed-pivot'];
/** The study's query sides: Query Tgt and Query En. */
export const STUDY_QUERY_LANGS: readonly QueryLangRole[] = ['target', 'pivot'];
/** The scenarios the paper's main table is printed for (mixed = the study's Multi). */
export const STUDY_TABLE_SCENARIOS: readonly Scenario[] = ['mixed', 'mono', 'cross'];
/** The stages, in order. */
export const STUDY_STAGES = ['data', 'before', 'train', 'after', 'tables', 'ablations', 'figures'] as const;
export type StudyStage = (typeof STUDY_STAGES)[number];

export type { ValueSource } from '../train/heads/registry.js';

/** One recorded hyperparameter. */
export interface ProtocolValue {
  value: unknown;
  source: ValueSource;
  note?: string;
}

/** Options of {@link runStudy}; defaults in the field comments. */
export interface StudyOptions {
  /** `default` (the embedded static model), a model folder or a hub id. */
  model: string;
  /** Output folder. */
  out: string;
  /** A registered dataset (`xquad`, `belebele`) or a dataset folder. Default `xquad`. */
  dataset?: string;
  /** Belebele: folder of `<dialect>.jsonl` files. */
  belebeleDir?: string;
  /** Head. Default: chosen by the folder ({@link headForModel}: `static` for a static model, `encoder` otherwise). */
  head?: HeadName;
  /** The head's own options (`--top-layers`, `--micro-batch` ...). Encoder: `wordEmbeddings` defaults to `sparse` (full fine-tuning). */
  headOptions?: Record<string, unknown>;
  /** Query languages evaluated. Default: all of the dataset's. */
  langs?: readonly string[];
  /** Scenarios. Default {@link STUDY_SCENARIOS}. */
  scenarios?: readonly Scenario[];
  /** Query sides. Default {@link STUDY_QUERY_LANGS}. */
  queryLangs?: readonly QueryLangRole[];
  /** Pivot. Default the dataset's. */
  pivot?: string;
  /** Training samples. Default 2800 (the study's). */
  samples?: number;
  /** Loss settings; defaults those of the study's loss. */
  lambda?: number;
  temperature?: number;
  jsdTemperature?: number;
  /** The training loop's hyperparameters; undefined ones take the head's (see {@link studyProtocol}). */
  loop?: HeadLoopOptions;
  seed?: number;
  splitSeed?: number;
  resamples?: number;
  runDepth?: number;
  /** Embedding options (prefixes, pooling ...; the model's preset fills the rest). */
  embed?: EmbedOptions;
  /** Train and tabulate the study's ablation rows too (`true`: {@link ABLATION_VARIANTS}). Default false. */
  ablations?: boolean | readonly LossVariant[];
  /**
   * Render the before/after figures of a results folder into a figures folder, returning the
   * files written (the figures live in `lib/plot`, a later layer: the caller passes
   * `renderStandardFigures`). Default: no figures stage.
   */
  renderFigures?: (fromDir: string, outDir: string) => Promise<string[]>;
  /** Stop after this stage (its marker written): a kill at a known point, for tests and staged runs. */
  stopAfter?: StudyStage;
  /** One progress line per stage, and the experiment's lines. Default: none. */
  log?: (line: string) => void;
}

/** What {@link runStudy} returns. */
export interface StudyResult {
  /** Stages run now, and stages skipped because a verified marker said they were done. */
  ran: string[];
  skipped: string[];
  /** The stage the run stopped after (`stopAfter`), when it stopped early. */
  stoppedAfter?: StudyStage;
  /** The main paper table (Markdown) for `mixed`, when the tables stage is done. */
  table?: string;
  /** The head trained. */
  head: HeadName;
  /** The protocol recorded in `study.json`. */
  protocol: Record<string, ProtocolValue>;
}

/**
 * The recorded protocol of a study: every hyperparameter with its value and where the
 * value comes from (`study`: the study reports it; `sister paper`; `xlalign`: this
 * toolkit's default, measured in its README; `assumption`: not reported, chosen here;
 * `flag`: given by the user).
 */
export function studyProtocol(options: StudyOptions, head: HeadName): Record<string, ProtocolValue> {
  const { defaults, provenance } = HEADS[head];
  const given = (v: unknown, value: unknown, source: ValueSource, note?: string): ProtocolValue => (v === undefined ? { value, source, ...(note ? { note } : {}) } : { value: v, source: 'flag' });
  const loop = options.loop ?? {};
  const fromHead = (key: keyof HeadLoopDefaults) => given(loop[key], defaults[key], provenance.loop[key]?.source ?? 'xlalign', provenance.loop[key]?.note);
  const headOptions = Object.fromEntries(Object.entries(provenance.options ?? {}).map(([k, p]) => [k, given(options.headOptions?.[k], p.value, p.source, p.note)]));
  return {
    head: given(options.head, head, provenance.head.source, provenance.head.note),
    loss: { value: DEFAULT_LOSS, source: 'study', note: 'L = L_JSD + L_NCE (lib/train/losses/study-loss.ts)' },
    samples: given(options.samples, 2800, 'study', '~2.8k parallel samples'),
    lambda: given(options.lambda, 1, 'study', 'L_JSD and L_NCE weighted 1:1'),
    temperature: given(options.temperature, 0.05, 'study', 'τ of L_NCE'),
    jsdTemperature: given(options.jsdTemperature, 1, 'assumption', 'τ_J of the softmax over dimensions; not reported'),
    epochs: fromHead('epochs'),
    batchSize: fromHead('batchSize'),
    lr: fromHead('lr'),
    warmupRatio: fromHead('warmupRatio'),
    weightDecay: fromHead('weightDecay'),
    ...headOptions,
    scenarios: given(options.scenarios, STUDY_SCENARIOS, 'study', 'Mono-Same (mono), Mono-Cross (cross), Multi (mixed) and its one-answer variants'),
    queryLangs: given(options.queryLangs, STUDY_QUERY_LANGS, 'study', 'Query Tgt and Query En'),
    split: { value: { trainFraction: 0.5, seed: options.splitSeed ?? 20240 }, source: options.splitSeed === undefined ? 'xlalign' : 'flag', note: 'leakage-free split of the dataset\'s groups (XQuAD: 24/24 articles); trained on train, evaluated on eval' },
    seed: given(options.seed, 42, 'xlalign'),
  };
}

/**
 * Run the study's protocol (see the module comment) into `out`, resuming a killed run.
 *
 * @throws XlalignError before any work for a model the head cannot train, an unknown
 *   dataset or language; when `out` holds a study with other settings (naming the stage).
 * @example await runStudy({ model: 'intfloat/multilingual-e5-base', out: 'results/study-e5' });
 */
export async function runStudy(options: StudyOptions): Promise<StudyResult> {
  const log = options.log ?? (() => {});
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const head = options.head ?? headForModel(options.model);
  const protocol = studyProtocol(options, head);
  const loop: HeadLoopOptions = {
    epochs: protocol.epochs.value as number, batchSize: protocol.batchSize.value as number, lr: protocol.lr.value as number,
    warmupRatio: protocol.warmupRatio.value as number, weightDecay: protocol.weightDecay.value as number, progress: options.loop?.progress,
  };
  const ablations = options.ablations === true ? ABLATION_VARIANTS.filter((v) => v !== DEFAULT_LOSS) : options.ablations ? options.ablations.filter((v) => v !== DEFAULT_LOSS) : [];
  // the head options the protocol sets (encoder: the word table trained), with the user's
  const headOptions = { ...Object.fromEntries(Object.keys(HEADS[head].provenance.options ?? {}).map((k) => [k, protocol[k].value])), ...options.headOptions };
  const experiment: ExperimentOptions = {
    model: options.model, head, headOptions, out, dataset: options.dataset, belebeleDir: options.belebeleDir,
    size: protocol.samples.value as number, loss: DEFAULT_LOSS, lambda: protocol.lambda.value as number, temperature: protocol.temperature.value as number,
    jsdTemperature: protocol.jsdTemperature.value as number, seed: protocol.seed.value as number, splitSeed: options.splitSeed, pivot: options.pivot, langs: options.langs,
    scenarios: protocol.scenarios.value as Scenario[], queryLangs: protocol.queryLangs.value as QueryLangRole[], loop, embed: options.embed, resamples: options.resamples,
    runDepth: options.runDepth, log,
  };
  // what the results depend on: a marker written under other settings is not trusted
  const settings = {
    model: options.model, dataset: options.dataset ?? 'xquad', belebeleDir: options.belebeleDir ? resolve(options.belebeleDir) : undefined, head, headOptions,
    protocol: Object.fromEntries(Object.entries(protocol).map(([k, v]) => [k, v.value])), langs: options.langs ?? 'all', pivot: options.pivot ?? null, resamples: options.resamples ?? 1000,
    runDepth: options.runDepth ?? 'all', embed: embedSettings(options.embed),
  };
  const fingerprint = sha256(JSON.stringify(settings)).slice(0, 16);
  const stages = STUDY_STAGES.filter((s) => (s !== 'ablations' || ablations.length > 0) && (s !== 'figures' || options.renderFigures));
  const result: StudyResult = { ran: [], skipped: [], head, protocol };
  let redo = false; // once a stage runs again, every later one does too
  let n = 0;

  /** Run one stage unless a verified marker says it is done; returns its marker. */
  const stage = async (name: string, label: string, work: () => Promise<{ outputs: string[]; data?: Record<string, unknown> }>, spent = 0): Promise<StageMarker> => {
    n++;
    const tag = `study [${Math.min(n, stages.length)}/${stages.length}] ${name}`;
    const { marker, why }: { marker?: StageMarker; why?: string } = redo ? {} : verifiedStageMarker(out, name, fingerprint);
    if (marker) {
      log(`${tag}: done earlier (${Object.keys(marker.outputs).length} outputs verified), skipped`);
      result.skipped.push(name);
      return marker;
    }
    if (why) log(`${tag}: running again: ${why}`);
    redo = true;
    log(`${tag}: ${label}`);
    const t0 = performance.now();
    const r = await work();
    const seconds = spent + (performance.now() - t0) / 1000;
    const m = writeStageMarker(out, name, fingerprint, r.outputs, seconds, r.data);
    log(`${tag}: done in ${seconds.toFixed(1)} s`);
    result.ran.push(name);
    return m;
  };
  const stop = (name: StudyStage) => options.stopAfter === name;

  // settings first: refuse a folder of another study before any work
  const other = existsSync(join(out, 'study.json')) ? (JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as { fingerprint?: string }) : undefined;
  if (other?.fingerprint && other.fingerprint !== fingerprint) {
    throw xlError('study', `${out} holds a study with other settings (study.json); use another --out, or remove it to start again`);
  }
  // the plan (dataset, split, samples) is needed by every stage, so it is built on every run;
  // the data stage's marker checks that it came out the same as when the stage finished
  const tPlan = performance.now();
  const plan = await planAlignmentExperiment(experiment);
  const planSeconds = (performance.now() - tPlan) / 1000;
  const rel = (p: string) => relative(out, p);

  await stage('data', `${plan.data.title}: ${plan.samples.length} training samples from ${plan.data.split.train.length} train ${plan.data.grouping.name}s; head ${head}`, async () => {
    writeFileAtomic(join(out, 'study.json'), JSON.stringify({ format: 'xlalign-study/1', fingerprint, settings, protocol, date: new Date().toISOString(), node: process.version }, null, 2) + '\n');
    return { outputs: ['study.json', 'train-samples.jsonl'] };
  }, planSeconds);
  if (stop('data')) return { ...result, stoppedAfter: 'data' };

  const beforeMarker = await stage('before', `evaluating ${plan.baseName} on the eval ${plan.data.grouping.name}s`, async () => {
    const r = await evaluateBase(plan);
    writeEvaluationFile(join(out, 'before', 'evaluation.json'), r.result);
    return { outputs: ['before/evaluation.json'], data: { beforePath: r.beforePath } };
  });
  const beforePath = String(beforeMarker.data.beforePath);
  if (stop('before')) return { ...result, stoppedAfter: 'before' };

  const trainMain = async (p: ExperimentPlan, prefix: string) => {
    const r = await trainHead(p, beforePath);
    writeTrainingResult(join(p.out, 'training-result.json'), { ...r.training, trainSeconds: r.trainSeconds });
    return [...p.head.artefacts.map((a) => join(prefix, a)), join(prefix, 'training-result.json')];
  };
  await stage('train', `fine-tuning with the ${head} head, loss ${DEFAULT_LOSS}, ${plan.samples.length} samples, ${loop.epochs} epoch(s), batch ${loop.batchSize}, lr ${loop.lr}`, async () => ({ outputs: await trainMain(plan, '') }));
  if (stop('train')) return { ...result, stoppedAfter: 'train' };

  await stage('after', `evaluating ${plan.name}`, async () => {
    writeEvaluationFile(join(out, 'after', 'evaluation.json'), await evaluateTrained(plan, beforePath));
    return { outputs: ['after/evaluation.json'] };
  });
  if (stop('after')) return { ...result, stoppedAfter: 'after' };

  const before = readEvaluationFile(join(out, 'before', 'evaluation.json')) as EvaluationResult;
  const after = readEvaluationFile(join(out, 'after', 'evaluation.json')) as EvaluationResult;
  const pivot = plan.pivot;
  await stage('tables', 'comparing (paired bootstrap) and writing the paper tables', async () => {
    const t = readTrainingResult(join(out, 'training-result.json'));
    await compareAndRecord(plan, before, after, t as TrainLoopResult, t.trainSeconds);
    const outputs = ['before-after.json', 'before-after-mean.json', 'metrics.json', 'deltas.md'];
    const rows = [...before.rows, ...after.rows];
    for (const scenario of STUDY_TABLE_SCENARIOS.filter((s) => plan.evalOptions.scenarios?.includes(s) ?? true)) {
      const base = scenario === 'mixed' ? 'paper-table' : `paper-table-${scenario}`;
      const table = paperMainTable(rows, { scenario, pivot });
      writeFileAtomic(join(out, `${base}.md`), paperTableMarkdown(table));
      writeFileAtomic(join(out, `${base}.csv`), paperTableCsv(table));
      outputs.push(`${base}.md`, `${base}.csv`);
    }
    return { outputs };
  });
  if (existsSync(join(out, 'paper-table.md'))) result.table = readFileSync(join(out, 'paper-table.md'), 'utf8');
  if (stop('tables')) return { ...result, stoppedAfter: 'tables' };

  if (ablations.length > 0) {
    await stage('ablations', `the ablation rows ${ablations.join(', ')} (train and evaluate each)`, async () => {
      const variants: AblationVariantRows[] = [{ variant: DEFAULT_LOSS, before: before.rows, after: after.rows }];
      const outputs: string[] = [];
      // each variant has its own marker, so a kill between variants keeps the finished ones;
      // a variant is trusted only against the same before evaluation
      const beforeSha = sha256File(join(out, 'before', 'evaluation.json'));
      for (const variant of ablations) {
        const dir = join(out, 'ablations', variant);
        const name = `ablation-${variant}`;
        const done = verifiedStageMarker(out, name, fingerprint).marker;
        if (done && done.data.before === beforeSha) {
          log(`study ablations: ${variant}: done earlier, skipped`);
        } else {
          log(`study ablations: ${variant}`);
          const t0 = performance.now();
          const p = await planAlignmentExperiment({ ...experiment, loss: variant, out: dir, log });
          const files = await trainMain(p, rel(dir));
          const a = await evaluateTrained(p, beforePath);
          writeEvaluationFile(join(dir, 'after', 'evaluation.json'), a);
          const t = readTrainingResult(join(dir, 'training-result.json'));
          await compareAndRecord(p, before, a, t as TrainLoopResult, t.trainSeconds);
          writeStageMarker(out, name, fingerprint, [...files, ...['after/evaluation.json', 'before-after.json', 'metrics.json'].map((f) => join(rel(dir), f))], (performance.now() - t0) / 1000, { before: beforeSha });
        }
        const m = verifiedStageMarker(out, name, fingerprint).marker!;
        outputs.push(...Object.keys(m.outputs));
        variants.push({ variant, before: before.rows, after: readEvaluationFile(join(dir, 'after', 'evaluation.json')).rows as AblationVariantRows['after'] });
      }
      const table = paperAblationTable(variants, { scenario: 'mixed', pivot });
      writeFileAtomic(join(out, 'paper-ablation.md'), paperTableMarkdown(table));
      writeFileAtomic(join(out, 'paper-ablation.csv'), paperTableCsv(table));
      return { outputs: [...outputs, 'paper-ablation.md', 'paper-ablation.csv'] };
    });
    if (stop('ablations')) return { ...result, stoppedAfter: 'ablations' };
  }

  if (options.renderFigures) {
    const render = options.renderFigures;
    await stage('figures', 'rendering the before/after figures', async () => {
      const dir = join(out, 'figures');
      rmSync(dir, { recursive: true, force: true });
      const files = await render(out, dir);
      return { outputs: files.map((f) => rel(resolve(f))) };
    });
  }
  return result;
}

/** The embedding options the results depend on (not the cache folder, threads or progress). */
function embedSettings(embed: EmbedOptions = {}): Record<string, unknown> {
  const { pooling, normalize, queryPrefix, passagePrefix, maxLength, dtype } = embed;
  return { pooling, normalize, queryPrefix, passagePrefix, maxLength, dtype };
}

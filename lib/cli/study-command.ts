import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { SCENARIOS, type QueryLangRole, type Scenario } from '../pools/types.js';
import { DATASETS } from '../data/registry.js';
import { DEFAULT_CHROMIUM, FIGURE_FORMATS, type FigureFormat } from '../plot/export.js';
import type { HeadName } from '../train/heads/registry.js';
import type { LossVariant } from '../experiments/loss-variants.js';
import { ABLATION_VARIANTS, LOSS_VARIANTS } from '../experiments/loss-variants.js';
import { addHeadOptions, headFrom } from './head-options.js';
import { addEmbedOptions, embedOptionsFrom, list } from './options.js';
import { checkDatasetOptions } from './train-command.js';
import { checkInt, checkNumber, checkOutputDir, checkRetriever, usageError } from './validate.js';

/** The stages `--stop-after` takes (kept in sync with STUDY_STAGES of lib/experiments/study.ts, which this file must not load before validation). */
export const STAGES = ['data', 'before', 'train', 'after', 'tables', 'ablations', 'figures'];
/** Embedding options a model preset may set: left undefined unless given on the command line. */
const PRESET_KEYS = ['pooling', 'queryPrefix', 'passagePrefix'] as const;

/** `xlalign study`: the study's protocol on one model, resumable (flag parsing only; `runStudy` does the work). */
export function studyCommand(): Command {
  const cmd = new Command('study')
    .description("The study's protocol on one model: evaluate before (its scenarios, target and English queries), fine-tune with its loss, evaluate after, its tables and the before/after figures; rerun the same command to resume after a kill")
    .requiredOption('--model <id|folder>', "a hub id (e.g. intfloat/multilingual-e5-base), a model folder, or 'default' (the embedded static model)")
    .option('--dataset <name|folder>', `${Object.keys(DATASETS).join(', ')}, or a dataset folder (own JSONL or BEIR)`, 'xquad')
    .option('--belebele-dir <dir>', 'Belebele: folder of <dialect>.jsonl files (its languages)')
    .option('--pivot <lang>', "pivot language (default: the dataset's)")
    .option('--langs <list>', "query languages evaluated, or 'all'", 'all')
    .option('--scenarios <list>', "scenarios (default the study's: mono, cross, mixed, mixed-target, mixed-pivot)")
    .option('--query-langs <list>', "query sides (default the study's: target,pivot)")
    .option('--samples <n>', 'training samples (default the study\'s 2800)')
    .option('--epochs <n>', 'passes over the samples (default: the head\'s; see study.json)')
    .option('--train-batch-size <n>', 'samples per batch (default 32)')
    .option('--lr <x>', 'peak learning rate (default: encoder 2e-5, static 1e-3)')
    .option('--warmup <ratio>', 'fraction of the steps of linear warmup (default 0.1)')
    .option('--weight-decay <x>', 'AdamW decoupled weight decay (default: encoder 0.01, static 0)')
    .option('--lambda <x>', 'weight of L_JSD (default 1)')
    .option('--temperature <t>', 'τ of L_NCE (default 0.05)')
    .option('--jsd-temperature <t>', 'τ_J of L_JSD\'s softmax over dimensions (default 1)')
    .option('--ablations [list]', `also train the study's ablation rows (default ${ABLATION_VARIANTS.filter((v) => v !== 'study').join(', ')}) and write paper-ablation.md`)
    .option('--figure-formats <list>', `before/after figures: ${FIGURE_FORMATS.join(', ')}, or 'none'`, 'png,svg')
    .option('--chromium <path>', 'Chromium executable that renders PNG and SVG (default $XLALIGN_CHROMIUM or /usr/bin/chromium)')
    .option('--seed <n>', 'seed of sampling, initialisation, batch order and bootstrap (default 42)')
    .option('--split-seed <n>', 'seed of the train/eval split (default 20240)')
    .option('--resamples <n>', 'bootstrap resamples (default 1000)')
    .option('--run-depth <n>', "documents per query in the run files, or 'all'", 'all')
    .addOption(new Option('--stop-after <stage>', 'stop after this stage (rerun to go on); also XLALIGN_STUDY_STOP_AFTER').choices(STAGES))
    .requiredOption('--out <dir>', 'output folder (rerun with the same folder to resume)');
  // the study trains an encoder fully, its word table included
  addHeadOptions(cmd, undefined, { headNote: 'default: chosen by the folder (static for a static model, encoder otherwise)', defaults: { wordEmbeddings: 'sparse' } });
  addEmbedOptions(cmd);
  cmd.action(async (opts, command: Command) => {
    const where = 'xlalign study';
    checkOutputDir(where, '--out', opts.out);
    const model: string = opts.model;
    if (model === 'bm25') throw usageError(where, "--model bm25 has nothing to train; use 'default', a model folder or a hub id");
    const kind = checkRetriever(where, '--model', model, ['default']);
    let head: HeadName | undefined;
    let headOptions: Record<string, unknown> = {};
    if (opts.head !== undefined) {
      const h = headFrom(where, opts);
      const reason = h.head.checkModel(model, kind);
      if (reason) throw usageError(where, `--head ${opts.head} cannot train this model: ${reason}`);
      head = h.head.name;
      headOptions = h.options;
    } else {
      const { headForModel, HEADS } = await import('../train/heads/registry.js');
      const h = headFrom(where, opts, { name: headForModel(model) });
      const reason = HEADS[h.head.name].checkModel(model, kind);
      if (reason) throw usageError(where, reason);
      headOptions = h.options;
    }
    // a head option left at its command-line default takes the study's (encoder: the word table trained)
    for (const k of Object.keys(headOptions)) if (command.getOptionValueSource(k) === 'default') delete headOptions[k];
    checkDatasetOptions(where, { ...opts, queryLangs: opts.queryLangs ?? 'target,pivot', scenarios: opts.scenarios ?? 'mono,cross,mixed,mixed-target,mixed-pivot' });
    const int = (flag: string, v: unknown, min = 1) => checkInt(where, flag, v, min);
    const number = (flag: string, v: unknown, bound: 'positive' | 'non-negative') => (v === undefined ? undefined : checkNumber(where, flag, v, bound));
    const warmup = number('--warmup', opts.warmup, 'non-negative');
    if (warmup !== undefined && warmup >= 1) throw usageError(where, `--warmup must be in [0, 1), got '${opts.warmup}'`);
    const ablations = opts.ablations === undefined ? false : opts.ablations === true ? true : (list(opts.ablations) as LossVariant[]);
    if (Array.isArray(ablations)) for (const v of ablations) if (!LOSS_VARIANTS.includes(v)) throw usageError(where, `--ablations: unknown loss variant '${v}'; use ${LOSS_VARIANTS.join(', ')}`);
    const formats = opts.figureFormats === 'none' ? [] : (list(opts.figureFormats) as FigureFormat[]);
    for (const f of formats) if (!(FIGURE_FORMATS as readonly string[]).includes(f)) throw usageError(where, `--figure-formats: unknown format '${f}'; use ${FIGURE_FORMATS.join(', ')} or none`);
    // figures are the last stage: a missing Chromium is reported now, not after the training
    const chromium = opts.chromium ?? process.env.XLALIGN_CHROMIUM ?? DEFAULT_CHROMIUM;
    if (formats.some((f) => f !== 'html') && !existsSync(chromium)) throw usageError(where, `--chromium ${chromium} does not exist; PNG and SVG figures render in a headless Chromium (apt-get install -y chromium, or XLALIGN_CHROMIUM): give its path, or --figure-formats html or none`);
    const stopAfter = opts.stopAfter ?? process.env.XLALIGN_STUDY_STOP_AFTER;
    if (stopAfter !== undefined && !STAGES.includes(stopAfter)) throw usageError(where, `XLALIGN_STUDY_STOP_AFTER: unknown stage '${stopAfter}'; use ${STAGES.join(', ')}`);
    const scenarios = opts.scenarios === undefined ? undefined : (list(opts.scenarios) as Scenario[]);
    for (const s of scenarios ?? []) if (!SCENARIOS.includes(s)) throw usageError(where, `--scenarios: unknown '${s}'`);
    const embed = embedOptionsFrom(opts);
    for (const k of PRESET_KEYS) if (command.getOptionValueSource(k) === 'default') delete embed[k];

    // heavy modules only after validation
    const { runStudy } = await import('../experiments/study.js');
    const renderFigures = formats.length === 0 ? undefined : async (from: string, to: string) => {
      const { renderStandardFigures } = await import('../plot/standard-figures.js');
      // the study's figures: before/after bars (before-after.json), the paper's metrics per language, the loss curve
      const figs = await renderStandardFigures(from, to, { formats, metrics: ['complete@10', 'maxr', 'maxr_norm'], executablePath: chromium });
      return [...figs.flatMap((f) => Object.values(f.files ?? {}) as string[]), resolve(to, 'index.json')];
    };
    const r = await runStudy({
      model, out: resolve(opts.out), dataset: opts.dataset, belebeleDir: opts.belebeleDir, head, headOptions, pivot: opts.pivot,
      langs: opts.langs === 'all' ? undefined : list(opts.langs), scenarios, queryLangs: opts.queryLangs === undefined ? undefined : (list(opts.queryLangs) as QueryLangRole[]),
      samples: int('--samples', opts.samples, 2), lambda: number('--lambda', opts.lambda, 'non-negative'), temperature: number('--temperature', opts.temperature, 'positive'),
      jsdTemperature: number('--jsd-temperature', opts.jsdTemperature, 'positive'),
      loop: { epochs: int('--epochs', opts.epochs), batchSize: int('--train-batch-size', opts.trainBatchSize, 2), lr: number('--lr', opts.lr, 'positive'), warmupRatio: warmup, weightDecay: number('--weight-decay', opts.weightDecay, 'non-negative') },
      seed: int('--seed', opts.seed, 0), splitSeed: int('--split-seed', opts.splitSeed, 0), resamples: int('--resamples', opts.resamples), runDepth: opts.runDepth === 'all' ? undefined : int('--run-depth', opts.runDepth),
      embed, ablations, renderFigures, stopAfter, log: (line) => process.stderr.write(line + '\n'),
    });
    if (r.stoppedAfter) process.stderr.write(`study: stopped after stage '${r.stoppedAfter}'; rerun the same command to go on\n`);
    else {
      if (r.table) process.stdout.write(r.table);
      process.stderr.write(`study: wrote ${resolve(opts.out)} (study.json, paper-table*.md, before-after.json, deltas.md${formats.length ? ', figures/' : ''})\n`);
    }
  });
  return cmd;
}

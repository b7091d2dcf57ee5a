import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { xlError } from '../util/errors.js';
import { QUERY_LANGS, SCENARIOS, type QueryLangRole, type Scenario } from '../pools/types.js';
import { loadTrainingJsonl } from '../train/samples.js';
import type { ExperimentOptions } from '../experiments/alignment.js';
import { ABLATION_VARIANTS, DEFAULT_LOSS, LOSS_VARIANT_TABLE, LOSS_VARIANTS, type LossVariant } from '../experiments/loss-variants.js';
import { datasetLanguages, DATASETS, resolveDataset } from '../data/registry.js';
import { HEAD_NAMES, HEADS, type HeadLoopDefaults } from '../train/heads/registry.js';
import { addHeadOptions, headFrom } from './head-options.js';
import { ablationMarkdown, writeAblation } from '../results/ablation.js';
import { addEmbedOptions, embedOptionsFrom, list } from './options.js';
import { checkExists, checkInt, checkLangs, checkNumber, checkOutputDir, checkRetriever, checkScenarios, checkSomethingToEvaluate, usageError } from './validate.js';

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw xlError('xlalign', `--${name} must be a number, got '${v}'`);
  return n;
}

/**
 * The dataset of `--dataset` (a registered name or a folder, validated now) with its known
 * languages (Belebele: the dialect files of `--belebele-dir`) and `opts.pivot` defaulted to
 * its pivot; checks `--pivot` and `--langs` against those languages (exit code 2).
 */
export function checkDatasetOptions(where: string, opts: Record<string, string | undefined>): void {
  let dataset: ReturnType<typeof resolveDataset>;
  try {
    dataset = resolveDataset(opts.dataset!);
  } catch (e) {
    throw usageError(where, `--dataset: ${(e as Error).message}`);
  }
  if (opts.belebeleDir !== undefined) checkExists(where, '--belebele-dir', opts.belebeleDir, 'folder');
  const known = datasetLanguages(dataset, { belebeleDir: opts.belebeleDir });
  opts.pivot ??= dataset.defaultPivot;
  if (known) checkLangs(where, [opts.pivot], known, '--pivot');
  for (const q of list(opts.queryLangs!)) if (!(QUERY_LANGS as readonly string[]).includes(q)) throw usageError(where, `--query-langs: unknown '${q}'; use ${QUERY_LANGS.join(', ')} (comma-separated)`);
  const scenarios = checkScenarios(where, opts.scenarios === 'all' ? 'all' : list(opts.scenarios!));
  if (opts.langs === 'all') {
    if (!known) throw usageError(where, `--langs: dataset ${dataset.name} lists no languages here; name them (e.g. --langs deu_Latn,spa_Latn) or put their files in --belebele-dir`);
  } else checkSomethingToEvaluate(where, scenarios, checkLangs(where, list(opts.langs!), known), opts.pivot);
}

/**
 * Every option of train/ablate checked before any work (exit code 2, one line): numbers and
 * their ranges, languages, scenarios, the model name, the head against the model (the head
 * registry's `checkModel`), output folder.
 */
function validateTrainOptions(where: string, opts: Record<string, string | undefined>): void {
  checkOutputDir(where, '--out', opts.out);
  const model = opts.retriever!;
  if (model === 'bm25') throw usageError(where, "--retriever bm25 has nothing to train; use 'default', a model folder or a hub id (owner/name)");
  const kind = checkRetriever(where, '--retriever', model, ['default']);
  const { head } = headFrom(where, opts);
  const reason = head.checkModel(model, kind);
  if (reason) throw usageError(where, `--head ${opts.head} cannot train this model: ${reason}`);
  if (opts.trainFile !== undefined) checkExists(where, '--train-file', opts.trainFile, 'file');
  else checkInt(where, '--samples', opts.samples, 2);
  checkNumber(where, '--lambda', opts.lambda, 'non-negative');
  checkNumber(where, '--temperature', opts.temperature, 'positive');
  checkInt(where, '--epochs', opts.epochs, 1);
  checkInt(where, '--train-batch-size', opts.trainBatchSize, 2);
  checkNumber(where, '--lr', opts.lr, 'positive');
  checkNumber(where, '--weight-decay', opts.weightDecay, 'non-negative');
  checkInt(where, '--seed', opts.seed, 0);
  checkInt(where, '--split-seed', opts.splitSeed, 0);
  checkInt(where, '--resamples', opts.resamples, 1);
  if (opts.runDepth !== 'all') checkInt(where, "--run-depth (or 'all')", opts.runDepth, 1);
  if (opts.runFormat !== 'gz' && opts.runFormat !== 'plain') throw usageError(where, `--run-format must be gz or plain, got '${opts.runFormat}'`);
  checkDatasetOptions(where, opts);
}

/** The options shared by `train` and `ablate`. */
function addTrainOptions(cmd: Command): Command {
  cmd
    .option('--retriever <name>', "'default' (embedded static model), a local model folder, or a hub id", 'default')
  addHeadOptions(cmd, 'adapter');
  cmd
    .option('--samples <n>', 'training samples from the train articles, balanced over the non-pivot languages', '2800')
    .option('--train-file <jsonl>', 'train on this JSONL file of {lang, id, queryPivot, queryTarget, docPivot, docTarget} instead')
    .option('--lambda <x>', 'weight of the alignment term (L_JSD or L_NCEpsg in study*, λ of the score JSD in alignment)', '1')
    .option('--temperature <t>', 'temperature τ of the InfoNCE terms (and of the score JSD in alignment, jsd)', '0.05')
    .option('--jsd-temperature <t>', "study*: temperature of L_JSD's softmax over the embedding's dimensions", '1')
    .option('--jsd-raw', 'study*: take that softmax on the embeddings as the head gives them, without L2-normalising inside the loss')
    .option('--epochs <n>', `passes over the samples (default: ${headDefaults('epochs')})`)
    .option('--train-batch-size <n>', `samples per training batch, in-batch negatives (default: ${headDefaults('batchSize')})`)
    .option('--lr <x>', `peak learning rate of AdamW (default: ${headDefaults('lr')})`)
    .option('--weight-decay <x>', `AdamW decoupled weight decay (default: ${headDefaults('weightDecay')})`)
    .option('--seed <n>', 'seed of sampling, initialisation, batch order and bootstrap', '42')
    .option('--split-seed <n>', 'seed of the train/eval article split (default 20240)')
    .option('--dataset <name|folder>', `parallel data trained and evaluated on: ${Object.keys(DATASETS).join(', ')}, or a folder (docs.jsonl + queries.jsonl with optional 'group' kept whole by the split; BEIR)`, 'xquad')
    .option('--belebele-dir <dir>', 'Belebele: folder of <dialect>.jsonl files (its languages; downloaded there when the network allows)')
    .option('--pivot <lang>', "pivot language (default: the dataset's, en for XQuAD, eng_Latn for Belebele)")
    .option('--langs <list>', "query languages evaluated, or 'all'", 'all')
    .option('--query-langs <list>', `query languages of cross and mixed* pools: ${QUERY_LANGS.join(', ')} (comma-separated; both give the study's Query Tgt / Query En)`, 'target')
    .option('--scenarios <list>', `scenarios evaluated, or 'all': ${SCENARIOS.join(', ')}`, 'all')
    .option('--resamples <n>', 'bootstrap resamples for the 95% interval of each delta', '1000')
    .option('--run-depth <n>', "documents per query in the before/after run files, or 'all'", 'all')
    .option('--run-format <f>', "run files: 'gz' (gzip, read back by readRun; zcat for trec_eval) or 'plain'", 'gz')
    .requiredOption('--out <dir>', 'output folder');
  return addEmbedOptions(cmd);
}

/** `static 3, adapter 3, encoder 1`: a loop hyperparameter's default per head, for --help. */
function headDefaults(key: keyof HeadLoopDefaults): string {
  return HEAD_NAMES.map((h) => `${h} ${HEADS[h].defaults[key]}`).join(', ');
}

/** Embedding options a model preset may set: left undefined unless given on the command line (as in eval). */
const PRESET_KEYS = ['pooling', 'queryPrefix', 'passagePrefix', 'normalize'] as const;

function experimentOptions(opts: Record<string, string | undefined>, variant: LossVariant, out: string, cmd: Command): ExperimentOptions {
  const embed = embedOptionsFrom(opts);
  for (const k of PRESET_KEYS) if (cmd.getOptionValueSource(k) === 'default') delete embed[k];
  const scenarios = (opts.scenarios === 'all' ? undefined : list(opts.scenarios!)) as Scenario[] | undefined;
  for (const s of scenarios ?? []) if (!SCENARIOS.includes(s)) throw xlError('xlalign', `unknown scenario '${s}'; use ${SCENARIOS.join(', ')} or all`);
  const loop = { epochs: num('epochs', opts.epochs), batchSize: num('train-batch-size', opts.trainBatchSize), lr: num('lr', opts.lr), weightDecay: num('weight-decay', opts.weightDecay) };
  for (const k of Object.keys(loop) as (keyof typeof loop)[]) if (loop[k] === undefined) delete loop[k];
  const { head, options: headOptions } = headFrom('xlalign', opts, { note: false });
  return {
    model: opts.retriever, head: head.name, headOptions, out, loss: variant, belebeleDir: opts.belebeleDir,
    samples: opts.trainFile ? loadTrainingJsonl(resolve(opts.trainFile)) : undefined, size: num('samples', opts.samples),
    lambda: num('lambda', opts.lambda), temperature: num('temperature', opts.temperature),
    jsdTemperature: num('jsd-temperature', opts.jsdTemperature), jsdNormalize: !opts.jsdRaw, seed: num('seed', opts.seed),
    dataset: opts.dataset, queryLangs: list(opts.queryLangs!) as QueryLangRole[],
    splitSeed: num('split-seed', opts.splitSeed), pivot: opts.pivot, langs: opts.langs === 'all' ? undefined : list(opts.langs!),
    scenarios, loop, embed, resamples: num('resamples', opts.resamples),
    runDepth: opts.runDepth === 'all' ? undefined : Number(opts.runDepth), compressRuns: opts.runFormat !== 'plain',
    log: (line) => process.stderr.write(line + '\n'),
  };
}

/** `xlalign train`: alignment fine-tuning, then evaluation before and after on the eval articles. */
export function trainCommand(): Command {
  const cmd = new Command('train').description(
    "Fine-tune alignment (default: the study's L_JSD + L_NCE) on parallel samples of a dataset's train groups (XQuAD: train articles); evaluate before and after on its eval groups",
  );
  const variants = LOSS_VARIANTS.map((v) => `${v} = ${LOSS_VARIANT_TABLE[v].describe}`).join('; ');
  addTrainOptions(cmd).addOption(new Option('--loss <variant>', variants).choices([...LOSS_VARIANTS]).default(DEFAULT_LOSS));
  cmd.action(async (opts, command: Command) => {
    validateTrainOptions('xlalign train', opts);
    embedOptionsFrom(opts);
    const { runAlignmentExperiment } = await import('../experiments/alignment.js');
    const r = await runAlignmentExperiment(experimentOptions(opts, opts.loss, resolve(opts.out), command));
    process.stdout.write(r.markdown + '\n');
    process.stderr.write(`trained in ${r.trainSeconds.toFixed(1)} s; wrote ${resolve(opts.out)}/before-after.json, deltas.md, metrics.json, loss.csv, config.json\n`);
  });
  return cmd;
}

/** `xlalign ablate`: the study's loss, its ablation rows and our earlier formulation, side by side. */
export function ablateCommand(): Command {
  const cmd = new Command('ablate').description(
    "Train each loss variant (default: the study, its ablation rows and the earlier 'alignment' loss) into <out>/<variant>/ and summarise the deltas side by side",
  );
  addTrainOptions(cmd).option('--variants <list>', `loss variants, or 'all': ${LOSS_VARIANTS.join(', ')}`, ABLATION_VARIANTS.join(','));
  cmd.action(async (opts, command: Command) => {
    validateTrainOptions('xlalign ablate', opts);
    embedOptionsFrom(opts);
    const variants = (opts.variants === 'all' ? LOSS_VARIANTS : list(opts.variants)) as LossVariant[];
    for (const v of variants) if (!LOSS_VARIANTS.includes(v)) throw usageError('xlalign ablate', `unknown loss variant '${v}' in --variants; use ${LOSS_VARIANTS.join(', ')} or all`);
    const { lossPartsByEpoch, runAlignmentExperiment } = await import('../experiments/alignment.js');
    const results = [];
    for (const variant of variants) {
      process.stderr.write(`ablate: ${variant}\n`);
      results.push({ variant, r: await runAlignmentExperiment(experimentOptions(opts, variant, resolve(opts.out, variant), command)) });
    }
    const entries = results.map(({ variant, r }) => ({ variant, name: r.name, trainSeconds: r.trainSeconds, lossParts: lossPartsByEpoch(r.training.history), means: r.means, deltas: r.deltas }));
    const md = ablationMarkdown(entries, `## Loss ablation: ${opts.retriever}, head ${results[0].r.head}, ${results[0].r.evaluatedOn} (mean over languages; Δ with the paired bootstrap 95% interval of that mean, queries resampled within each language)`);
    writeAblation(opts.out, entries, md);
    process.stdout.write(md + '\n');
  });
  return cmd;
}

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { xquadCorpus } from '../data/parallel.js';
import { loadEmbedder } from '../embed/transformers-embedder.js';
import { xlError } from '../errors.js';
import { compareEvaluations, deltaTables } from '../eval/compare.js';
import { writeMetricRows } from '../eval/metric-rows.js';
import { runEvaluation } from '../eval/run-evaluation.js';
import { SCENARIOS, type Scenario } from '../pools/types.js';
import { DenseRetriever } from '../retrieve/dense-retriever.js';
import { defaultModelPath } from '../retrieve/resolve-retriever.js';
import { buildTrainingSamples, loadTrainingJsonl, saveTrainingJsonl } from '../train/dataset.js';
import { fineTuneStaticModel } from '../train/fine-tune-static.js';
import { AlignmentLoss } from '../train/losses/alignment-loss.js';
import { splitCorpus, splitXquadArticles } from '../train/split.js';
import { trainAdapter } from '../train/train-adapter.js';
import { writeFileAtomic } from '../util/fs.js';
import { addEmbedOptions, embedOptionsFrom, list } from './options.js';

/** The loss ablations: the full objective, or one term alone. */
export const LOSS_VARIANTS = ['full', 'infonce', 'jsd'] as const;

/** The metrics of the before/after tables. */
const TRAIN_METRICS = ['ndcg@10', 'r@10', 'maxr', 'maxr.median', 'complete@10', 'pivot_inclination', 'pivot_above'];

/** `xlalign train`: alignment fine-tuning, then evaluation before and after on the eval articles. */
export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('Fine-tune alignment (InfoNCE + λ·JSD) on parallel XQuAD train-article samples; evaluate before and after on the eval articles')
    .option('--retriever <name>', "'default' (embedded static model), a local model folder, or a hub id", 'default')
    .addOption(new Option('--head <head>', "'model': fine-tune the static model's whole embedding table (static models only); 'adapter': a linear map on frozen embeddings (any model)").choices(['model', 'adapter']).default('adapter'))
    .option('--samples <n>', 'training samples from the train articles, balanced over the non-pivot languages', '2800')
    .option('--train-file <jsonl>', 'train on this JSONL file of {lang, id, queryPivot, queryTarget, docPivot, docTarget} instead')
    .addOption(new Option('--loss <variant>', 'full = InfoNCE + λ·JSD; infonce or jsd alone (ablations)').choices([...LOSS_VARIANTS]).default('full'))
    .option('--lambda <x>', 'weight λ of the Jensen-Shannon term', '1')
    .option('--temperature <t>', 'softmax temperature τ of both terms', '0.05')
    .option('--epochs <n>', 'passes over the samples', '3')
    .option('--train-batch-size <n>', 'samples per training batch (in-batch negatives)', '32')
    .option('--lr <x>', 'peak learning rate of AdamW (default: 1e-3)')
    .option('--weight-decay <x>', 'AdamW decoupled weight decay (default: 0.01 adapter, 0 model)')
    .option('--rank <r>', 'adapter: low-rank residual W = I + U·V of this rank (default: full rank)')
    .option('--seed <n>', 'seed of sampling, initialisation and batch order', '42')
    .option('--split-seed <n>', 'seed of the train/eval article split', '20240')
    .option('--pivot <lang>', 'pivot language', 'en')
    .option('--langs <list>', "query languages evaluated, or 'all'", 'all')
    .option('--scenarios <list>', `scenarios evaluated, or 'all': ${SCENARIOS.join(', ')}`, 'all')
    .option('--resamples <n>', 'bootstrap resamples for the 95% interval of each delta', '1000')
    .requiredOption('--out <dir>', 'output folder');
  addEmbedOptions(cmd);
  cmd.action(async (opts) => {
    const out = resolve(opts.out);
    mkdirSync(out, { recursive: true });
    const num = (name: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw xlError('xlalign train', `--${name} must be a number, got '${v}'`);
      return n;
    };
    const seed = num('seed', opts.seed)!;
    const split = splitXquadArticles({ seed: num('split-seed', opts.splitSeed) });
    const samples = opts.trainFile ? loadTrainingJsonl(resolve(opts.trainFile)) : buildTrainingSamples({ size: num('samples', opts.samples), seed, split, pivot: opts.pivot });
    saveTrainingJsonl(resolve(out, 'train-samples.jsonl'), samples);
    const scenarios = (opts.scenarios === 'all' ? [...SCENARIOS] : list(opts.scenarios)) as Scenario[];
    const evalCorpus = splitCorpus(xquadCorpus(), split, 'eval');
    const langs = opts.langs === 'all' ? evalCorpus.langs : list(opts.langs);
    const embed = embedOptionsFrom(opts);
    if (opts.retriever === 'bm25') throw xlError('xlalign train', "--retriever bm25 has nothing to train; use 'default', a model folder or a hub id");
    const modelPath = opts.retriever === 'default' ? defaultModelPath() : opts.retriever;
    const baseName = opts.retriever === 'default' ? 'default' : opts.retriever;
    const lambda = num('lambda', opts.lambda)!;
    const temperature = num('temperature', opts.temperature)!;
    const loss = new AlignmentLoss({
      infoNCEWeight: opts.loss === 'jsd' ? 0 : 1,
      jsdWeight: opts.loss === 'infonce' ? 0 : lambda,
      infoNCE: { temperature },
      jensenShannon: { temperature },
    });
    const loop = {
      epochs: num('epochs', opts.epochs), batchSize: num('train-batch-size', opts.trainBatchSize), seed, loss,
      lr: num('lr', opts.lr), weightDecay: num('weight-decay', opts.weightDecay), lossCsv: resolve(out, 'loss.csv'),
    };
    for (const k of Object.keys(loop) as (keyof typeof loop)[]) if (loop[k] === undefined) delete loop[k];
    const evalOpts = { scenarios, langs, pivot: opts.pivot, metrics: TRAIN_METRICS };
    const log = (tag: string) => (pool: { scenario: string; lang: string }, _r: unknown, s: number, cached: boolean) =>
      process.stderr.write(`${tag} ${pool.scenario} ${pool.lang}: ${s.toFixed(1)} s${cached ? ' (cached)' : ''}\n`);

    const baseEmbedder = await loadEmbedder(modelPath, embed);
    const base = new DenseRetriever(baseEmbedder, { name: baseName });
    const before = await runEvaluation(evalCorpus, base, { ...evalOpts, out: resolve(out, 'before'), onPool: log('before') });

    let afterModel = modelPath;
    let afterEmbed = embed;
    let training: unknown;
    const t0 = performance.now();
    if (opts.head === 'adapter') {
      const { adapter, result, embedSeconds } = await trainAdapter({ embedder: baseEmbedder, samples, rank: num('rank', opts.rank), ...loop, out: resolve(out, 'adapter.safetensors') });
      afterEmbed = { ...embed, adapter };
      training = { head: 'adapter', seconds: result.seconds, embedSeconds, config: result.config, finalLoss: result.history.at(-1)?.loss };
    } else {
      afterModel = resolve(out, 'model');
      const { result } = fineTuneStaticModel({ modelDir: modelPath, samples, outDir: afterModel, ...loop });
      training = { head: 'model', seconds: result.seconds, config: result.config, finalLoss: result.history.at(-1)?.loss };
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    await baseEmbedder.dispose();
    const afterName = `${baseName}+${opts.head === 'adapter' ? 'adapter' : 'aligned'}${opts.loss === 'full' ? '' : `(${opts.loss})`}`;
    const afterEmbedder = await loadEmbedder(afterModel, afterEmbed);
    const after = await runEvaluation(evalCorpus, new DenseRetriever(afterEmbedder, { name: afterName }), { ...evalOpts, out: resolve(out, 'after'), onPool: log('after') });
    await afterEmbedder.dispose();

    const deltas = compareEvaluations(before, after, { seed, resamples: num('resamples', opts.resamples) });
    writeMetricRows(out, [...before.rows, ...after.rows]);
    writeFileAtomic(resolve(out, 'before-after.json'), JSON.stringify(deltas, null, 1) + '\n');
    const md = `## ${afterName} vs ${baseName} on the XQuAD eval articles (${split.eval.length} articles)\n\n${deltaTables(deltas)}`;
    writeFileAtomic(resolve(out, 'deltas.md'), md);
    const config = {
      command: 'train', retriever: opts.retriever, head: opts.head, loss: opts.loss, lambda, temperature, seed, splitSeed: split.seed,
      trainArticles: split.train, evalArticles: split.eval, samples: samples.length, trainFile: opts.trainFile ?? null,
      trainSeconds, training, embed: { ...embed, adapter: undefined }, node: process.version, date: new Date().toISOString(),
    };
    writeFileAtomic(resolve(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    process.stdout.write(md + '\n');
    process.stderr.write(`trained in ${trainSeconds.toFixed(1)} s; wrote ${out}/before-after.json, deltas.md, metrics.json, loss.csv, config.json\n`);
  });
  return cmd;
}

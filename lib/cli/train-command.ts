import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { xlError } from '../util/errors.js';
import { SCENARIOS, type Scenario } from '../pools/types.js';
import { loadTrainingJsonl } from '../train/samples.js';
import { LOSS_VARIANTS, runAlignmentExperiment, type ExperimentOptions, type LossVariant } from '../experiments/alignment.js';
import { writeFileAtomic } from '../util/fs.js';
import { addEmbedOptions, embedOptionsFrom, list } from './options.js';

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw xlError('xlalign', `--${name} must be a number, got '${v}'`);
  return n;
}

/** The options shared by `train` and `ablate`. */
function addTrainOptions(cmd: Command): Command {
  cmd
    .option('--retriever <name>', "'default' (embedded static model), a local model folder, or a hub id", 'default')
    .addOption(new Option('--head <head>', "'model': fine-tune the static model's whole embedding table (static models only); 'adapter': a linear map on frozen embeddings (any model); 'encoder': fine-tune a BERT / XLM-R encoder (folder or hub id with model.safetensors)").choices(['model', 'adapter', 'encoder']).default('adapter'))
    .addOption(new Option('--word-embeddings <mode>', "encoder: 'frozen' word table, or 'sparse' updates of the rows a batch uses").choices(['frozen', 'sparse']).default('frozen'))
    .option('--top-layers <n>', 'encoder: train only the top N layers (default all layers and the embedding block)')
    .option('--micro-batch <n>', 'encoder: texts per forward/backward run (GradCache; default 16)')
    .option('--samples <n>', 'training samples from the train articles, balanced over the non-pivot languages', '2800')
    .option('--train-file <jsonl>', 'train on this JSONL file of {lang, id, queryPivot, queryTarget, docPivot, docTarget} instead')
    .option('--lambda <x>', 'weight λ of the Jensen-Shannon term', '1')
    .option('--temperature <t>', 'softmax temperature τ of both terms', '0.05')
    .option('--epochs <n>', 'passes over the samples (default 3; encoder 1)')
    .option('--train-batch-size <n>', 'samples per training batch, in-batch negatives (default 32)')
    .option('--lr <x>', 'peak learning rate of AdamW (default 1e-3; encoder 2e-5)')
    .option('--weight-decay <x>', 'AdamW decoupled weight decay (default 0.01 adapter, 0 model)')
    .option('--rank <r>', 'adapter: low-rank residual W = I + U·V of this rank (default full rank)')
    .option('--seed <n>', 'seed of sampling, initialisation, batch order and bootstrap', '42')
    .option('--split-seed <n>', 'seed of the train/eval article split (default 20240)')
    .option('--pivot <lang>', 'pivot language', 'en')
    .option('--langs <list>', "query languages evaluated, or 'all'", 'all')
    .option('--scenarios <list>', `scenarios evaluated, or 'all': ${SCENARIOS.join(', ')}`, 'all')
    .option('--resamples <n>', 'bootstrap resamples for the 95% interval of each delta', '1000')
    .requiredOption('--out <dir>', 'output folder');
  return addEmbedOptions(cmd);
}

function experimentOptions(opts: Record<string, string | undefined>, variant: LossVariant, out: string): ExperimentOptions {
  const scenarios = (opts.scenarios === 'all' ? undefined : list(opts.scenarios!)) as Scenario[] | undefined;
  for (const s of scenarios ?? []) if (!SCENARIOS.includes(s)) throw xlError('xlalign', `unknown scenario '${s}'; use ${SCENARIOS.join(', ')} or all`);
  const loop = { epochs: num('epochs', opts.epochs), batchSize: num('train-batch-size', opts.trainBatchSize), lr: num('lr', opts.lr), weightDecay: num('weight-decay', opts.weightDecay) };
  for (const k of Object.keys(loop) as (keyof typeof loop)[]) if (loop[k] === undefined) delete loop[k];
  return {
    model: opts.retriever, head: opts.head as 'model' | 'adapter' | 'encoder', out, loss: variant,
    encoder: { wordEmbeddings: opts.wordEmbeddings as 'frozen' | 'sparse', topLayers: num('top-layers', opts.topLayers), microBatch: num('micro-batch', opts.microBatch) },
    samples: opts.trainFile ? loadTrainingJsonl(resolve(opts.trainFile)) : undefined, size: num('samples', opts.samples),
    lambda: num('lambda', opts.lambda), temperature: num('temperature', opts.temperature), seed: num('seed', opts.seed),
    splitSeed: num('split-seed', opts.splitSeed), pivot: opts.pivot, langs: opts.langs === 'all' ? undefined : list(opts.langs!),
    scenarios, loop, rank: num('rank', opts.rank), embed: embedOptionsFrom(opts), resamples: num('resamples', opts.resamples),
    log: (line) => process.stderr.write(line + '\n'),
  };
}

/** `xlalign train`: alignment fine-tuning, then evaluation before and after on the eval articles. */
export function trainCommand(): Command {
  const cmd = new Command('train').description(
    'Fine-tune alignment (InfoNCE + λ·JSD) on parallel XQuAD train-article samples; evaluate before and after on the eval articles',
  );
  addTrainOptions(cmd).addOption(new Option('--loss <variant>', 'full = InfoNCE + λ·JSD; infonce or jsd alone (ablations)').choices([...LOSS_VARIANTS]).default('full'));
  cmd.action(async (opts) => {
    const r = await runAlignmentExperiment(experimentOptions(opts, opts.loss, resolve(opts.out)));
    process.stdout.write(r.markdown + '\n');
    process.stderr.write(`trained in ${r.trainSeconds.toFixed(1)} s; wrote ${resolve(opts.out)}/before-after.json, deltas.md, metrics.json, loss.csv, config.json\n`);
  });
  return cmd;
}

/** The rows of the ablation summary: the study's headline metrics. */
const ABLATION_VIEW: [string, string][] = [
  // (PivotInclination is the same in mixed and mixed-target: the pivot answer is relevant in one, excluded in the other)
  ['mixed-target', 'pivot_inclination'], ['mixed-target', 'pivot_above'], ['mixed-target', 'maxr'], ['mixed', 'maxr'],
  ['mixed', 'complete@10'], ['mono', 'ndcg@10'],
];

/** `xlalign ablate`: the full loss and each term alone, side by side. */
export function ablateCommand(): Command {
  const cmd = new Command('ablate').description('Train with the full loss, InfoNCE only and JSD only (into <out>/<variant>/) and summarise the deltas side by side');
  addTrainOptions(cmd);
  cmd.action(async (opts) => {
    const results = [];
    for (const variant of LOSS_VARIANTS) {
      process.stderr.write(`ablate: ${variant}\n`);
      results.push({ variant, r: await runAlignmentExperiment(experimentOptions(opts, variant, resolve(opts.out, variant))) });
    }
    const f = (v: number) => v.toFixed(3);
    const lines = [
      `## Loss ablation: ${opts.retriever}, head ${opts.head}, XQuAD eval articles (mean over languages; Δ with the mean of the per-language 95% bootstrap bounds)`, '',
      `| scenario | metric | before | ${LOSS_VARIANTS.map((v) => `Δ ${v}`).join(' | ')} |`, `|---|---|---:|${LOSS_VARIANTS.map(() => '---:').join('|')}|`,
    ];
    for (const [scenario, metric] of ABLATION_VIEW) {
      const cells = results.map(({ r }) => r.deltas.filter((d) => d.scenario === scenario && d.metric === metric));
      if (!cells[0].length) continue;
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const before = mean(cells[0].map((d) => d.before));
      const deltas = cells.map((ds) => {
        const lo = ds.every((d) => d.deltaLow !== undefined) ? ` [${f(mean(ds.map((d) => d.deltaLow!)))}, ${f(mean(ds.map((d) => d.deltaHigh!)))}]` : '';
        const m = mean(ds.map((d) => d.delta));
        return `${m >= 0 ? '+' : ''}${f(m)}${lo}`;
      });
      lines.push(`| ${scenario} | ${metric} | ${f(before)} | ${deltas.join(' | ')} |`);
    }
    lines.push('', `Training seconds: ${results.map(({ variant, r }) => `${variant} ${r.trainSeconds.toFixed(1)}`).join(', ')}.`, '');
    const md = lines.join('\n');
    writeFileAtomic(resolve(opts.out, 'ablation.md'), md);
    writeFileAtomic(resolve(opts.out, 'ablation.json'), JSON.stringify(results.map(({ variant, r }) => ({ variant, name: r.name, trainSeconds: r.trainSeconds, deltas: r.deltas })), null, 1) + '\n');
    process.stdout.write(md + '\n');
  });
  return cmd;
}

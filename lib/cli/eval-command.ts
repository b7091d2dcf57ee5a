import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { belebeleCorpus, xquadCorpus, type ParallelCorpus } from '../data/parallel.js';
import { XQUAD_LANGS } from '../data/xquad.js';
import { xlError } from '../util/errors.js';
import { markdownTables, writeMetricRows, type MetricRow } from '../results/metric-rows.js';
import { DEFAULT_METRICS } from '../metrics/registry.js';
import { runEvaluation } from '../eval/run-evaluation.js';
import { DOC_UNITS, QUERY_LANGS, SCENARIOS, type DocUnit, type QueryLangRole, type Scenario } from '../pools/types.js';
import { resolveRetriever } from '../retrieve/resolve-retriever.js';
import { writeFileAtomic } from '../util/fs.js';
import { embedOptionsFrom, addEmbedOptions, list } from './options.js';

/** `xlalign eval`: evaluate retrievers on every scenario and language of a dataset. */
export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('Evaluate retrievers on mixed-language pools; writes metrics.json, metrics.csv, runs/ and qrels/ into --out')
    .addOption(new Option('--dataset <name>', 'parallel dataset').choices(['xquad', 'belebele']).default('xquad'))
    .option('--retriever <list>', "comma-separated: 'bm25', 'default' (embedded static model), a local model folder, or a hub id such as Xenova/multilingual-e5-small", 'bm25,default')
    .option('--langs <list>', "query languages, comma-separated, or 'all' (XQuAD: ar de el en es hi ro ru th tr vi zh; Belebele: dialect codes such as deu_Latn)", 'all')
    .option('--scenarios <list>', `comma-separated, or 'all': ${SCENARIOS.join(', ')}`, 'all')
    .option('--pivot <lang>', "pivot language (Belebele: a dialect such as eng_Latn)", 'en')
    .option('--metrics <list>', 'metric names', DEFAULT_METRICS.join(','))
    .option('--query-langs <list>', `query languages of cross and mixed* pools, comma-separated: ${QUERY_LANGS.join(', ')} (the pivot)`, 'target')
    .addOption(new Option('--doc-unit <unit>', 'one document per paragraph, or per question (the paragraph repeated)').choices([...DOC_UNITS]).default('paragraph'))
    .option('--belebele-dir <dir>', 'folder with Belebele <dialect>.jsonl files (downloaded there once when the network allows)')
    .option('--no-trec', 'do not write runs/ and qrels/')
    .option('--run-depth <n>', "documents per query in each run file, or 'all' (the whole pool minus exclusions)", 'all')
    .requiredOption('--out <dir>', 'output folder', 'results');
  addEmbedOptions(cmd);
  cmd.action(async (opts) => {
    const out = resolve(opts.out);
    mkdirSync(out, { recursive: true });
    const scenarios = (opts.scenarios === 'all' ? [...SCENARIOS] : list(opts.scenarios)) as Scenario[];
    for (const s of scenarios) if (!SCENARIOS.includes(s)) throw xlError('xlalign eval', `unknown scenario '${s}'; use ${SCENARIOS.join(', ')} or all`);
    let corpus: ParallelCorpus;
    let langs: string[];
    if (opts.dataset === 'xquad') {
      langs = opts.langs === 'all' ? [...XQUAD_LANGS] : list(opts.langs);
      const need = [...new Set([...langs, opts.pivot])];
      for (const l of need) if (!(XQUAD_LANGS as readonly string[]).includes(l)) throw xlError('xlalign eval', `--langs: '${l}' is not an XQuAD language; use ${XQUAD_LANGS.join(', ')} or all`);
      // `multi` pools hold every loaded language: load all 12 when it is asked for
      corpus = xquadCorpus(scenarios.includes('multi') ? XQUAD_LANGS : XQUAD_LANGS.filter((l) => need.includes(l)));
    } else {
      if (opts.langs === 'all') throw xlError('xlalign eval', "--langs: with --dataset belebele, name the dialects (e.g. deu_Latn,spa_Latn)");
      langs = list(opts.langs);
      const need = [...new Set([...langs, opts.pivot])];
      corpus = await belebeleCorpus(Object.fromEntries(need.map((d) => [d, d])), { dir: opts.belebeleDir });
    }
    const metrics = list(opts.metrics);
    const queryLangs = list(opts.queryLangs) as QueryLangRole[];
    for (const q of queryLangs) if (!QUERY_LANGS.includes(q)) throw xlError('xlalign eval', `--query-langs: unknown '${q}'; use ${QUERY_LANGS.join(', ')} (comma-separated)`);
    const docUnit = opts.docUnit as DocUnit;
    const runDepth = opts.runDepth === 'all' ? undefined : Number(opts.runDepth);
    if (runDepth !== undefined && !(Number.isInteger(runDepth) && runDepth > 0)) throw xlError('xlalign eval', `--run-depth must be a positive integer or 'all', got '${opts.runDepth}'`);
    const rows: MetricRow[] = [];
    const retrievers = list(opts.retriever);
    for (const name of retrievers) {
      const retriever = await resolveRetriever(name, { embed: embedOptionsFrom(opts) });
      const res = await runEvaluation(corpus, retriever, {
        scenarios, langs, pivot: opts.pivot, metrics, queryLangs, docUnit, out: opts.trec ? out : undefined, runDepth,
        onPool: (pool, _rows, s, cached) => process.stderr.write(`${retriever.name} ${pool.scenario} ${pool.lang}${pool.queryLang !== pool.lang ? ` (${pool.queryLang} queries)` : ''}: ${pool.queries.length} queries x ${pool.docs.length} documents, ${s.toFixed(1)} s${cached ? " (cached)" : ""}\n`),
      });
      rows.push(...res.rows);
      writeMetricRows(out, rows); // after each retriever, so a killed run keeps what finished
      if ('embedder' in retriever) await (retriever as { embedder: { dispose(): Promise<void> } }).embedder.dispose();
    }
    const config = { command: 'eval', dataset: opts.dataset, retrievers, langs, scenarios, pivot: opts.pivot, metrics, queryLangs, docUnit, runDepth: runDepth ?? 'all', embed: embedOptionsFrom(opts), node: process.version, date: new Date().toISOString() };
    writeFileAtomic(resolve(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    const md = markdownTables(rows);
    writeFileAtomic(resolve(out, 'metrics.md'), md);
    process.stdout.write(md + '\n');
    process.stderr.write(`wrote ${out}/metrics.json, metrics.csv, metrics.md${opts.trec ? ', runs/, qrels/' : ''}\n`);
  });
  return cmd;
}

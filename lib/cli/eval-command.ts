import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { ParallelCorpus } from '../data/parallel.js';
import { XQUAD_LANGS } from '../data/xquad.js';
import { xlError } from '../util/errors.js';
import { markdownTables, writeMetricRows, type MetricRow } from '../results/metric-rows.js';
import { DEFAULT_METRICS } from '../metrics/registry.js';
import type { PoolTruncation } from '../eval/run-evaluation.js';
import { DOC_UNITS, QUERY_LANGS, SCENARIOS, type DocUnit, type QueryLangRole, type Scenario } from '../pools/types.js';
import { writeFileAtomic } from '../util/fs.js';
import { embedOptionsFrom, addEmbedOptions, list } from './options.js';
import { checkInt, checkLangs, checkMetricNames, checkOutputDir, checkRetriever, checkScenarios, checkSomethingToEvaluate, usageError } from './validate.js';

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
    .addOption(new Option('--run-format <f>', "run files: 'plain' TREC text (trec_eval reads it) or 'gz' (gzip, ~4x smaller; readRun reads it, zcat for trec_eval)").choices(['plain', 'gz']).default('plain'))
    .requiredOption('--out <dir>', 'output folder', 'results');
  addEmbedOptions(cmd);
  cmd.action(async (opts) => {
    // every option checked before any work (exit code 2, one line)
    const where = 'xlalign eval';
    const out = checkOutputDir(where, '--out', opts.out);
    const scenarios: Scenario[] = checkScenarios(where, opts.scenarios === 'all' ? 'all' : list(opts.scenarios));
    const metrics = checkMetricNames(where, list(opts.metrics));
    const retrievers = list(opts.retriever);
    if (retrievers.length === 0) throw usageError(where, "--retriever is empty; use bm25, default, a model folder or a hub id (owner/name)");
    for (const name of retrievers) checkRetriever(where, '--retriever', name);
    const runDepth = opts.runDepth === 'all' ? undefined : checkInt(where, "--run-depth (or 'all')", opts.runDepth);
    const embed = embedOptionsFrom(opts);
    const queryLangs = list(opts.queryLangs) as QueryLangRole[];
    if (queryLangs.length === 0) throw usageError(where, `--query-langs is empty; use ${QUERY_LANGS.join(', ')} (comma-separated)`);
    for (const q of queryLangs) if (!QUERY_LANGS.includes(q)) throw usageError(where, `--query-langs: unknown '${q}'; use ${QUERY_LANGS.join(', ')} (comma-separated)`);
    const docUnit = opts.docUnit as DocUnit;
    if (opts.dataset === 'xquad') {
      checkLangs(where, opts.langs === 'all' ? [...XQUAD_LANGS] : list(opts.langs), XQUAD_LANGS);
      checkLangs(where, [opts.pivot], XQUAD_LANGS, '--pivot');
    } else if (opts.langs !== 'all') checkLangs(where, list(opts.langs));
    if (opts.langs !== 'all') checkSomethingToEvaluate(where, scenarios, list(opts.langs), opts.pivot);
    mkdirSync(out, { recursive: true });
    // heavy modules (transformers.js, ONNX Runtime) load only after validation
    const [{ belebeleCorpus, xquadCorpus }, { runEvaluation }, { resolveRetriever }] = await Promise.all([
      import('../data/parallel.js'), import('../eval/run-evaluation.js'), import('../retrieve/resolve-retriever.js'),
    ]);
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
    const rows: MetricRow[] = [];
    const models: Record<string, { id: string; maxLength: number; modelMaxLength: number | null }> = {};
    const truncation: Record<string, Record<string, PoolTruncation>> = {};
    for (const name of retrievers) {
      const retriever = await resolveRetriever(name, { embed });
      const res = await runEvaluation(corpus, retriever, {
        scenarios, langs, pivot: opts.pivot, metrics, queryLangs, docUnit, out: opts.trec ? out : undefined, runDepth,
        cacheDir: opts.cache === false ? false : undefined, force: opts.force === true, compressRuns: opts.runFormat === 'gz',
        onPool: (pool, _rows, s, cached) => process.stderr.write(`${retriever.name} ${pool.scenario} ${pool.lang}${pool.queryLang !== pool.lang ? ` (${pool.queryLang} queries)` : ''}: ${pool.queries.length} queries x ${pool.docs.length} documents, ${s.toFixed(1)} s${cached ? ' (cached)' : ''}\n`),
      });
      rows.push(...res.rows);
      writeMetricRows(out, rows); // after each retriever, so a killed run keeps what finished
      if (res.truncation && Object.keys(res.truncation).length) {
        truncation[name] = res.truncation;
        for (const [pool, t] of Object.entries(res.truncation)) {
          if (t.queries + t.docs > 0) process.stderr.write(`${retriever.name} ${pool}: ${t.docs} documents and ${t.queries} queries longer than ${t.maxLength} tokens were truncated\n`);
        }
      }
      if ('embedder' in retriever) {
        const emb = (retriever as unknown as { embedder: { id: string; config?: { maxLength: number; modelMaxLength?: number }; dispose(): Promise<void> } }).embedder;
        models[name] = { id: emb.id, maxLength: emb.config?.maxLength ?? 0, modelMaxLength: emb.config?.modelMaxLength ?? null };
        await emb.dispose();
      }
    }
    // models: content hash (in the id) and the effective token limit; truncation: texts cut per pool
    const config = { command: 'eval', dataset: opts.dataset, retrievers, langs, scenarios, pivot: opts.pivot, metrics, queryLangs, docUnit, runDepth: runDepth ?? 'all', runFormat: opts.runFormat, embed: { ...embed, force: undefined }, models, truncation, node: process.version, date: new Date().toISOString() };
    writeFileAtomic(resolve(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    const md = markdownTables(rows);
    writeFileAtomic(resolve(out, 'metrics.md'), md);
    process.stdout.write(md + '\n');
    process.stderr.write(`wrote ${out}/metrics.json, metrics.csv, metrics.md${opts.trec ? ', runs/, qrels/' : ''}\n`);
  });
  return cmd;
}

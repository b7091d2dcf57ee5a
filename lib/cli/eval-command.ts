import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { checkCorpusNeeds, type CorpusNeed } from '../data/corpus-rows.js';
import { DATASETS, resolveDataset } from '../data/registry.js';
import { xlError } from '../util/errors.js';
import { accumulateMetricRows, markdownTables, readMetricRows, type MetricRow } from '../results/metric-rows.js';
import { checkFolderSettings, recordEvaluation, recordSettings } from '../results/config.js';
import { registerRetrievers } from '../results/retrievers.js';
import { writePoolLanguages } from '../results/pool-langs.js';
import { settingsId, type EvalSettings } from '../results/settings.js';
import { canonicalLangTag, isEnglishTag, matchLangTag } from '../data/lang-tag.js';
import { DEFAULT_METRICS } from '../metrics/registry.js';
import type { PoolTruncation } from '../eval/run-evaluation.js';
import { missingPools, poolPlan, type MissingPool } from '../pools/build-pool.js';
import { estimateRunVolume, runVolumeNotice } from '../eval/run-volume.js';
import { scenarioLangs } from '../pools/scenario-langs.js';
import { DOC_UNITS, QUERY_LANGS, SCENARIOS, poolName, type DocUnit, type QueryLangRole, type Scenario } from '../pools/types.js';
import type { RetrieverSpec } from '../retrieve/resolve-retriever.js';
import { embedOptionsFrom, addEmbedOptions, list } from './options.js';
import { checkExists, checkInt, checkLangs, checkMetricNames, checkOutputDir, checkRetriever, checkScenarios, checkSomethingToEvaluate, usageError } from './validate.js';

/** Options a model preset may set: left `undefined` unless given on the command line. */
const PRESET_KEYS = ['pooling', 'queryPrefix', 'passagePrefix', 'normalize'] as const;

/** The language of every query and document of a pool, one `id<TAB>lang` a line (for `xlalign score --pool`). */
export { poolLanguageLines } from '../results/pool-langs.js';

/** `xlalign eval`: evaluate retrievers on every scenario and language of a dataset. */
export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('Evaluate retrievers on mixed-language pools; merges rows into metrics.json, metrics.csv, metrics.md and writes runs/ and qrels/ into --out')
    .option('--dataset <name|folder>', `${Object.keys(DATASETS).join(', ')}, or a folder: an own dataset (docs.jsonl + queries.jsonl [+ meta.json]) or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)`, 'xquad')
    .option('--retriever <list>', "comma-separated: 'bm25', 'default' (embedded static model), a local model folder, or a hub id such as Xenova/multilingual-e5-small", 'bm25,default')
    .option('--adapter <path>', 'an adapter file (adapter.safetensors written by xlalign train --head adapter), applied by the embedder to every dense retriever; their names get +<adapter>')
    .option('--name <list>', 'names of the retrievers in outputs, comma-separated in --retriever order (default: bm25, default, the folder name, or a path-derived name when two differ only in path)')
    .option('--langs <list>', "query languages, comma-separated, or 'all' (XQuAD: ar de el en es hi ro ru th tr vi zh; Belebele: dialect codes such as deu_Latn; a folder: its languages)", 'all')
    .option('--scenarios <list>', `comma-separated, or 'all': ${SCENARIOS.join(', ')}`, 'all')
    .option('--pivot <lang>', "pivot language (default: the dataset's: en for XQuAD, eng_Latn for Belebele, meta.json's pivot for a folder)")
    .option('--metrics <list>', 'metric names', DEFAULT_METRICS.join(','))
    .option('--query-langs <list>', `query languages of cross and mixed* pools, comma-separated: ${QUERY_LANGS.join(', ')} (the pivot)`, 'target')
    .addOption(new Option('--doc-unit <unit>', 'one document per paragraph, or per question (the paragraph repeated)').choices([...DOC_UNITS]).default('paragraph'))
    .option('--belebele-dir <dir>', 'folder with Belebele <dialect>.jsonl files (downloaded there once when the network allows)')
    .option('--no-trec', 'do not write runs/ and qrels/')
    .option('--run-depth <n>', "documents per query in each run file, or 'all' (the whole pool minus exclusions)", 'all')
    .addOption(new Option('--run-format <f>', "run files: 'plain' TREC text (trec_eval reads it) or 'gz' (gzip, 5-10x smaller; readRun and score read it, zcat for trec_eval)").choices(['plain', 'gz']).default('plain'))
    .option('--allow-partial', 'go on when a requested scenario or language cannot be built (e.g. --langs naming the pivot with cross/mixed*): list it, record it in config.json, exit 0')
    .option('--include-train', 'evaluate all of a dataset even when a retriever was trained on part of it (default: the held-out part its training-data record names); the settings say so')
    .option('--out <dir>', "output folder; rows of earlier evaluations there are kept (recomputed ones with the same settings replaced); an evaluation whose settings differ from the folder's (pivot, doc unit, model, ...) is refused", 'out');
  addEmbedOptions(cmd);
  cmd.action(async (opts) => {
    const where = 'xlalign eval';
    // every option checked before any work (exit code 2, one line; lib/cli/validate.ts)
    const out = checkOutputDir(where, '--out', opts.out);
    const scenarios: Scenario[] = checkScenarios(where, opts.scenarios === 'all' ? 'all' : list(opts.scenarios));
    const metrics = checkMetricNames(where, list(opts.metrics));
    const models = list(opts.retriever);
    if (models.length === 0) throw usageError(where, '--retriever is empty; use bm25, default, a model folder or a hub id (owner/name)');
    for (const model of models) checkRetriever(where, '--retriever', model);
    const runDepth = opts.runDepth === 'all' ? undefined : checkInt(where, "--run-depth (or 'all')", opts.runDepth);
    if (opts.adapter !== undefined) checkExists(where, '--adapter', opts.adapter, 'file');
    const queryLangs = list(opts.queryLangs) as QueryLangRole[];
    if (queryLangs.length === 0) throw usageError(where, `--query-langs is empty; use ${QUERY_LANGS.join(', ')} (comma-separated)`);
    for (const q of queryLangs) if (!QUERY_LANGS.includes(q)) throw usageError(where, `--query-langs: unknown '${q}'; use ${QUERY_LANGS.join(', ')} (comma-separated)`);
    embedOptionsFrom(opts); // batch size, max length, threads

    // the dataset: a registered name or a folder, validated before any work
    const dataset = resolveDataset(opts.dataset);
    // language tags match case-insensitively and take the dataset's form (DE = de, EN-us = en-US)
    const asKnown = (l: string) => (dataset.languages ? (matchLangTag(l, dataset.languages) ?? l) : canonicalLangTag(l));
    const pivot: string = opts.pivot !== undefined ? asKnown(opts.pivot) : dataset.defaultPivot;
    // a pivot that is not English was taken from meta.json or is the first language: say so
    if (opts.pivot === undefined && !isEnglishTag(pivot)) process.stderr.write(`pivot: ${pivot} (the dataset's meta.json pivot, else its first language: it has no English tag such as en, en-US, eng_Latn; --pivot to choose)\n`);
    let langs: string[];
    if (opts.langs === 'all') {
      if (!dataset.languages) throw xlError(where, `--langs: with --dataset ${dataset.name}, name the languages (e.g. deu_Latn,spa_Latn)`);
      langs = [...dataset.languages];
    } else langs = [...new Set(checkLangs(where, list(opts.langs)).map(asKnown))];
    if (dataset.languages) {
      for (const l of new Set([...langs, pivot])) {
        if (!dataset.languages.includes(l)) throw usageError(where, `--langs: '${l}' is not a language of ${dataset.name}; use ${dataset.languages.join(', ')} or all`);
      }
    }
    checkSomethingToEvaluate(where, scenarios, langs, pivot);
    // requested pools that cannot be built: an error before any work, unless --allow-partial
    const missing: MissingPool[] = opts.langs === 'all' ? [] : missingPools(scenarios, langs, pivot);
    if (missing.length) {
      const what = missing.map((m) => `${m.scenario} ${m.lang}`).join(', ');
      if (!opts.allowPartial) throw usageError(where, `cannot build ${what}: ${missing[0].reason}; drop '${missing[0].lang}' from --langs, choose another --pivot, or pass --allow-partial`);
      process.stderr.write(`not built (--allow-partial): ${missing.map((m) => `${m.scenario} ${m.lang} (${m.reason})`).join('; ')}\n`);
    }
    // heavy modules (transformers.js, ONNX Runtime) load only after validation
    const [{ runEvaluation, evaluationSettings, poolSettings }, { resolveRetriever, retrieverKey, retrieverNames, defaultModelPath }, { loadAdapter }, leakage] = await Promise.all([
      import('../eval/run-evaluation.js'), import('../retrieve/resolve-retriever.js'), import('../train/adapter.js'), import('../eval/leakage.js'),
    ]);
    // `multi` pools hold every loaded language: load all of them when it is asked for
    const load = scenarios.includes('multi') && dataset.languages ? [...dataset.languages] : [...new Set([...langs, pivot])];
    const fullCorpus = await dataset.load({ langs: load, belebeleDir: opts.belebeleDir });
    const docUnit = opts.docUnit as DocUnit;

    // retrievers and their training records: a retriever trained on groups of this dataset is
    // evaluated on the held-out groups (all of them with --include-train); overlap with a
    // model's training lines (the default model's Tatoeba lines) is warned about
    const names = opts.name ? list(opts.name) : [];
    if (opts.name && names.length !== models.length) throw xlError(where, `--name: ${names.length} names for ${models.length} retrievers; give one per --retriever entry`);
    if (opts.adapter && !existsSync(opts.adapter)) throw xlError(where, `--adapter: no file ${resolve(opts.adapter)}`);
    const adapter = opts.adapter ? loadAdapter(resolve(opts.adapter)) : undefined;
    const specs: RetrieverSpec[] = models.map((model, i) => ({ model, adapter: adapter && model !== 'bm25' ? resolve(opts.adapter) : undefined, name: names[i] }));
    const trained = specs.flatMap((s) => leakage.trainingRecords({ model: s.model, modelDir: s.model === 'default' ? defaultModelPath() : undefined, adapterPath: s.adapter, adapterTraining: s.adapter ? adapter?.training : undefined }));
    const { corpus, split, notes } = leakage.heldOutPart(fullCorpus, trained, { includeTrain: opts.includeTrain === true });
    const warnings = [...notes.filter((n) => n.startsWith('warning:')), ...leakage.overlapWarnings(corpus, trained)];
    for (const n of [...notes.filter((x) => !x.startsWith('warning:')), ...warnings]) process.stderr.write(n + '\n');

    const plan = poolPlan(corpus, { scenarios, langs, pivot, queryLangs });
    if (plan.length === 0) throw xlError(where, `nothing to evaluate: scenarios ${scenarios.join(', ')} with --langs ${langs.join(',')} and pivot ${pivot} give no pool`);
    // every query of each planned pool needs its documents in every language of the pool
    const needs: CorpusNeed[] = plan.map(({ scenario, lang, queries }) => {
      const s = scenarioLangs(scenario, lang, pivot, corpus.langs, queries);
      return { lang: s.queryLang, relevantLangs: s.docLangs, why: `scenario '${scenario}' (pivot '${pivot}')` };
    });
    checkCorpusNeeds(corpus, needs);
    if (opts.trec) {
      // a large volume of run files is announced before any is written (lib/eval/run-volume.ts)
      const compressRuns = opts.runFormat === 'gz';
      const volume = runVolumeNotice(estimateRunVolume(corpus, { scenarios, langs, pivot, queryLangs, docUnit, runDepth, compressRuns, retrievers: models.length }), { runDepth, compressRuns });
      if (volume) process.stderr.write(volume + '\n');
    }

    mkdirSync(out, { recursive: true });
    if (opts.trec) {
      const other = readMetricRows(out).find((r) => r.dataset !== corpus.name);
      if (other) throw xlError(where, `${out} holds results of dataset '${other.dataset}'; runs/ and qrels/ of '${corpus.name}' would overwrite its TREC files: use another --out, or --no-trec`);
    }
    // provenance: a folder holds one setting per dataset (pivot, doc unit, split, content) and
    // per retriever name (model, pooling, prefixes, length, adapter, run depth, ties, version)
    const provenance = { source: DATASETS[opts.dataset] ? opts.dataset : resolve(opts.dataset), split };
    checkFolderSettings(out, poolSettings(corpus, { pivot, docUnit, runDepth, provenance }), where);
    const embedBase = embedOptionsFrom(opts);
    for (const k of PRESET_KEYS) if (cmd.getOptionValueSource(k) === 'default') delete embedBase[k];
    const assigned = await registerRetrievers(out, (taken) => {
      const fresh = retrieverNames(specs, taken);
      return fresh.map((n, i) => [n, { key: retrieverKey(specs[i]), model: specs[i].model, ...(specs[i].adapter ? { adapter: specs[i].adapter } : {}), dataset: corpus.name }]);
    });

    // what is known of each retriever before its model loads (run depth, ties, version, adapter) is checked now, the rest before its evaluation
    const pool = poolSettings(corpus, { pivot, docUnit, runDepth, provenance });
    const adapterSettings = (spec: RetrieverSpec) => (spec.adapter && adapter ? { path: spec.adapter, sha256: adapter.id } : null);
    for (const [i, spec] of specs.entries()) {
      checkFolderSettings(out, { ...pool, retriever: { name: assigned[i], adapter: adapterSettings(spec) } }, where, { retrieverFields: ['runDepth', 'ties', 'version', ...(spec.model === 'bm25' ? [] : ['retriever.adapter'])] });
    }

    const rows: MetricRow[] = [];
    const retrievers: Record<string, unknown>[] = [];
    const truncation: Record<string, Record<string, PoolTruncation>> = {};
    const settings: Record<string, EvalSettings> = {};
    for (const [i, spec] of specs.entries()) {
      const retriever = await resolveRetriever(spec.model, { embed: { ...embedBase, adapter: spec.adapter ? adapter : undefined }, name: assigned[i] });
      const preset = 'embedPreset' in retriever ? retriever.embedPreset : undefined;
      if (preset?.preset) process.stderr.write(`${retriever.name}: preset ${preset.preset} (${Object.entries(preset.applied).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ') || 'all overridden'})\n`);
      const embedder = (retriever as { embedder?: { id?: string; config?: Record<string, unknown>; describe?: () => Record<string, unknown>; summary?: (n: string) => string; moduleChain?: { source: string } } }).embedder;
      if (embedder?.moduleChain?.source === 'sentence-transformers' && embedder.summary) process.stderr.write(embedder.summary(retriever.name) + '\n');
      const embedConfig = embedder?.config;
      const runProvenance = { ...provenance, model: spec.model !== 'bm25' && spec.model !== 'default' && existsSync(spec.model) ? resolve(spec.model) : spec.model, adapterPath: spec.adapter };
      // refused before the retriever's work when its settings differ from the folder's
      const s = evaluationSettings(corpus, retriever, { pivot, docUnit, runDepth, provenance: runProvenance });
      await recordSettings(out, settingsId(s), s, where);
      settings[settingsId(s)] = s;
      retrievers.push({
        name: retriever.name, model: spec.model, adapter: spec.adapter ?? null, preset: preset?.preset ?? null, presetApplied: preset?.applied ?? {}, settings: settingsId(s),
        // the model's identity (a folder's content hash) and the effective token limit
        modelId: embedder?.id ?? null, maxLength: embedConfig?.maxLength ?? null, modelMaxLength: embedConfig?.modelMaxLength ?? null,
        embed: embedConfig ? { ...embedConfig, adapter: spec.adapter ?? undefined, force: undefined } : undefined,
        moduleChain: embedder?.describe?.(), // what the model folder said (sentence-transformers modules, prompts) and what the flags overrode
      });
      const res = await runEvaluation(corpus, retriever, {
        scenarios, langs, pivot, metrics, queryLangs, docUnit, out: opts.trec ? out : undefined, runDepth, provenance: runProvenance,
        cacheDir: opts.cache === false ? false : undefined, force: opts.force === true, compressRuns: opts.runFormat === 'gz',
        onPool: (pool, _rows, sec, cached) => {
          if (opts.trec) writePoolLanguages(resolve(out, 'qrels', `${poolName(pool)}.langs.tsv`), pool);
          process.stderr.write(`${retriever.name} ${pool.scenario} ${pool.lang}${pool.queryLang !== pool.lang ? ` (${pool.queryLang} queries)` : ''}: ${pool.queries.length} queries x ${pool.docs.length} documents, ${sec.toFixed(1)} s${cached ? ' (cached)' : ''}\n`);
        },
      });
      rows.push(...res.rows);
      await accumulateMetricRows(out, res.rows); // after each retriever, so a killed run keeps what finished
      if (res.truncation && Object.keys(res.truncation).length) {
        truncation[retriever.name] = res.truncation;
        for (const [pool, t] of Object.entries(res.truncation)) {
          if (t.queries + t.docs > 0) process.stderr.write(`${retriever.name} ${pool}: ${t.docs} documents and ${t.queries} queries longer than ${t.maxLength} tokens were truncated\n`);
        }
      }
      if ('embedder' in retriever) await (retriever as { embedder: { dispose(): Promise<void> } }).embedder.dispose();
    }
    const date = new Date().toISOString();
    const config = {
      command: 'eval', dataset: corpus.name, datasetSource: provenance.source, retrievers, langs, scenarios, pivot, metrics, split,
      queryLangs, docUnit, runDepth: runDepth ?? 'all', runFormat: opts.runFormat, embed: { ...embedOptionsFrom(opts), force: undefined }, truncation, node: process.version, date,
    };
    await recordEvaluation(out, config, {
      record: { command: 'eval', date, argv: process.argv.slice(2), settings: Object.keys(settings), rows: rows.length, ...(missing.length ? { missing } : {}), ...(warnings.length ? { warnings } : {}) },
      settings,
    });
    process.stdout.write(markdownTables(rows) + '\n');
    process.stderr.write(`merged ${rows.length} rows into ${out}/metrics.json, metrics.csv, metrics.md${opts.trec ? '; wrote runs/, qrels/' : ''}; config.json records this evaluation (settings ${Object.keys(settings).join(', ')})\n`);
  });
  return cmd;
}

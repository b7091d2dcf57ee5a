import { readPoolLanguages } from '../results/pool-langs.js';
import { recordEvaluation } from '../results/config.js';
import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import { isPlainLangTag } from '../data/lang-tag.js';
import { evaluate } from '../metrics/evaluate.js';
import { DEFAULT_METRICS, definedForPool, parseMetric } from '../metrics/registry.js';
import { accumulateMetricRows, type MetricRow } from '../results/metric-rows.js';
import { readQrels, readRun } from '../runs/trec-io.js';
import type { Qrels, Run } from '../runs/types.js';
import { xlError } from '../util/errors.js';
import { list } from './options.js';
import { checkExists, checkMetricNames, checkOutputDir } from './validate.js';

/** Language of every query id and document id (the shape `evaluate` takes). */
export interface IdLanguageMaps {
  queries: Map<string, string>;
  docs: Map<string, string>;
}

export { readPoolLanguages } from '../results/pool-langs.js';

/**
 * The `<lang>-<id>` convention, when the user says ids follow it: the language is the
 * longest of `langs` that the id starts with followed by '-'; without `langs`, everything
 * before the first '-' (so `en-US` tags need `--langs`).
 *
 * @throws XlalignError for an id without a language prefix.
 * @example langFromId('en-US-q1', ['en-US', 'de']) // 'en-US'
 */
export function langFromId(id: string, langs: readonly string[] = []): string {
  const known = langs.filter((l) => id.startsWith(`${l}-`) && id.length > l.length + 1).sort((a, b) => b.length - a.length)[0];
  if (known) return known;
  const i = id.indexOf('-');
  if (langs.length === 0 && i > 0 && isPlainLangTag(id.slice(0, i))) return id.slice(0, i);
  throw xlError('xlalign score', `--lang-from-id: id '${id}' does not start with ${langs.length ? `one of ${langs.map((l) => `'${l}-'`).join(', ')}` : "'<lang>-'"}`);
}

/** Options of {@link scoreRun}. */
export interface ScoreRunOptions {
  /** Metric names. Default: `DEFAULT_METRICS`, without the pivot metrics when no languages are given. */
  metrics?: readonly string[];
  /** Pivot language of the pivot metrics. Default `en`. */
  pivot?: string;
  /** Language of each id; needed by the pivot metrics. */
  languages?: (id: string) => string | undefined;
}

/**
 * Score a run against qrels with the engine and tie order of `xlalign eval` (`evaluate` of
 * `lib/metrics`). Metrics the registry does not define for these files are left out, as eval
 * does (the pivot metrics without pivot documents or for pivot-language queries, Complete@k
 * when a query has more than k relevant documents), and any metric whose mean is not finite.
 * |D_q| (for `maxr_norm`) is the query's ranking length, as in a whole-pool run file (eval's
 * default `--run-depth all`). Returns the means.
 *
 * @throws XlalignError when a pivot metric is asked for without languages, or an id has no language.
 * @example scoreRun(readQrels('out/qrels/mixed.de.qrels'), readRun('out/runs/bm25/mixed.de.run'), { languages: (id) => langs.get(id) })
 */
export function scoreRun(qrels: Qrels, run: Run, options: ScoreRunOptions = {}): Record<string, number> {
  const { pivot = 'en', languages } = options;
  const needsLanguages = (m: string) => parseMetric(m).definition.needsLanguages === true;
  let metrics = [...(options.metrics ?? DEFAULT_METRICS.filter((m) => languages || !needsLanguages(m)))];
  let maps: IdLanguageMaps | undefined;
  if (languages) {
    maps = { queries: new Map(), docs: new Map() };
    const need = (id: string, into: Map<string, string>) => {
      if (into.has(id)) return;
      const l = languages(id);
      if (l === undefined) throw xlError('xlalign score', `id '${id}' has no language in the pool file`);
      into.set(id, l);
    };
    for (const q of new Set([...Object.keys(qrels), ...Object.keys(run)])) need(q, maps.queries);
    for (const q in qrels) for (const d in qrels[q]) need(d, maps.docs);
    for (const q in run) for (const d of run[q].ids) need(d, maps.docs);
  } else {
    const p = metrics.find(needsLanguages);
    if (p) throw xlError('xlalign score', `metric '${p}' needs each id's language: give --pool FILE (id<TAB>lang lines; xlalign eval writes qrels/<pool>.langs.tsv) or --lang-from-id`);
  }
  // what eval knows of a pool, from the files: the registry's "defined for this pool" filter
  let minRelevant = Number.POSITIVE_INFINITY;
  for (const q in qrels) {
    const n = Object.values(qrels[q]).filter((r) => r > 0).length;
    if (n > 0 && n < minRelevant) minRelevant = n;
  }
  const queryLangCounts = new Map<string, number>();
  for (const l of maps?.queries.values() ?? []) queryLangCounts.set(l, (queryLangCounts.get(l) ?? 0) + 1);
  const queryLang = [...queryLangCounts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  const facts = { scenario: 'run', docLangs: [...new Set(maps?.docs.values() ?? [])], queryLang, pivot, minRelevant };
  metrics = metrics.filter((m) => definedForPool(m, facts));
  const ev = evaluate(qrels, run, metrics, { pivot, languages: maps });
  const mean: Record<string, number> = {};
  for (const m of metrics) if (ev.mean[m] !== undefined && Number.isFinite(ev.mean[m])) mean[m] = ev.mean[m];
  return mean;
}

/** `xlalign score`: metrics of an existing TREC run against qrels. */
export function scoreCommand(): Command {
  return new Command('score')
    .description(
      "Score a TREC run file against a TREC qrels file with eval's metrics and tie order. Pivot metrics need each id's language: --pool FILE (id<TAB>lang a line, or JSONL {id, lang}; eval writes qrels/<pool>.langs.tsv), or --lang-from-id (ids are <lang>-<id>)",
    )
    .requiredOption('--run <file>', 'TREC run: qid Q0 docid rank score tag')
    .requiredOption('--qrels <file>', 'TREC qrels: qid 0 docid relevance')
    .option('--metrics <list>', `metric names (default: ${DEFAULT_METRICS.join(',')}; the pivot metrics only with languages)`)
    .option('--pivot <lang>', 'pivot language of the pivot metrics', 'en')
    .option('--pool <file>', 'language of every query and document id: id<TAB>lang lines or JSONL {"id","lang"}')
    .option('--lang-from-id', "take each id's language from its '<lang>-' prefix (the longest of --langs when given, else up to the first '-')")
    .option('--langs <list>', 'with --lang-from-id: the language tags ids start with (needed for tags with a hyphen, e.g. en-US)')
    .option('--out <dir>', 'also merge the rows into <dir>/metrics.json, metrics.csv, metrics.md')
    .option('--dataset <name>', 'dataset in the rows', 'trec')
    .option('--retriever <name>', "retriever in the rows (default: the run file's folder name)")
    .option('--scenario <name>', "scenario in the rows (default: from a '<scenario>.<lang>.run' file name, else 'run')")
    .option('--lang <lang>', "lang in the rows (default: from a '<scenario>.<lang>.run' file name, else 'all')")
    .option('--query-lang <lang>', 'queryLang in the rows (default: lang)')
    .action(async (opts) => {
      if (opts.pool && opts.langFromId) throw xlError('xlalign score', 'give --pool or --lang-from-id, not both');
      // options checked before any work (exit code 2, one line; lib/cli/validate.ts)
      checkExists('xlalign score', '--run', opts.run, 'file');
      checkExists('xlalign score', '--qrels', opts.qrels, 'file');
      if (opts.pool) checkExists('xlalign score', '--pool', opts.pool, 'file');
      if (opts.metrics) checkMetricNames('xlalign score', list(opts.metrics));
      if (opts.out) checkOutputDir('xlalign score', '--out', opts.out);
      const langs = opts.langs ? list(opts.langs) : [];
      const pool = opts.pool ? readPoolLanguages(resolve(opts.pool)) : undefined;
      const languages = pool ? (id: string) => pool.get(id) : opts.langFromId ? (id: string) => langFromId(id, langs) : undefined;
      const qrels = readQrels(resolve(opts.qrels));
      const run = readRun(resolve(opts.run));
      const mean = scoreRun(qrels, run, { metrics: opts.metrics ? list(opts.metrics) : undefined, pivot: opts.pivot, languages });
      const m = /^(.+)\.([^.]+)\.run(\.gz)?$/.exec(basename(opts.run));
      const lang: string = opts.lang ?? m?.[2] ?? 'all';
      const row = { dataset: opts.dataset, retriever: opts.retriever ?? basename(resolve(opts.run, '..')), scenario: opts.scenario ?? m?.[1] ?? 'run', lang, queryLang: opts.queryLang ?? lang };
      const rows: MetricRow[] = Object.entries(mean).map(([metric, value]) => ({ ...row, metric, value }));
      process.stdout.write(['| metric | value |', '|---|---:|', ...rows.map((r) => `| ${r.metric} | ${Number.isInteger(r.value) ? r.value : r.value.toFixed(4)} |`)].join('\n') + '\n');
      if (opts.out) {
        await accumulateMetricRows(resolve(opts.out), rows);
        // config.json records every evaluation that wrote into the folder (score's rows carry no settings id: how the run was made is not known here)
        await recordEvaluation(resolve(opts.out), undefined, { record: { command: 'score', date: new Date().toISOString(), argv: process.argv.slice(2), settings: [], rows: rows.length, run: resolve(opts.run), qrels: resolve(opts.qrels) } });
        process.stderr.write(`merged ${rows.length} rows into ${resolve(opts.out)}/metrics.json, metrics.csv, metrics.md\n`);
      }
    });
}

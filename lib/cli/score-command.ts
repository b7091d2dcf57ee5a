import { recordEvaluation } from '../results/config.js';
import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_METRICS } from '../metrics/registry.js';
import { accumulateMetricRows, type MetricRow } from '../results/metric-rows.js';
import { readQrels, readRun } from '../runs/trec-io.js';
import { TIE_POLICIES, type TiePolicy } from '../runs/ranking.js';
import { langFromId, readPoolLanguages, scoreRun } from '../eval/score-run.js';
import { xlError } from '../util/errors.js';
import { list } from './options.js';
import { checkExists, checkMetricNames, checkOutputDir, usageError } from './validate.js';

/** A row of `score --out`: a metric row plus how it was scored (extra fields of metrics.json). */
interface ScoreRow extends MetricRow {
  ties: TiePolicy;
  /** Queries in this metric's mean. */
  queries: number;
  /** Queries left out of every mean, by reason. */
  skippedQueries: Record<string, number>;
}

/** `xlalign score`: metrics of an existing TREC run against qrels (library: lib/eval/score-run.ts). */
export function scoreCommand(): Command {
  return new Command('score')
    .description(
      "Score a TREC run file against a TREC qrels file with eval's metrics, trec_eval's tie order (--ties) and query counting: every qrels query is scored (one judged only 0 scores 0, as in trec_eval; one missing from the run is an empty ranking, as trec_eval -c), an empty run or one sharing no query id with the qrels is refused. Reads the run's score column (what trec_eval reads). Pivot metrics need each id's language: --pool FILE (id<TAB>lang a line, or JSONL {id, lang}; eval writes qrels/<pool>.langs.tsv), or --lang-from-id (ids are <lang>-<id>)",
    )
    .requiredOption('--run <file>', 'TREC run: qid Q0 docid rank score tag')
    .requiredOption('--qrels <file>', 'TREC qrels: qid 0 docid relevance')
    .option('--metrics <list>', `metric names (default: ${DEFAULT_METRICS.join(',')}; the pivot metrics only with languages)`)
    .option('--ties <policy>', `order of equal scores: trec_eval (document id descending, as trec_eval) or pessimistic (non-relevant first, as xlalign eval)`, 'trec_eval')
    .option('--run-queries-only', 'skip qrels queries missing from the run (default: score them as empty rankings, as trec_eval -c)')
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
      if (!(TIE_POLICIES as readonly string[]).includes(opts.ties)) throw usageError('xlalign score', `--ties '${opts.ties}'; use ${TIE_POLICIES.join(' or ')}`);
      if (opts.out) checkOutputDir('xlalign score', '--out', opts.out);
      const langs = opts.langs ? list(opts.langs) : [];
      const pool = opts.pool ? readPoolLanguages(resolve(opts.pool)) : undefined;
      const languages = pool ? (id: string) => pool.get(id) : opts.langFromId ? (id: string) => langFromId(id, langs) : undefined;
      const qrels = readQrels(resolve(opts.qrels));
      // the score column, as trec_eval reads it (an eval export's column is its evaluated order)
      const run = readRun(resolve(opts.run), { rawScores: false });
      const r = scoreRun(qrels, run, {
        metrics: opts.metrics ? list(opts.metrics) : undefined, pivot: opts.pivot, languages, ties: opts.ties as TiePolicy,
        runQueriesOnly: opts.runQueriesOnly === true, runName: opts.run, qrelsName: opts.qrels,
      });
      const m = /^(.+)\.([^.]+)\.run(\.gz)?$/.exec(basename(opts.run));
      const lang: string = opts.lang ?? m?.[2] ?? 'all';
      const row = { dataset: opts.dataset, retriever: opts.retriever ?? basename(resolve(opts.run, '..')), scenario: opts.scenario ?? m?.[1] ?? 'run', lang, queryLang: opts.queryLang ?? lang };
      const skippedQueries: Record<string, number> = {};
      if (r.unjudged) skippedQueries['run queries without judgments'] = r.unjudged;
      if (r.missingFromRun && opts.runQueriesOnly) skippedQueries['qrels queries missing from the run'] = r.missingFromRun;
      const rows: ScoreRow[] = Object.entries(r.mean).map(([metric, value]) => ({ ...row, metric, value, ties: r.ties, queries: r.counts[metric], skippedQueries }));
      process.stdout.write(['| metric | value | queries |', '|---|---:|---:|', ...rows.map((x) => `| ${x.metric} | ${Number.isInteger(x.value) ? x.value : x.value.toFixed(4)} | ${x.queries} |`), '', ...r.notes].join('\n') + '\n');
      if (opts.out) {
        await accumulateMetricRows(resolve(opts.out), rows);
        // config.json records every evaluation that wrote into the folder (score's rows carry no settings id: how the run was made is not known here)
        await recordEvaluation(resolve(opts.out), undefined, { record: { command: 'score', date: new Date().toISOString(), argv: process.argv.slice(2), settings: [], rows: rows.length, run: resolve(opts.run), qrels: resolve(opts.qrels) } });
        process.stderr.write(`merged ${rows.length} rows into ${resolve(opts.out)}/metrics.json, metrics.csv, metrics.md\n`);
      }
    });
}

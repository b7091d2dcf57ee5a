import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sha256, writeFileAtomic } from '../util/fs.js';
import type { ParallelCorpus } from '../data/parallel.js';
import { evaluate } from '../metrics/evaluate.js';
import { writeQrels, writeRun } from '../runs/trec-io.js';
import { truncateRun } from '../runs/ranking.js';
import { buildPool, poolPlan } from '../pools/build-pool.js';
import { docUnitCorpus } from '../pools/doc-unit.js';
import { poolLanguages, poolName, type DocUnit, type Pool, type QueryLangRole, type Scenario } from '../pools/types.js';
import type { Retriever } from '../retrieve/types.js';
import type { Run } from '../runs/types.js';
import type { MetricRow } from '../results/metric-rows.js';
import { DEFAULT_METRICS, definedForPool } from '../metrics/registry.js';
import type { PoolFacts } from '../metrics/definition.js';

export { truncateRun };

/** Options of {@link runEvaluation}. */
export interface RunEvaluationOptions {
  /** Scenarios to run. Default: all six. */
  scenarios?: readonly Scenario[];
  /** Query languages. Default: every corpus language (the pivot only for `mono` and `multi`). */
  langs?: readonly string[];
  /** Pivot language. Default `en`. */
  pivot?: string;
  /** Metric names (see `lib/metrics/registry.ts`). Default {@link DEFAULT_METRICS}. */
  metrics?: readonly string[];
  /**
   * Query languages of the two-language scenarios (`cross`, `mixed*`): `'target'` (the
   * pool language L), `'pivot'` (P), or both; each is its own pool. Default `['target']`.
   */
  queryLangs?: readonly QueryLangRole[];
  /** Documents per paragraph (default) or per question, see `docUnitCorpus`. Default `'paragraph'`. */
  docUnit?: DocUnit;
  /**
   * Folder for TREC files: `<out>/runs/<retriever>/<pool>.run` and `<out>/qrels/<pool>.qrels`,
   * `<pool>` = `poolName(pool)` (`mixed.de`, or `mixed.de.en-queries` for pivot-language
   * queries). Default: none written.
   */
  out?: string;
  /**
   * Documents written per query to each TREC run file. Default: all (the whole ranked pool
   * minus exclusions). Metrics are always computed on the whole ranking; a file cut at depth
   * d keeps the top d in the metrics' own tie order (`truncateRun` with the pool's qrels), so
   * it reproduces them for cutoffs <= d, and AP whenever every relevant document is within
   * the top d.
   */
  runDepth?: number;
  /**
   * Reuse finished pools: each pool's scores are stored in `<cacheDir>/<key>.json`, keyed by
   * the retriever's identity, the pool's content, the pivot and the metrics; a re-run (or a
   * run killed halfway and started again) loads them instead of ranking again, as long as
   * the TREC run file is there too when `out` is set. Default: `<out>/.pools` when `out` is
   * set and the retriever has an identity; `false` turns it off.
   */
  cacheDir?: string | false;
  /** Called after each pool with its rows (for progress output); `cached` when reused. */
  onPool?: (pool: Pool, rows: MetricRow[], seconds: number, cached: boolean) => void;
}

/** Result of {@link runEvaluation}: the rows, and per pool (key `poolName(pool)`) the per-query scores. */
export interface EvaluationResult {
  rows: MetricRow[];
  perQuery: Record<string, Record<string, Record<string, number>>>;
}

/** A file-name-safe form of a retriever name (`Xenova/multilingual-e5-small` -> `Xenova_multilingual-e5-small`). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * Evaluate one retriever on every (scenario, language) pool of a parallel corpus: build the
 * pool, rank the whole pool for every query (minus the per-query exclusions), score it,
 * and write the TREC run and qrels files.
 *
 * Rows hold the aggregate of each metric per pool, with the pool's query language
 * (`queryLang`); metrics the registry does not define for the pool (e.g. PivotInclination
 * in `mono`, where no document is in the pivot language; `complete@10` in a `multi` pool
 * with 12 relevant documents per query) and aggregates that are not finite are left out.
 *
 * @example
 * const { rows } = await runEvaluation(xquadCorpus(), new Bm25Retriever(), { scenarios: ['mixed'], langs: ['de'] });
 */
export async function runEvaluation(corpus: ParallelCorpus, retriever: Retriever, options: RunEvaluationOptions = {}): Promise<EvaluationResult> {
  const { pivot = 'en', metrics = DEFAULT_METRICS, out, onPool } = options;
  const cacheDir = options.cacheDir ?? (out && retriever.identity ? resolve(out, '.pools') : false);
  const plan = poolPlan(corpus, { scenarios: options.scenarios, langs: options.langs, pivot, queryLangs: options.queryLangs });
  const units = docUnitCorpus(corpus, options.docUnit ?? 'paragraph');
  const rows: MetricRow[] = [];
  const perQuery: EvaluationResult['perQuery'] = {};
  for (const { scenario, lang, queries } of plan) {
    const t0 = performance.now();
    const pool = buildPool(units, { scenario, lang, pivot, queries });
    const name = poolName(pool);
    const runFile = out ? resolve(out, 'runs', safeName(retriever.name), `${name}.run`) : undefined;
    const cacheFile = cacheDir && retriever.identity ? resolve(cacheDir, `${poolKey(pool, retriever.identity, metrics, options.runDepth)}.json`) : undefined;
    if (cacheFile && existsSync(cacheFile) && (!runFile || existsSync(runFile))) {
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { rows: MetricRow[]; perQuery: Record<string, Record<string, number>> };
      // rows cached before query languages and the registry's pool filter: complete them
      const poolRows = cached.rows.filter((r) => definedForPool(r.metric, poolFacts(pool))).map((r) => ({ ...r, retriever: retriever.name, queryLang: pool.queryLang }));
      rows.push(...poolRows);
      perQuery[name] = cached.perQuery;
      onPool?.(pool, poolRows, (performance.now() - t0) / 1000, true);
      continue;
    }
    const run: Run = await retriever.retrieve(pool.queries, pool.docs, { exclude: pool.exclude });
    // the registry says which metrics a pool defines (no pivot metrics without pivot documents ...)
    const poolMetrics = metrics.filter((m) => definedForPool(m, poolFacts(pool)));
    const ev = evaluate(pool.qrels, run, poolMetrics, { pivot, languages: poolLanguages(pool), candidates: candidateCounts(pool) });
    const poolRows: MetricRow[] = [];
    for (const metric of poolMetrics) {
      const value = ev.mean[metric];
      if (value === undefined || !Number.isFinite(value)) continue;
      poolRows.push({ dataset: corpus.name, retriever: retriever.name, scenario, lang, queryLang: pool.queryLang, metric, value });
    }
    rows.push(...poolRows);
    perQuery[name] = ev.perQuery;
    if (out && runFile) {
      // cut and written in the metrics' tie order (the pool's qrels order ties)
      const written = options.runDepth ? truncateRun(run, options.runDepth, pool.qrels) : run;
      writeRun(runFile, written, { tag: safeName(retriever.name), exclude: pool.exclude, qrels: pool.qrels });
      writeQrels(resolve(out, 'qrels', `${name}.qrels`), pool.qrels);
    }
    // written last: a pool counts as finished only once its run file is complete
    if (cacheFile) writeFileAtomic(cacheFile, JSON.stringify({ identity: retriever.identity, rows: poolRows, perQuery: ev.perQuery }));
    onPool?.(pool, poolRows, (performance.now() - t0) / 1000, false);
  }
  return { rows, perQuery };
}

/** Content key of one pool's evaluation: retriever identity, pool content, pivot, metrics, run depth. */
function poolKey(pool: Pool, identity: string, metrics: readonly string[], runDepth: number | undefined): string {
  const h = sha256(
    JSON.stringify({
      identity, runDepth: runDepth ?? 'all', dataset: pool.dataset, scenario: pool.scenario, lang: pool.lang, pivot: pool.pivot, metrics,
      queries: pool.queries.map((q) => [q.id, q.text]), docs: pool.docs.map((d) => [d.id, d.text]), qrels: pool.qrels, exclude: pool.exclude,
    }),
  );
  return `${poolName(pool)}.${h.slice(0, 24)}`;
}

/** What the metric registry's "defined for" tests read about a pool. */
export function poolFacts(pool: Pool): PoolFacts {
  let minRelevant = Number.POSITIVE_INFINITY;
  for (const q in pool.qrels) {
    let n = 0;
    for (const d in pool.qrels[q]) if (pool.qrels[q][d] > 0) n++;
    if (n > 0 && n < minRelevant) minRelevant = n;
  }
  return { scenario: pool.scenario, docLangs: [...new Set(pool.docs.map((d) => d.lang))], queryLang: pool.queryLang, pivot: pool.pivot, minRelevant };
}

/** |D_q| per query: the pool's documents minus the query's exclusions that are in the pool. */
function candidateCounts(pool: Pool): Record<string, number> {
  const ids = new Set(pool.docs.map((d) => d.id));
  const out: Record<string, number> = {};
  for (const q of pool.queries) out[q.id] = pool.docs.length - new Set((pool.exclude[q.id] ?? []).filter((id) => ids.has(id))).size;
  return out;
}

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sha256, writeFileAtomic } from '../util/fs.js';
import type { ParallelCorpus } from '../data/parallel.js';
import { evaluate } from '../metrics/evaluate.js';
import { writeQrels, writeRun } from '../runs/trec-io.js';
import { buildPool, poolPlan } from '../pools/build-pool.js';
import type { Pool, Scenario } from '../pools/types.js';
import type { Retriever } from '../retrieve/types.js';
import type { Run } from '../runs/types.js';
import { DEFAULT_METRICS, type MetricRow } from '../results/metric-rows.js';

/** Options of {@link runEvaluation}. */
export interface RunEvaluationOptions {
  /** Scenarios to run. Default: all six. */
  scenarios?: readonly Scenario[];
  /** Query languages. Default: every corpus language (the pivot only for `mono` and `multi`). */
  langs?: readonly string[];
  /** Pivot language. Default `en`. */
  pivot?: string;
  /** Metric names (see `lib/metrics/evaluate.ts`). Default {@link DEFAULT_METRICS}. */
  metrics?: readonly string[];
  /**
   * Folder for TREC files: `<out>/runs/<retriever>/<scenario>.<lang>.run` and
   * `<out>/qrels/<scenario>.<lang>.qrels`. Default: none written.
   */
  out?: string;
  /**
   * Documents written per query to each TREC run file. Default: all (the whole ranked pool
   * minus exclusions). Metrics are always computed on the whole ranking; a file cut at depth
   * d reproduces them under trec_eval's definitions for cutoffs <= d, and AP whenever every
   * relevant document is within the top d.
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

/** Result of {@link runEvaluation}: the rows, and per pool the per-query scores. */
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
 * Rows hold the aggregate of each metric per pool; metrics undefined for a scenario (e.g.
 * PivotInclination in `mono`, where no document is in the pivot language) are left out.
 *
 * @example
 * const { rows } = await runEvaluation(xquadCorpus(), new Bm25Retriever(), { scenarios: ['mixed'], langs: ['de'] });
 */
export async function runEvaluation(corpus: ParallelCorpus, retriever: Retriever, options: RunEvaluationOptions = {}): Promise<EvaluationResult> {
  const { pivot = 'en', metrics = DEFAULT_METRICS, out, onPool } = options;
  const cacheDir = options.cacheDir ?? (out && retriever.identity ? resolve(out, '.pools') : false);
  const plan = poolPlan(corpus, { scenarios: options.scenarios, langs: options.langs, pivot });
  const rows: MetricRow[] = [];
  const perQuery: EvaluationResult['perQuery'] = {};
  for (const { scenario, lang } of plan) {
    const t0 = performance.now();
    const pool = buildPool(corpus, { scenario, lang, pivot });
    const runFile = out ? resolve(out, 'runs', safeName(retriever.name), `${scenario}.${lang}.run`) : undefined;
    const cacheFile = cacheDir && retriever.identity ? resolve(cacheDir, `${poolKey(pool, retriever.identity, metrics, options.runDepth)}.json`) : undefined;
    if (cacheFile && existsSync(cacheFile) && (!runFile || existsSync(runFile))) {
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { rows: MetricRow[]; perQuery: Record<string, Record<string, number>> };
      const poolRows = cached.rows.map((r) => ({ ...r, retriever: retriever.name }));
      rows.push(...poolRows);
      perQuery[`${scenario}.${lang}`] = cached.perQuery;
      onPool?.(pool, poolRows, (performance.now() - t0) / 1000, true);
      continue;
    }
    const run: Run = await retriever.retrieve(pool.queries, pool.docs, { exclude: pool.exclude });
    // pivot metrics mean nothing in a pool without pivot-language documents (mono, for L != P)
    const hasPivotDocs = pool.docs.some((d) => d.lang === pivot);
    const poolMetrics = metrics.filter((m) => hasPivotDocs || !m.startsWith('pivot_'));
    const ev = evaluate(pool.qrels, run, poolMetrics, { pivot });
    const poolRows: MetricRow[] = [];
    for (const metric of poolMetrics) {
      const value = ev.mean[metric];
      if (value === undefined || !Number.isFinite(value)) continue;
      poolRows.push({ dataset: corpus.name, retriever: retriever.name, scenario, lang, metric, value });
    }
    rows.push(...poolRows);
    perQuery[`${scenario}.${lang}`] = ev.perQuery;
    if (out && runFile) {
      writeRun(runFile, options.runDepth ? truncateRun(run, options.runDepth) : run, { tag: safeName(retriever.name), exclude: pool.exclude });
      writeQrels(resolve(out, 'qrels', `${scenario}.${lang}.qrels`), pool.qrels);
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
  return `${pool.scenario}.${pool.lang}.${h.slice(0, 24)}`;
}

/**
 * The top `depth` documents of every ranking (score descending, ties by id as the TREC writer
 * orders them). Exclusions are already absent from runs made by a pool's retriever.
 */
export function truncateRun(run: Run, depth: number): Run {
  const out: Run = {};
  for (const [qid, { ids, scores }] of Object.entries(run)) {
    if (ids.length <= depth) {
      out[qid] = { ids, scores };
      continue;
    }
    const order = Array.from(ids.keys()).sort((a, b) => scores[b] - scores[a] || (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
    const top = order.slice(0, depth);
    out[qid] = { ids: top.map((i) => ids[i]), scores: top.map((i) => scores[i]) };
  }
  return out;
}

import { resolve } from 'node:path';
import type { ParallelCorpus } from '../data/parallel.js';
import { evaluate } from '../metrics/evaluate.js';
import { writeQrels, writeRun } from '../metrics/trec-io.js';
import { buildPool, poolPlan } from '../pools/build-pool.js';
import type { Pool, Scenario } from '../pools/types.js';
import type { Retriever, Run } from '../retrieve/types.js';
import { DEFAULT_METRICS, type MetricRow } from './metric-rows.js';

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
  /** Called after each pool with its rows (for progress output). */
  onPool?: (pool: Pool, rows: MetricRow[], seconds: number) => void;
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
  const plan = poolPlan(corpus, { scenarios: options.scenarios, langs: options.langs, pivot });
  const rows: MetricRow[] = [];
  const perQuery: EvaluationResult['perQuery'] = {};
  for (const { scenario, lang } of plan) {
    const t0 = performance.now();
    const pool = buildPool(corpus, { scenario, lang, pivot });
    const run: Run = await retriever.retrieve(pool.queries, pool.docs, { exclude: pool.exclude });
    const ev = evaluate(pool.qrels, run, [...metrics], { pivot });
    const poolRows: MetricRow[] = [];
    for (const metric of metrics) {
      const value = ev.mean[metric];
      if (value === undefined || !Number.isFinite(value)) continue;
      poolRows.push({ dataset: corpus.name, retriever: retriever.name, scenario, lang, metric, value });
    }
    rows.push(...poolRows);
    perQuery[`${scenario}.${lang}`] = ev.perQuery;
    if (out) {
      writeRun(resolve(out, 'runs', safeName(retriever.name), `${scenario}.${lang}.run`), run, { tag: safeName(retriever.name), exclude: pool.exclude });
      writeQrels(resolve(out, 'qrels', `${scenario}.${lang}.qrels`), pool.qrels);
    }
    onPool?.(pool, poolRows, (performance.now() - t0) / 1000);
  }
  return { rows, perQuery };
}

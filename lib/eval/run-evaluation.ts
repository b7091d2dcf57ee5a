import { existsSync, statSync, unlinkSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { sha256, sha256File } from '../util/fs.js';
import { codeKey } from '../util/code-key.js';
import { setProgressContext } from '../util/progress.js';
import { removeStaleTemp } from '../util/stale-temp.js';
import { discardBadEntry, readVerifiedJson, writeVerifiedJson } from '../util/verified-json.js';
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
   * Reuse finished pools: each pool's scores are stored in `<cacheDir>/<key>.json` (a
   * verified JSON file: format, sha256, schema), keyed by the code key (package version and
   * code hash), the retriever's identity, the pool's content, the pivot, the metrics, the run
   * depth and compression; a re-run (or a run killed halfway and started again) loads them
   * instead of ranking again, as long as the TREC run file is there too, with the size and
   * sha256 the entry recorded, when `out` is set. A bad entry or run file is named in a
   * notice, removed and recomputed. Default: `<out>/.pools` when `out` is set and the
   * retriever has an identity; `false` turns it off.
   */
  cacheDir?: string | false;
  /** Called after each pool with its rows (for progress output); `cached` when reused. */
  onPool?: (pool: Pool, rows: MetricRow[], seconds: number, cached: boolean) => void;
  /** Recompute every pool: never read a cached entry (fresh entries are still written). Default `false`. */
  force?: boolean;
  /** Write run files gzip-compressed (`<scenario>.<lang>.run.gz`; `readRun` reads them back). Default `false`. */
  compressRuns?: boolean;
  /**
   * The code part of every pool-cache key. Default {@link codeKey}: the package version and
   * a hash of the code that builds pools, ranks and computes metrics.
   */
  codeKey?: string;
  /** One-line notices (a bad cache entry removed, an incomplete run file). Default: stderr. */
  notice?: (line: string) => void;
}

/** Texts longer than the model's token limit in one pool (cut before embedding). */
export interface PoolTruncation {
  /** Queries cut. */
  queries: number;
  /** Documents cut. */
  docs: number;
  /** The token limit applied. */
  maxLength: number;
}

/** The on-disk format of one finished pool (a verified JSON file, see `lib/util/verified-json.ts`). */
export const POOL_CACHE_FORMAT = 'xlalign-pool/2';
const PoolEntry = z.object({
  identity: z.string(),
  code: z.string(),
  rows: z.array(z.looseObject({ dataset: z.string(), retriever: z.string(), scenario: z.string(), lang: z.string(), metric: z.string(), value: z.number() })),
  perQuery: z.record(z.string(), z.record(z.string(), z.number())),
  run: z.object({ file: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/), lines: z.number().int().nonnegative() }).nullable(),
  truncation: z.object({ queries: z.number().int(), docs: z.number().int(), maxLength: z.number().int() }).nullable(),
});

/** Result of {@link runEvaluation}: the rows, and per pool the per-query scores. */
export interface EvaluationResult {
  rows: MetricRow[];
  perQuery: Record<string, Record<string, Record<string, number>>>;
  /** Per pool (`<scenario>.<lang>`), texts cut at the model's token limit (dense retrievers). */
  truncation?: Record<string, PoolTruncation>;
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
  const { pivot = 'en', metrics = DEFAULT_METRICS, out, onPool, force = false, compressRuns = false } = options;
  const notice = options.notice ?? ((line: string) => process.stderr.write(line + '\n'));
  const cacheDir = options.cacheDir ?? (out && retriever.identity ? resolve(out, '.pools') : false);
  const code = options.codeKey ?? codeKey();
  const plan = poolPlan(corpus, { scenarios: options.scenarios, langs: options.langs, pivot });
  const rows: MetricRow[] = [];
  const perQuery: EvaluationResult['perQuery'] = {};
  const truncation: EvaluationResult['truncation'] = {};
  // temporary files of a killed run (SIGKILL between write and rename)
  for (const dir of [out && resolve(out, 'runs'), out && resolve(out, 'qrels'), cacheDir]) if (dir) removeStaleTemp(dir);
  const embedder = (retriever as { embedder?: { countTruncated?: (t: readonly string[], k: 'query' | 'passage') => number; config?: { maxLength?: number } } }).embedder;
  for (const { scenario, lang } of plan) {
    const t0 = performance.now();
    const pool = buildPool(corpus, { scenario, lang, pivot });
    setProgressContext(`${retriever.name} ${scenario}.${lang}`);
    const runFile = out ? resolve(out, 'runs', safeName(retriever.name), `${scenario}.${lang}.run${compressRuns ? '.gz' : ''}`) : undefined;
    const cacheFile = cacheDir && retriever.identity ? resolve(cacheDir, `${poolKey(pool, retriever.identity, metrics, options.runDepth, code, compressRuns)}.json`) : undefined;
    const cached = cacheFile && !force ? readPoolEntry(cacheFile, runFile, notice) : undefined;
    if (cached) {
      const poolRows = cached.rows.map((r) => ({ ...r, retriever: retriever.name })) as MetricRow[];
      rows.push(...poolRows);
      perQuery[`${scenario}.${lang}`] = cached.perQuery;
      if (cached.truncation) truncation[`${scenario}.${lang}`] = cached.truncation;
      if (out && !existsSync(resolve(out, 'qrels', `${scenario}.${lang}.qrels`))) writeQrels(resolve(out, 'qrels', `${scenario}.${lang}.qrels`), pool.qrels);
      onPool?.(pool, poolRows, (performance.now() - t0) / 1000, true);
      continue;
    }
    let cut: PoolTruncation | null = null;
    if (embedder?.countTruncated && embedder.config?.maxLength) {
      cut = { queries: embedder.countTruncated(pool.queries.map((q) => q.text), 'query'), docs: embedder.countTruncated(pool.docs.map((d) => d.text), 'passage'), maxLength: embedder.config.maxLength };
      truncation[`${scenario}.${lang}`] = cut;
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
    let written: { file: string; bytes: number; sha256: string; lines: number } | null = null;
    if (out && runFile) {
      const w = writeRun(runFile, options.runDepth ? truncateRun(run, options.runDepth) : run, { tag: safeName(retriever.name), exclude: pool.exclude });
      written = { file: basename(runFile), bytes: w.bytes, sha256: w.sha256, lines: w.lines };
      writeQrels(resolve(out, 'qrels', `${scenario}.${lang}.qrels`), pool.qrels);
    }
    // written last: a pool counts as finished only once its run file is complete; the entry
    // records the run file's size and sha256, checked when the entry is reused
    if (cacheFile) writeVerifiedJson(cacheFile, POOL_CACHE_FORMAT, { identity: retriever.identity!, code, rows: poolRows, perQuery: ev.perQuery, run: written, truncation: cut });
    onPool?.(pool, poolRows, (performance.now() - t0) / 1000, false);
  }
  setProgressContext('');
  return { rows, perQuery, truncation };
}

/**
 * A finished pool's cache entry, verified: format, checksum and schema of the entry, and
 * (when a run file belongs to it) the run file's size and sha256. A bad entry or an
 * incomplete run file is named in one notice and removed; the pool is then recomputed.
 */
function readPoolEntry(cacheFile: string, runFile: string | undefined, notice: (line: string) => void): z.infer<typeof PoolEntry> | undefined {
  const r = readVerifiedJson(cacheFile, POOL_CACHE_FORMAT, PoolEntry);
  if (!r.ok) {
    if (!r.missing) discardBadEntry(cacheFile, `bad pool cache entry (${r.reason})`, notice);
    return undefined;
  }
  if (!runFile) return r.value;
  const want = r.value.run;
  const bytes = existsSync(runFile) ? statSync(runFile).size : -1;
  let bad: string | undefined;
  if (!want) bad = 'the entry records no run file';
  else if (bytes < 0) bad = `run file ${runFile} is missing`;
  else if (bytes !== want.bytes) bad = `run file ${runFile} is incomplete (${bytes} of ${want.bytes} bytes)`;
  else if (sha256File(runFile) !== want.sha256) bad = `run file ${runFile} does not match its recorded sha256`;
  if (!bad) return r.value;
  notice(`notice: ${bad}; recomputing the pool`);
  for (const f of [cacheFile, ...(bytes >= 0 ? [runFile] : [])]) {
    try {
      unlinkSync(f);
    } catch {
      // gone already
    }
  }
  return undefined;
}

/**
 * Content key of one pool's evaluation: the code key (package version + code hash), the
 * retriever identity, pool content, pivot, metrics, run depth and run-file compression.
 */
function poolKey(pool: Pool, identity: string, metrics: readonly string[], runDepth: number | undefined, code: string, compressRuns: boolean): string {
  const h = sha256(
    JSON.stringify({
      code, compressRuns, identity, runDepth: runDepth ?? 'all', dataset: pool.dataset, scenario: pool.scenario, lang: pool.lang, pivot: pool.pivot, metrics,
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

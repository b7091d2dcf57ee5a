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
import { truncateRun } from '../runs/ranking.js';
import { buildPool, poolPlan } from '../pools/build-pool.js';
import { docUnitCorpus } from '../pools/doc-unit.js';
import { poolLanguages, poolName, type DocUnit, type Pool, type QueryLangRole, type Scenario } from '../pools/types.js';
import type { Retriever } from '../retrieve/types.js';
import type { Run } from '../runs/types.js';
import { MetricRowSchema, type MetricRow } from '../results/metric-rows.js';
import { settingsId, type EvalSettings } from '../results/settings.js';
import { corpusLangHashes } from '../data/parallel.js';
import { packageVersion } from '../util/code-key.js';
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
  /** What the settings record of the rows says beyond what the corpus and retriever tell (see {@link evaluationSettings}). */
  provenance?: Provenance;
}

/** The parts of a settings record only the caller knows. */
export interface Provenance {
  /** Where the dataset came from: a registered name or a folder. Default: the corpus name. */
  source?: string;
  /** The retriever as given (`bm25`, `default`, a folder, a hub id). Default: the retriever's name. */
  model?: string;
  /** The adapter file applied by the embedder, if any. */
  adapterPath?: string;
  /** The part of the dataset evaluated. Default `{ part: 'all' }`. */
  split?: EvalSettings['split'];
}

/** The tie order of the metrics, as recorded in settings (`lib/runs/ranking.ts`). */
export const TIE_POLICY = 'pessimistic (score desc; non-relevant before relevant; then id)';

/**
 * The settings record of an evaluation of `retriever` on `corpus` (see
 * `lib/results/settings.ts`): dataset name, source and per-language content hashes, pivot,
 * doc unit, split, the retriever's identity, model content id, pooling, prefixes, effective
 * token limit and adapter, run depth, tie policy and package version.
 * @example settingsId(evaluationSettings(corpus, retriever, { pivot: 'en' }))
 */
export function evaluationSettings(corpus: ParallelCorpus, retriever: Retriever, options: Pick<RunEvaluationOptions, 'pivot' | 'docUnit' | 'runDepth' | 'provenance'> = {}): EvalSettings {
  const p = options.provenance ?? {};
  const embedder = (retriever as { embedder?: { id?: string; config?: Record<string, unknown> } }).embedder;
  const cfg = embedder?.config ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const adapter = cfg.adapter as { id?: string } | undefined;
  return {
    ...poolSettings(corpus, options),
    retriever: {
      name: retriever.name, model: p.model ?? retriever.name, identity: retriever.identity ?? null, modelId: embedder?.id ?? null,
      pooling: str(cfg.pooling), queryPrefix: str(cfg.queryPrefix), passagePrefix: str(cfg.passagePrefix), maxLength: typeof cfg.maxLength === 'number' ? cfg.maxLength : null,
      adapter: adapter || p.adapterPath ? { path: p.adapterPath ? resolve(p.adapterPath) : '(in memory)', sha256: adapter?.id ?? (p.adapterPath ? sha256File(p.adapterPath) : '') } : null,
    },
  };
}

/** The settings of {@link evaluationSettings} that do not depend on the retriever (checked before any model is loaded). */
export function poolSettings(corpus: ParallelCorpus, options: Pick<RunEvaluationOptions, 'pivot' | 'docUnit' | 'runDepth' | 'provenance'> = {}): Omit<EvalSettings, 'retriever'> {
  const p = options.provenance ?? {};
  return {
    dataset: { name: corpus.name, source: p.source ?? corpus.name, langHashes: corpusLangHashes(corpus) },
    pivot: options.pivot ?? 'en',
    docUnit: options.docUnit ?? 'paragraph',
    split: p.split ?? { part: 'all' },
    runDepth: options.runDepth ?? 'all',
    ties: TIE_POLICY,
    version: packageVersion(),
  };
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
  rows: z.array(MetricRowSchema),
  perQuery: z.record(z.string(), z.record(z.string(), z.number())),
  run: z.object({ file: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/), lines: z.number().int().nonnegative() }).nullable(),
  truncation: z.object({ queries: z.number().int(), docs: z.number().int(), maxLength: z.number().int() }).nullable(),
});

/** Result of {@link runEvaluation}: the rows, and per pool (key `poolName(pool)`) the per-query scores. */
export interface EvaluationResult {
  /** Every row carries `settings: settingsId`. */
  rows: MetricRow[];
  /** The settings record the rows point to, and its id. */
  settings: EvalSettings;
  settingsId: string;
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
 * Rows hold the aggregate of each metric per pool, with the pool's query language
 * (`queryLang`); metrics the registry does not define for the pool (e.g. PivotInclination
 * in `mono`, where no document is in the pivot language; `complete@10` in a `multi` pool
 * with 12 relevant documents per query) and aggregates that are not finite are left out.
 *
 * @example
 * const { rows } = await runEvaluation(xquadCorpus(), new Bm25Retriever(), { scenarios: ['mixed'], langs: ['de'] });
 */
export async function runEvaluation(corpus: ParallelCorpus, retriever: Retriever, options: RunEvaluationOptions = {}): Promise<EvaluationResult> {
  const { pivot = 'en', metrics = DEFAULT_METRICS, out, onPool, force = false, compressRuns = false } = options;
  const notice = options.notice ?? ((line: string) => process.stderr.write(line + '\n'));
  const cacheDir = options.cacheDir ?? (out && retriever.identity ? resolve(out, '.pools') : false);
  const code = options.codeKey ?? codeKey();
  const plan = poolPlan(corpus, { scenarios: options.scenarios, langs: options.langs, pivot, queryLangs: options.queryLangs });
  const units = docUnitCorpus(corpus, options.docUnit ?? 'paragraph');
  const settings = evaluationSettings(corpus, retriever, { pivot, docUnit: options.docUnit, runDepth: options.runDepth, provenance: options.provenance });
  const id = settingsId(settings);
  const rows: MetricRow[] = [];
  const perQuery: EvaluationResult['perQuery'] = {};
  const truncation: EvaluationResult['truncation'] = {};
  // temporary files of a killed run (SIGKILL between write and rename)
  for (const dir of [out && resolve(out, 'runs'), out && resolve(out, 'qrels'), cacheDir]) if (dir) removeStaleTemp(dir);
  const embedder = (retriever as { embedder?: { countTruncated?: (t: readonly string[], k: 'query' | 'passage') => number; config?: { maxLength?: number } } }).embedder;
  for (const { scenario, lang, queries } of plan) {
    const t0 = performance.now();
    const pool = buildPool(units, { scenario, lang, pivot, queries });
    const name = poolName(pool);
    setProgressContext(`${retriever.name} ${name}`);
    const runFile = out ? resolve(out, 'runs', safeName(retriever.name), `${name}.run${compressRuns ? '.gz' : ''}`) : undefined;
    const cacheFile = cacheDir && retriever.identity ? resolve(cacheDir, `${poolKey(pool, retriever.identity, metrics, options.runDepth, code, compressRuns)}.json`) : undefined;
    const cached = cacheFile && !force ? readPoolEntry(cacheFile, runFile, notice) : undefined;
    if (cached) {
      const poolRows = cached.rows.filter((r) => definedForPool(r.metric, poolFacts(pool))).map((r) => ({ ...r, retriever: retriever.name, queryLang: pool.queryLang, settings: id })) as MetricRow[];
      rows.push(...poolRows);
      perQuery[name] = cached.perQuery;
      if (cached.truncation) truncation[name] = cached.truncation;
      if (out && !existsSync(resolve(out, 'qrels', `${name}.qrels`))) writeQrels(resolve(out, 'qrels', `${name}.qrels`), pool.qrels);
      onPool?.(pool, poolRows, (performance.now() - t0) / 1000, true);
      continue;
    }
    let cut: PoolTruncation | null = null;
    if (embedder?.countTruncated && embedder.config?.maxLength) {
      cut = { queries: embedder.countTruncated(pool.queries.map((q) => q.text), 'query'), docs: embedder.countTruncated(pool.docs.map((d) => d.text), 'passage'), maxLength: embedder.config.maxLength };
      truncation[name] = cut;
    }
    const run: Run = await retriever.retrieve(pool.queries, pool.docs, { exclude: pool.exclude });
    // the registry says which metrics a pool defines (no pivot metrics without pivot documents ...)
    const poolMetrics = metrics.filter((m) => definedForPool(m, poolFacts(pool)));
    const ev = evaluate(pool.qrels, run, poolMetrics, { pivot, languages: poolLanguages(pool), candidates: candidateCounts(pool) });
    const poolRows: MetricRow[] = [];
    for (const metric of poolMetrics) {
      const value = ev.mean[metric];
      if (value === undefined || !Number.isFinite(value)) continue;
      poolRows.push({ dataset: corpus.name, retriever: retriever.name, scenario, lang, queryLang: pool.queryLang, metric, value, settings: id });
    }
    rows.push(...poolRows);
    perQuery[name] = ev.perQuery;
    let written: { file: string; bytes: number; sha256: string; lines: number } | null = null;
    if (out && runFile) {
      // cut and written in the metrics' tie order (the pool's qrels order ties)
      const cutRun = options.runDepth ? truncateRun(run, options.runDepth, pool.qrels) : run;
      const w = writeRun(runFile, cutRun, { tag: safeName(retriever.name), exclude: pool.exclude, qrels: pool.qrels });
      written = { file: basename(runFile), bytes: w.bytes, sha256: w.sha256, lines: w.lines };
      writeQrels(resolve(out, 'qrels', `${name}.qrels`), pool.qrels);
    }
    // written last: a pool counts as finished only once its run file is complete; the entry
    // records the run file's size and sha256, checked when the entry is reused
    if (cacheFile) writeVerifiedJson(cacheFile, POOL_CACHE_FORMAT, { identity: retriever.identity!, code, rows: poolRows, perQuery: ev.perQuery, run: written, truncation: cut });
    onPool?.(pool, poolRows, (performance.now() - t0) / 1000, false);
  }
  setProgressContext('');
  return { rows, settings, settingsId: id, perQuery, truncation };
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

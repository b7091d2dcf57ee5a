/**
 * How much disk the TREC run files of an evaluation will take, estimated before anything is
 * written, so that a command can announce a large volume (and the flags that shrink it)
 * instead of silently filling the disk (`eval --query-langs target,pivot` with defaults wrote
 * 11 GB on XQuAD).
 *
 * The estimate builds each planned pool (cheap: no retrieval) and counts the lines a run file
 * holds: per query, its candidates (the pool's documents minus its exclusions), at most the
 * run depth. Bytes per line come from the real writer: the first query of each pool is
 * written with `writeRun` into a temporary folder (with 9-digit scores), and every file it
 * wrote there counts, so the estimate follows the run format (and any file written beside
 * the run). Gzip files are estimated at 1/{@link GZIP_RATIO} of the text (the ratio measured
 * on the default model's runs, README "Disk").
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParallelCorpus } from '../data/parallel.js';
import { buildPool, poolPlan } from '../pools/build-pool.js';
import { docUnitCorpus } from '../pools/doc-unit.js';
import type { DocUnit, QueryLangRole, Scenario } from '../pools/types.js';
import { writeRun } from '../runs/trec-io.js';

/** Text bytes per gzip byte of a run file (measured ~5x on the default model's runs). */
export const GZIP_RATIO = 5;
/** Estimated run-file volume from which commands announce it before writing: 1 GB. */
export const RUN_VOLUME_NOTICE_BYTES = 1e9;

/** Options of {@link estimateRunVolume}: the evaluation's own settings. */
export interface RunVolumeOptions {
  scenarios?: readonly Scenario[];
  langs?: readonly string[];
  pivot?: string;
  queryLangs?: readonly QueryLangRole[];
  docUnit?: DocUnit;
  /** Documents per query written; default all. */
  runDepth?: number;
  /** Gzip run files (`--run-format gz`). Default false. */
  compressRuns?: boolean;
  /** Tag of each line (the retriever's file name). Default `'default'`. */
  tag?: string;
  /** Retrievers evaluated with these settings (each writes its own files). Default 1. */
  retrievers?: number;
}

/** Result of {@link estimateRunVolume}. */
export interface RunVolumeEstimate {
  /** Run files (pools x retrievers). */
  files: number;
  /** Lines over all files. */
  lines: number;
  /** Bytes as text. */
  textBytes: number;
  /** Bytes on disk (text, or text / GZIP_RATIO for gzip). */
  bytes: number;
}

/**
 * Estimate the run files of an evaluation (see the module comment).
 * @example estimateRunVolume(xquadCorpus(), { scenarios: ['mixed'], langs: ['de'], runDepth: 100 }).bytes
 */
export function estimateRunVolume(corpus: ParallelCorpus, options: RunVolumeOptions = {}): RunVolumeEstimate {
  const { pivot = 'en', runDepth, compressRuns = false, tag = 'default', retrievers = 1 } = options;
  const units = docUnitCorpus(corpus, options.docUnit ?? 'paragraph');
  const plan = poolPlan(units, { scenarios: options.scenarios, langs: options.langs, pivot, queryLangs: options.queryLangs });
  const sampleDir = mkdtempSync(join(tmpdir(), 'xlalign-run-volume-'));
  let lines = 0;
  let textBytes = 0;
  try {
    for (const { scenario, lang, queries } of plan) {
      const pool = buildPool(units, { scenario, lang, pivot, queries });
      const candidates = (qid: string) => {
        const ex = new Set(pool.exclude[qid] ?? []);
        return pool.docs.filter((d) => !ex.has(d.id));
      };
      let poolLines = 0;
      for (const q of pool.queries) {
        const ex = new Set(pool.exclude[q.id] ?? []);
        let n = 0;
        for (const d of pool.docs) if (!ex.has(d.id)) n++;
        poolLines += Math.min(runDepth ?? Infinity, n);
      }
      if (poolLines === 0) continue;
      // bytes per line: the first query with candidates written by the real writer
      const q = pool.queries.find((x) => candidates(x.id).length > 0)!;
      const ids = candidates(q.id).slice(0, runDepth ?? Infinity).map((d) => d.id);
      for (const f of readdirSync(sampleDir)) rmSync(join(sampleDir, f), { force: true });
      writeRun(join(sampleDir, 'sample.run'), { [q.id]: { ids, scores: ids.map((_, i) => 0.5 - i * 1e-6) } }, { tag });
      let sampleBytes = 0;
      for (const f of readdirSync(sampleDir)) sampleBytes += statSync(join(sampleDir, f)).size;
      lines += poolLines;
      textBytes += (poolLines * sampleBytes) / ids.length;
    }
  } finally {
    rmSync(sampleDir, { recursive: true, force: true });
  }
  lines *= retrievers;
  textBytes = Math.round(textBytes * retrievers);
  return { files: plan.length * retrievers, lines, textBytes, bytes: compressRuns ? Math.round(textBytes / GZIP_RATIO) : textBytes };
}

/**
 * The announcement of a large run-file volume, or undefined below `threshold` (default
 * {@link RUN_VOLUME_NOTICE_BYTES}): the size and the flags that shrink it.
 * @example runVolumeNotice(estimate, { runDepth: undefined, compressRuns: false })
 * // 'notice: the run files will take about 11.2 GB (96 files, 180000000 lines); to write less: --run-depth 100, ...'
 */
export function runVolumeNotice(
  estimate: RunVolumeEstimate,
  settings: { runDepth?: number; compressRuns?: boolean },
  threshold = RUN_VOLUME_NOTICE_BYTES,
): string | undefined {
  if (estimate.bytes < threshold) return undefined;
  const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;
  const shrink = [
    ...(settings.runDepth === undefined || settings.runDepth > 100 ? ['--run-depth 100 (metrics still use the whole ranking)'] : []),
    ...(settings.compressRuns ? [] : [`--run-format gz (about ${gb(estimate.textBytes / GZIP_RATIO)})`]),
    'fewer --scenarios, --langs or --query-langs',
    '--no-trec (no run files)',
  ];
  return `notice: the run files will take about ${gb(estimate.bytes)}${settings.compressRuns ? ' (gzip, estimated)' : ''} (${estimate.files} files, ${estimate.lines} lines); to write less: ${shrink.join(', ')}`;
}

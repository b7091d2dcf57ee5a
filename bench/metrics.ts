/**
 * Metrics benchmark: a seeded Q x depth TREC run + qrels on disk, read back with
 * `readRun` / `readQrels` and evaluated with `evaluate`, timed end to end (the figure to
 * compare with trec_eval), then checked against evaluating the in-memory run directly.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { evaluate } from '../lib/metrics/evaluate.js';
import { readQrels, readRun, readRunReference, writeQrels, writeRun } from '../lib/runs/trec-io.js';
import type { Qrels } from '../lib/runs/types.js';
import type { Run } from '../lib/runs/types.js';
import { createRng } from '../lib/util/rng.js';

/** Parameters of the synthetic run. */
export interface MetricsParams {
  /** Number of queries (default in bench/run.ts: 100,000). */
  queries: number;
  /** Documents per query (100). */
  depth: number;
  /** Parallel document pairs in the pool: ids `de-p<i>` and `en-p<i>` (100,000 -> 200,000 docs). */
  pairs: number;
  seed: number;
}

/** The metrics evaluated (the list). */
export const BENCH_METRICS = ['ndcg@10', 'rr@10', 'r@10', 'p@10', 'ap', 'maxr', 'complete@10'];

/**
 * A seeded run and qrels shaped like a mixed-language pool: query `de-<q>` has two
 * relevant parallel documents `de-p<x>` and `en-p<x>`; its ranking holds `depth` distinct
 * documents, each relevant one retrieved with probability 0.7; scores are float32 values.
 * @example const { run, qrels } = syntheticRun({ queries: 1000, depth: 100, pairs: 5000, seed: 1 });
 */
export function syntheticRun(p: MetricsParams): { run: Run; qrels: Qrels } {
  const rng = createRng(p.seed);
  const ids: string[][] = [[], []];
  for (let i = 0; i < p.pairs; i++) {
    ids[0].push(`de-p${i}`);
    ids[1].push(`en-p${i}`);
  }
  const run: Run = {};
  const qrels: Qrels = {};
  for (let q = 0; q < p.queries; q++) {
    const qid = `de-${q}`;
    const x = rng.int(p.pairs);
    qrels[qid] = { [ids[0][x]]: 1, [ids[1][x]]: 1 };
    const seen = new Set<string>();
    const list: string[] = [];
    for (const lang of [0, 1]) if (rng.next() < 0.7) list.push(ids[lang][x]);
    for (const id of list) seen.add(id);
    while (list.length < p.depth) {
      const id = ids[rng.int(2)][rng.int(p.pairs)];
      if (!seen.has(id)) {
        seen.add(id);
        list.push(id);
      }
    }
    // Relevant documents sit at random positions of the (score-sorted) list.
    for (let i = list.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    const scores = new Float32Array(list.length);
    for (let i = 0; i < list.length; i++) scores[i] = rng.next();
    run[qid] = { ids: list, scores };
  }
  return { run, qrels };
}

/** Write the synthetic run and qrels under `dir`; returns paths, sizes and write time. */
export function writeMetricsFixture(dir: string, p: MetricsParams) {
  const { run, qrels } = syntheticRun(p);
  const runPath = join(dir, `bench-${p.queries}x${p.depth}.run`);
  const qrelsPath = join(dir, `bench-${p.queries}.qrels`);
  const t = performance.now();
  writeRun(runPath, run, { tag: 'bench' });
  writeQrels(qrelsPath, qrels);
  return { runPath, qrelsPath, runBytes: statSync(runPath).size, writeSeconds: (performance.now() - t) / 1000 };
}

/** Result of {@link benchMetrics}. */
export interface MetricsResult extends MetricsParams {
  runBytes: number;
  lines: number;
  parseSeconds: number;
  evaluateSeconds: number;
  /** parse + evaluate, wall clock: the figure compared with trec_eval. */
  totalSeconds: number;
  /** CPU seconds of this process (user + system, all threads incl. GC) for the same steps: steadier than wall time on a shared machine. */
  parseCpuSeconds: number;
  evaluateCpuSeconds: number;
  totalCpuSeconds: number;
  mean: Record<string, number>;
  /** Per-query values that differ between the file path and the in-memory path (want 0). */
  mismatches: number;
  inMemoryEvaluateSeconds: number;
  /** Run-file parse speed of readRun (default: one thread), MB (1e6 bytes) per wall second. */
  parseMBps: number;
  /** The same file parsed with `threads: availableParallelism()` (worker threads): seconds, CPU seconds, MB/s. */
  parseParallelSeconds: number;
  parseParallelCpuSeconds: number;
  parseParallelMBps: number;
  parseParallelThreads: number;
  /** Whether both parses gave the same Run (ids, scores, query order). */
  parsedIdentical: boolean;
  /** readRun alone (no qrels): wall seconds and CPU seconds. */
  parseRunSeconds: number;
  parseRunCpuSeconds: number;
  /**
   * The same file parsed by `readRunReference` (the line-callback parser readRun used before
   * issue 13 item 9), last in this process, with readRun's Runs alive (a bigger heap: garbage
   * collection costs more than in a fresh process; `npx tsx bench/metrics.ts --parse FILE`
   * compares the two parsers each in a fresh process).
   */
  parseReferenceSeconds: number;
  parseReferenceCpuSeconds: number;
  parseReferenceMBps: number;
  /** Whether readRun and readRunReference gave the same Run (ids, bit-identical scores, query order). */
  referenceIdentical: boolean;
}

/**
 * Time `readRun` + `readQrels` + `evaluate` on the files written by
 * {@link writeMetricsFixture}, then regenerate the same run in memory (same seed), evaluate
 * it and count per-query differences. Run it in a fresh process so the timing does not pay
 * for the generator's heap.
 */
export function benchMetrics(files: { runPath: string; qrelsPath: string }, p: MetricsParams): MetricsResult {
  const cpuSec = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;
  let t = performance.now();
  let cpu = process.cpuUsage();
  const tRun = performance.now();
  const run = readRun(files.runPath);
  const runParseSeconds = (performance.now() - tRun) / 1000;
  const parseRunCpuSeconds = cpuSec(process.cpuUsage(cpu));
  const qrels = readQrels(files.qrelsPath);
  const parseSeconds = (performance.now() - t) / 1000;
  const parseCpu = process.cpuUsage(cpu);
  t = performance.now();
  cpu = process.cpuUsage();
  const fromFile = evaluate(qrels, run, BENCH_METRICS);
  const evaluateSeconds = (performance.now() - t) / 1000;
  const evalCpu = process.cpuUsage(cpu);
  let lines = 0;
  for (const q in run) lines += run[q].ids.length;
  const mem = syntheticRun(p);
  t = performance.now();
  const inMemory = evaluate(mem.qrels, mem.run, BENCH_METRICS);
  const inMemoryEvaluateSeconds = (performance.now() - t) / 1000;
  let mismatches = 0;
  const qids = new Set([...Object.keys(fromFile.perQuery), ...Object.keys(inMemory.perQuery)]);
  for (const q of qids) {
    for (const m of BENCH_METRICS) if (fromFile.perQuery[q]?.[m] !== inMemory.perQuery[q]?.[m]) mismatches++;
  }
  for (const m of BENCH_METRICS) if (fromFile.mean[m] !== inMemory.mean[m]) mismatches++;
  const runBytes = statSync(files.runPath).size;
  const parseParallelThreads = availableParallelism();
  t = performance.now();
  cpu = process.cpuUsage();
  const par = readRun(files.runPath, { threads: parseParallelThreads });
  const parseParallelSeconds = (performance.now() - t) / 1000;
  const parseParallelCpuSeconds = cpuSec(process.cpuUsage(cpu));
  const parsedIdentical = isDeepStrictEqual(Object.keys(par), Object.keys(run)) && isDeepStrictEqual(par, run);
  t = performance.now();
  cpu = process.cpuUsage();
  const reference = readRunReference(files.runPath);
  const parseReferenceSeconds = (performance.now() - t) / 1000;
  const parseReferenceCpuSeconds = cpuSec(process.cpuUsage(cpu));
  const referenceIdentical = isDeepStrictEqual(Object.keys(reference), Object.keys(run)) && isDeepStrictEqual(reference, run);
  return {
    parseRunSeconds: runParseSeconds,
    parseRunCpuSeconds,
    parseReferenceSeconds,
    parseReferenceCpuSeconds,
    parseReferenceMBps: runBytes / 1e6 / parseReferenceSeconds,
    referenceIdentical,
    parseMBps: runBytes / 1e6 / runParseSeconds,
    parseParallelSeconds,
    parseParallelCpuSeconds,
    parseParallelMBps: runBytes / 1e6 / parseParallelSeconds,
    parseParallelThreads,
    parsedIdentical,
    ...p,
    runBytes: statSync(files.runPath).size,
    lines,
    parseSeconds,
    evaluateSeconds,
    totalSeconds: parseSeconds + evaluateSeconds,
    parseCpuSeconds: cpuSec(parseCpu),
    evaluateCpuSeconds: cpuSec(evalCpu),
    totalCpuSeconds: cpuSec(parseCpu) + cpuSec(evalCpu),
    mean: fromFile.mean,
    mismatches,
    inMemoryEvaluateSeconds,
  };
}

/** One parse of `path` by `parser` in this process: wall and CPU seconds, MB/s, query count. */
export function benchParseOnce(path: string, parser: 'readRun' | 'readRunReference') {
  const parse = parser === 'readRun' ? readRun : readRunReference;
  const t = performance.now();
  const cpu = process.cpuUsage();
  const run = parse(path);
  const seconds = (performance.now() - t) / 1000;
  const c = process.cpuUsage(cpu);
  const bytes = statSync(path).size;
  return { parser, seconds, cpuSeconds: (c.user + c.system) / 1e6, MBps: bytes / 1e6 / seconds, cpuMBps: bytes / 1e6 / ((c.user + c.system) / 1e6), queries: Object.keys(run).length };
}

// Focused parse bench: `npx tsx bench/metrics.ts --parse FILE [REPEATS]` parses FILE with
// readRunReference and readRun alternately, each in a fresh process (same heap state), and
// prints every measurement and the medians (MB = 1e6 bytes).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [flag, file, arg] = process.argv.slice(2);
  if (flag === '--parse-one') {
    console.log(JSON.stringify(benchParseOnce(file, arg as 'readRun' | 'readRunReference')));
  } else if (flag === '--parse' && file) {
    const repeats = Number(arg ?? 3);
    const got: Record<string, ReturnType<typeof benchParseOnce>[]> = { readRunReference: [], readRun: [] };
    for (let r = 0; r < repeats; r++) {
      for (const parser of ['readRunReference', 'readRun'] as const) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', process.argv[1], '--parse-one', file, parser], { encoding: 'utf8' });
        const m = JSON.parse(out.trim().split('\n').at(-1)!);
        got[parser].push(m);
        console.log(`${parser}: ${m.MBps.toFixed(1)} MB/s (${m.seconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} CPU-s = ${m.cpuMBps.toFixed(1)} MB per CPU-s)`);
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const parser in got) {
      console.log(`median ${parser}: ${median(got[parser].map((m) => m.MBps)).toFixed(1)} MB/s wall, ${median(got[parser].map((m) => m.cpuMBps)).toFixed(1)} MB per CPU-s`);
    }
  } else {
    console.error('usage: npx tsx bench/metrics.ts --parse FILE [REPEATS]');
    process.exit(2);
  }
}

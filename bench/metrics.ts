/**
 * Metrics benchmark: a seeded Q x depth TREC run + qrels on disk, read back with
 * `readRun` / `readQrels` and evaluated with `evaluate`, timed end to end, then checked
 * against evaluating the in-memory run directly; and trec_eval, built from the vendored
 * source (test/tools/trec_eval), on the same files in the same run ({@link benchTrecEval}).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { evaluate } from '../lib/metrics/evaluate.js';
import { rawScoresPath, readQrels, readRun, writeQrels, writeRun } from '../lib/runs/trec-io.js';
import { trecEvalBinary, trecMeasure } from '../test/tools/trec-eval.js';
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

/**
 * Write the synthetic run and qrels under `dir` as eval exports them (the score column in
 * the metrics' order, raw scores beside it); returns paths, sizes and write time.
 */
export function writeMetricsFixture(dir: string, p: MetricsParams) {
  const { run, qrels } = syntheticRun(p);
  const runPath = join(dir, `bench-${p.queries}x${p.depth}.run`);
  const qrelsPath = join(dir, `bench-${p.queries}.qrels`);
  const t = performance.now();
  writeRun(runPath, run, { tag: 'bench', qrels });
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
  /** Run-file parse speed of readRun (the run file alone, as trec_eval reads it), MB (1e6 bytes) per wall second. */
  parseMBps: number;
  /** readRun alone (no qrels): wall seconds and CPU seconds. */
  parseRunSeconds: number;
  parseRunCpuSeconds: number;
  /** readRun with the raw scores read back from the `.scores` file beside the run: wall seconds, bytes of that file. */
  parseWithRawScoresSeconds: number;
  rawScoresBytes: number;
}

/**
 * Time `readRun` + `readQrels` + `evaluate` on the files written by
 * {@link writeMetricsFixture} (the run file's score column, as trec_eval reads it), then
 * regenerate the same run in memory (same seed), evaluate it and count per-query
 * differences. Run it in a fresh process so the timing does not pay for the generator's heap.
 */
export function benchMetrics(files: { runPath: string; qrelsPath: string }, p: MetricsParams): MetricsResult {
  const cpuSec = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;
  let t = performance.now();
  let cpu = process.cpuUsage();
  const tRun = performance.now();
  const run = readRun(files.runPath, { rawScores: false });
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
  t = performance.now();
  readRun(files.runPath);
  const parseWithRawScoresSeconds = (performance.now() - t) / 1000;
  return {
    parseRunSeconds: runParseSeconds,
    parseRunCpuSeconds,
    parseMBps: runBytes / 1e6 / runParseSeconds,
    parseWithRawScoresSeconds,
    rawScoresBytes: statSync(rawScoresPath(files.runPath)).size,
    ...p,
    runBytes,
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

/** The metrics of {@link BENCH_METRICS} that trec_eval has, on the bench's whole-ranking file. */
export const TREC_EVAL_METRICS = BENCH_METRICS.filter((m) => trecMeasure(m) !== undefined);

/**
 * trec_eval (built from the vendored source; the build is not timed) on the same run and
 * qrels files, with the measures of {@link TREC_EVAL_METRICS}: wall seconds, CPU seconds and
 * peak RSS from /usr/bin/time when it is there, and its means (4 decimals) beside ours.
 */
export function benchTrecEval(files: { runPath: string; qrelsPath: string }, ours: Record<string, number>) {
  const bin = trecEvalBinary();
  const args = [...TREC_EVAL_METRICS.map((m) => ['-m', trecMeasure(m)!.arg]).flat(), files.qrelsPath, files.runPath];
  const timed = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const useTime = timed.status === 0 && /TIME /.test(timed.stderr ?? '');
  const t = performance.now();
  const out = useTime ? timed.stdout : execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t) / 1000;
  const m = useTime ? /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(timed.stderr)! : undefined;
  const means: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const [name, q, v] = line.trim().split(/\s+/);
    if (q === 'all') means[name] = Number(v);
  }
  const agree: Record<string, boolean> = {};
  for (const metric of TREC_EVAL_METRICS) agree[metric] = Math.abs(means[trecMeasure(metric)!.printed] - ours[metric]) <= 5e-5 + 1e-12;
  return {
    seconds: m ? Number(m[1]) : wall,
    cpuSeconds: m ? Number(m[2]) + Number(m[3]) : undefined,
    peakRssMiB: m ? Number(m[4]) / 1024 : undefined,
    measures: TREC_EVAL_METRICS.map((x) => trecMeasure(x)!.arg),
    means,
    agree,
    build: 'make with the vendored Makefile (gcc, its CFLAGS: -g, no -O)',
  };
}

/** One parse of `path` by readRun (the run file alone) in this process: wall and CPU seconds, MB/s, query count. */
export function benchParseOnce(path: string) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const run = readRun(path, { rawScores: false });
  const seconds = (performance.now() - t) / 1000;
  const c = process.cpuUsage(cpu);
  const bytes = statSync(path).size;
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6, MBps: bytes / 1e6 / seconds, cpuMBps: bytes / 1e6 / ((c.user + c.system) / 1e6), queries: Object.keys(run).length };
}

// Focused parse bench: `npx tsx bench/metrics.ts --parse FILE [REPEATS]` parses FILE with
// readRun, each time in a fresh process, and prints every measurement and the median
// (MB = 1e6 bytes).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [flag, file, arg] = process.argv.slice(2);
  if (flag === '--parse-one') {
    console.log(JSON.stringify(benchParseOnce(file)));
  } else if (flag === '--parse' && file) {
    const repeats = Number(arg ?? 3);
    const got: ReturnType<typeof benchParseOnce>[] = [];
    for (let r = 0; r < repeats; r++) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', process.argv[1], '--parse-one', file], { encoding: 'utf8' });
      const m = JSON.parse(out.trim().split('\n').at(-1)!);
      got.push(m);
      console.log(`readRun: ${m.MBps.toFixed(1)} MB/s (${m.seconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} CPU-s = ${m.cpuMBps.toFixed(1)} MB per CPU-s)`);
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`median readRun: ${median(got.map((m) => m.MBps)).toFixed(1)} MB/s wall, ${median(got.map((m) => m.cpuMBps)).toFixed(1)} MB per CPU-s`);
  } else {
    console.error('usage: npx tsx bench/metrics.ts --parse FILE [REPEATS]');
    process.exit(2);
  }
}

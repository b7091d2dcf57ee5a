/**
 * Scoring benchmark: exact top-k of Q seeded query vectors against N seeded document
 * vectors (`lib/retrieve/exact-topk.ts`), timed without the vector generation.
 */
import { exactTopK, type TopKBackend } from '../lib/retrieve/exact-topk.js';
import { seededUnitVectors } from './vectors.js';

/** Parameters of {@link benchScoring}. */
export interface ScoringParams {
  queries: number;
  docs: number;
  dim: number;
  k: number;
  /** Seed of the query vectors; documents use `seed + 1`. */
  seed: number;
  backend?: TopKBackend;
  blockSize?: number;
  queryBlockSize?: number;
}

/** Result of {@link benchScoring}. */
export interface ScoringResult extends ScoringParams {
  backend: TopKBackend;
  seconds: number;
  /** CPU seconds, all threads (about threads x seconds when nothing else competes). */
  cpuSeconds: number;
  /**
   * 2·Q·N·d / cpuSeconds / 1e9: throughput per core actually received. On a shared machine
   * this times the core count estimates the idle-machine figure (if it scales, as sgemm does).
   */
  gflopsPerCpuSecond: number;
  /** 2·Q·N·d / seconds / 1e9 (the matrix product; top-k selection is not counted). */
  gflops: number;
  generateSeconds: number;
  /** Queries whose top-1 was re-checked by a naive float64 scan, and how many agreed. */
  checked: number;
  agreed: number;
}

/**
 * Generate the vectors, run `exactTopK` once, and spot-check the top-1 of a few queries
 * against a naive scan (a wrong fast path must not produce a good-looking figure).
 * @example const r = await benchScoring({ queries: 10_000, docs: 200_000, dim: 384, k: 100, seed: 1 });
 */
export async function benchScoring(p: ScoringParams): Promise<ScoringResult> {
  let t = performance.now();
  const q = seededUnitVectors(p.queries, p.dim, p.seed);
  const d = seededUnitVectors(p.docs, p.dim, p.seed + 1);
  const generateSeconds = (performance.now() - t) / 1000;
  // Warm-up: load onnxruntime-node and create its session outside the timed region.
  await exactTopK(q.subarray(0, p.dim), d.subarray(0, p.dim), p.dim, { k: 1, backend: p.backend });
  t = performance.now();
  const cpu = process.cpuUsage();
  const res = await exactTopK(q, d, p.dim, { k: p.k, backend: p.backend, blockSize: p.blockSize, queryBlockSize: p.queryBlockSize });
  const seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  let checked = 0;
  let agreed = 0;
  for (let qi = 0; qi < p.queries; qi += Math.max(1, Math.floor(p.queries / 5))) {
    let best = -Infinity;
    for (let j = 0; j < p.docs; j++) {
      let s = 0;
      for (let x = 0; x < p.dim; x++) s += q[qi * p.dim + x] * d[j * p.dim + x];
      if (s > best) best = s;
    }
    checked++;
    if (Math.abs(best - res.scores[qi * p.k]) < 1e-5) agreed++;
  }
  return {
    ...p,
    backend: res.backend,
    seconds,
    cpuSeconds,
    gflopsPerCpuSecond: (2 * p.queries * p.docs * p.dim) / cpuSeconds / 1e9,
    gflops: (2 * p.queries * p.docs * p.dim) / seconds / 1e9,
    generateSeconds,
    checked,
    agreed,
  };
}

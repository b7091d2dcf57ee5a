/**
 * Threads benchmark: CPU-seconds per wall second of the two ONNX Runtime paths, with one
 * thread and with every core (`defaultThreads()`, the default since issue 13):
 *
 * - scoring: `exactTopK` on seeded unit vectors (Q x N x 384, k = 100);
 * - embedding: `loadEmbedder` on an encoder folder (by default a random-weight e5-small-sized
 *   BERT made by `bench/random-encoder.py`, since no pretrained transformer is available
 *   offline) over XQuAD-de texts, cache off.
 *
 * CPU seconds are `process.cpuUsage()` (all threads of the process). On two idle cores the
 * ratio should be near 2 with all cores and near 1 with one thread.
 */
import { availableParallelism } from 'node:os';
import { loadEmbedder } from '../lib/embed/transformers-embedder.js';
import { exactTopK } from '../lib/retrieve/exact-topk.js';
import { seededUnitVectors } from './vectors.js';

/** One timed run. */
export interface ThreadsPoint {
  what: 'scoring' | 'embedding';
  threads: number;
  seconds: number;
  cpuSeconds: number;
  /** cpuSeconds / seconds. */
  cpuPerWall: number;
  /** Queries x documents scored per second, or texts embedded per second. */
  rate: number;
}

async function timed(what: ThreadsPoint['what'], threads: number, units: number, f: () => Promise<unknown>): Promise<ThreadsPoint> {
  const t = performance.now();
  const c = process.cpuUsage();
  await f();
  const seconds = (performance.now() - t) / 1000;
  const u = process.cpuUsage(c);
  const cpuSeconds = (u.user + u.system) / 1e6;
  return { what, threads, seconds, cpuSeconds, cpuPerWall: cpuSeconds / seconds, rate: units / seconds };
}

/**
 * Scoring with 1 and all threads.
 * @example await benchScoringThreads({ queries: 2000, docs: 50_000, dim: 384, seed: 1 });
 */
export async function benchScoringThreads(p: { queries: number; docs: number; dim: number; seed: number }): Promise<ThreadsPoint[]> {
  const q = seededUnitVectors(p.queries, p.dim, p.seed);
  const d = seededUnitVectors(p.docs, p.dim, p.seed + 1);
  const out: ThreadsPoint[] = [];
  for (const threads of [1, availableParallelism()]) {
    await exactTopK(q.subarray(0, p.dim), d.subarray(0, p.dim), p.dim, { k: 1, threads }); // session outside the timing
    out.push(await timed('scoring', threads, p.queries, () => exactTopK(q, d, p.dim, { k: 100, threads })));
  }
  return out;
}

/**
 * Embedding with 1 and all threads (a warm-up batch first; cache off).
 * @example await benchEmbeddingThreads('/tmp/enc', texts);
 */
export async function benchEmbeddingThreads(modelDir: string, texts: string[], options: { maxLength?: number; batchSize?: number } = {}): Promise<ThreadsPoint[]> {
  const out: ThreadsPoint[] = [];
  for (const threads of [1, availableParallelism()]) {
    const emb = await loadEmbedder(modelDir, { cache: false, progress: false, threads, maxLength: options.maxLength ?? 128, batchSize: options.batchSize ?? 32 });
    await emb.embed(texts.slice(0, 8));
    out.push(await timed('embedding', threads, texts.length, () => emb.embed(texts)));
    await emb.dispose();
  }
  return out;
}

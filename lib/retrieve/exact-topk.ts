/**
 * Exact dense top-k: for every query vector, the `k` documents with the highest dot product
 * (= cosine similarity for L2-normalised vectors), scored by brute force over all documents.
 *
 * ## How it runs
 * Documents are streamed in blocks of `blockSize` rows and queries in chunks of
 * `queryBlockSize` rows; each (query chunk, document block) pair gives a small score matrix
 * whose per-row top-k' is merged into the running top-k of each query. Peak extra memory is
 * one score matrix (`queryBlockSize x blockSize` floats, 128 MiB with the defaults) plus the
 * `Q x k` result, whatever the pool size.
 *
 * ## Why ONNX Runtime by default
 * Two backends compute a block: `ort` runs a two-node ONNX graph (Gemm with transB, then
 * TopK; see `topk-graph.ts`) in onnxruntime-node, whose MLAS sgemm uses AVX-512 on all
 * cores; `js` is a register-blocked loop in plain TypeScript. Measured on the 2-core AVX-512
 * dev machine (`bench/run.ts`, 10,000 x 200,000 x 384, k = 100, same run): `ort` 9.6 s =
 * 160 GFLOPS (peak RSS 0.9 GB); `js` 1.8 GFLOPS (~90x slower); numpy/OpenBLAS sgemm alone
 * 232 GFLOPS, but with an argpartition top-k on top only 58 GFLOPS (2.3 GB). Under heavy
 * shared load all wall figures drop 2-5x; per CPU-second `ort` stays at 64-81 GFLOPS.
 * `js` stays as the fallback (no native binary needed) and as a readable reference.
 *
 * ## Ties
 * Deterministic: among equal scores the lower document index comes first, in both backends
 * (ONNX TopK keeps the lower index first; blocks are merged with earlier blocks winning).
 * Note that the two backends accumulate in different precisions (float32 in MLAS, float64
 * in `js`), so near-ties (differences around 1e-7) may order differently between backends.
 */
import { xlError } from '../util/errors.js';
import { defaultThreads } from '../util/threads.js';
import { createProgress } from '../util/progress.js';
import { buildTopKModel, TOPK_GRAPH_IO } from './topk-graph.js';

/** Backends of {@link exactTopK}. */
export const TOPK_BACKENDS = ['ort', 'js'] as const;
export type TopKBackend = (typeof TOPK_BACKENDS)[number];

/** Options of {@link exactTopK}. */
export interface ExactTopKOptions {
  /** Number of documents to keep per query (integer >= 1). Required. */
  k: number;
  /** Documents per block (default 16384). Larger blocks: fewer merges, more memory. */
  blockSize?: number;
  /** Queries per chunk (default 2048). Score memory is `queryBlockSize * blockSize * 4` bytes. */
  queryBlockSize?: number;
  /** Document indices (0-based) that query `queryIndex` must not retrieve (default: none). */
  exclude?: (queryIndex: number) => Iterable<number>;
  /**
   * `ort` (onnxruntime-node) or `js` (plain loop). Default: `ort` when onnxruntime-node
   * loads, else `js`. An explicit `ort` that cannot load is an error.
   */
  backend?: TopKBackend;
  /** ONNX Runtime intra-op threads (default: every available core, `defaultThreads()`; ORT's own default used one of two here). */
  threads?: number;
}

/** Result of {@link exactTopK}: `Q x k`, row-major, best first. */
export interface TopKResult {
  k: number;
  /** Document indices; -1 where fewer than `k` documents were available. */
  indices: Int32Array;
  /** Scores (dot products); -Infinity where `indices` is -1. */
  scores: Float32Array;
  /** The backend that ran. */
  backend: TopKBackend;
}

/** Top-k' of one block, row-major `m x kk`, best first, ties lower index first. */
interface BlockTopK {
  kk: number;
  values: Float32Array;
  /** Block-local indices (0-based within the document block). */
  indices: Int32Array;
}

type BlockFn = (q: Float32Array, m: number, docs: Float32Array, n: number, dim: number, kk: number) => Promise<BlockTopK>;

// blockSize: 16384 measured ~20% faster than 8192 (bench child, 10k x 50k x 384, two A/B
// pairs: 70-72 vs 59-61 GFLOPS per CPU-second) for +128 MiB peak; 32768 gave no more.
const DEFAULTS = { blockSize: 16384, queryBlockSize: 2048 };

/**
 * Exact top-k by dot product of `queries` (Q x dim, row-major) against `docs` (N x dim).
 *
 * Contract: `indices[q*k + r]` is the document with the r-th highest score `queries[q] ·
 * docs[i]` among documents not excluded for `q`; ties go to the lower document index; rows
 * are padded with index -1 and score -Infinity when fewer than `k` documents remain. Inputs
 * must be finite; normalise them first if you want cosine similarity.
 *
 * @param queries - Q x dim float32, row-major.
 * @param docs - N x dim float32, row-major.
 * @param dim - vector dimension (integer >= 1).
 * @param options - see {@link ExactTopKOptions}; `k` is required.
 * @throws XlalignError when `dim` or `k` is not a positive integer, an array length is not
 *   a multiple of `dim`, an excluded index is outside `[0, N)`, or `backend` is unknown or
 *   `ort` cannot load.
 * @example
 * const { indices, scores } = await exactTopK(qVecs, dVecs, 384, { k: 100 });
 * const best = indices[0]; // best document of query 0
 */
export async function exactTopK(
  queries: Float32Array,
  docs: Float32Array,
  dim: number,
  options: ExactTopKOptions,
): Promise<TopKResult> {
  const where = 'exactTopK';
  const { k, exclude } = options;
  const blockSize = options.blockSize ?? DEFAULTS.blockSize;
  const queryBlockSize = options.queryBlockSize ?? DEFAULTS.queryBlockSize;
  const positive = (name: string, v: number) => {
    if (!(Number.isInteger(v) && v >= 1)) throw xlError(where, `${name} = ${v} is not valid; use an integer >= 1`);
  };
  positive('dim', dim);
  positive('options.k', k);
  positive('options.blockSize', blockSize);
  positive('options.queryBlockSize', queryBlockSize);
  if (queries.length % dim !== 0) throw xlError(where, `queries.length = ${queries.length} is not a multiple of dim = ${dim}`);
  if (docs.length % dim !== 0) throw xlError(where, `docs.length = ${docs.length} is not a multiple of dim = ${dim}`);
  const nq = queries.length / dim;
  const nd = docs.length / dim;

  const { backend, block } = await resolveBackend(options.backend, options.threads ?? defaultThreads());
  const indices = new Int32Array(nq * k).fill(-1);
  const scores = new Float32Array(nq * k).fill(-Infinity);
  if (nq === 0 || nd === 0) return { k, indices, scores, backend };

  // Per-query excluded indices, sorted and de-duplicated (binary-searched per block).
  const excluded: (Int32Array | undefined)[] = new Array(nq);
  if (exclude) {
    for (let q = 0; q < nq; q++) {
      const list: number[] = [];
      for (const i of exclude(q)) {
        if (!(Number.isInteger(i) && i >= 0 && i < nd)) {
          throw xlError(where, `options.exclude(${q}) gave document index ${i}; valid indices are integers in [0, ${nd})`);
        }
        list.push(i);
      }
      if (list.length > 0) {
        const sorted = Int32Array.from(new Set(list)).sort();
        excluded[q] = sorted;
      }
    }
  }

  const counts = new Int32Array(nq); // valid entries in each running row
  const mergeIdx = new Int32Array(k);
  const mergeVal = new Float32Array(k);
  // progress (a bar on a TTY, a line every ~10 s otherwise) for jobs of more than 8 block pairs
  const pairs = Math.ceil(nd / blockSize) * Math.ceil(nq / queryBlockSize);
  const progress = createProgress({ stage: 'retrieve', total: nq * nd, unit: 'scores', mode: pairs > 8 ? undefined : 'off' });
  for (let b0 = 0; b0 < nd; b0 += blockSize) {
    const b1 = Math.min(nd, b0 + blockSize);
    const nb = b1 - b0;
    const docBlock = docs.subarray(b0 * dim, b1 * dim);
    for (let q0 = 0; q0 < nq; q0 += queryBlockSize) {
      const q1 = Math.min(nq, q0 + queryBlockSize);
      // Ask the block for k + (most exclusions any query of the chunk has in this block).
      let extra = 0;
      for (let q = q0; q < q1; q++) {
        const ex = excluded[q];
        if (ex) extra = Math.max(extra, lowerBound(ex, b1) - lowerBound(ex, b0));
      }
      const kk = Math.min(nb, k + extra);
      const top = await block(queries.subarray(q0 * dim, q1 * dim), q1 - q0, docBlock, nb, dim, kk);
      progress.tick((q1 - q0) * nb);
      for (let q = q0; q < q1; q++) {
        const ex = excluded[q];
        const row = (q - q0) * kk;
        const base = q * k;
        // Merge the running row (earlier blocks: lower indices, win ties) with this block's.
        let a = 0;
        let c = 0;
        let out = 0;
        const na = counts[q];
        while (out < k) {
          // next valid block entry
          while (c < kk && ex !== undefined && contains(ex, b0 + top.indices[row + c])) c++;
          const hasA = a < na;
          const hasB = c < kk;
          if (!hasA && !hasB) break;
          if (hasA && (!hasB || scores[base + a] >= top.values[row + c])) {
            mergeIdx[out] = indices[base + a];
            mergeVal[out] = scores[base + a];
            a++;
          } else {
            mergeIdx[out] = b0 + top.indices[row + c];
            mergeVal[out] = top.values[row + c];
            c++;
          }
          out++;
        }
        indices.set(mergeIdx.subarray(0, out), base);
        scores.set(mergeVal.subarray(0, out), base);
        counts[q] = out;
      }
    }
  }
  progress.done();
  return { k, indices, scores, backend };
}

/** First position in sorted `a` whose value is >= x. */
function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function contains(a: Int32Array, x: number): boolean {
  const i = lowerBound(a, x);
  return i < a.length && a[i] === x;
}

// ---------------------------------------------------------------------------------------
// Backends

type OrtModule = typeof import('onnxruntime-node');
let ortModule: Promise<OrtModule | undefined> | undefined;
const sessions = new Map<number, Promise<import('onnxruntime-node').InferenceSession>>();

function loadOrt(): Promise<OrtModule | undefined> {
  ortModule ??= import('onnxruntime-node').then(
    (m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule,
    () => undefined,
  );
  return ortModule;
}

async function resolveBackend(requested: string | undefined, threads: number): Promise<{ backend: TopKBackend; block: BlockFn }> {
  if (requested !== undefined && !(TOPK_BACKENDS as readonly string[]).includes(requested)) {
    throw xlError('exactTopK', `unsupported options.backend '${requested}'; use 'ort' or 'js'`);
  }
  if (!(Number.isInteger(threads) && threads >= 1)) throw xlError('exactTopK', `options.threads = ${threads} is not valid; use an integer >= 1`);
  if (requested === 'js') return { backend: 'js', block: jsBlockTopK };
  const ort = await loadOrt();
  if (!ort) {
    if (requested === 'ort') {
      throw xlError('exactTopK', `options.backend 'ort' requested but onnxruntime-node cannot be loaded; install it or use backend 'js'`);
    }
    return { backend: 'js', block: jsBlockTopK };
  }
  let session = sessions.get(threads);
  if (!session) {
    session = ort.InferenceSession.create(buildTopKModel(), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    sessions.set(threads, session);
  }
  const s = await session;
  const block: BlockFn = async (q, m, docs, n, dim, kk) => {
    const out = await s.run({
      [TOPK_GRAPH_IO.queries]: new ort.Tensor('float32', q, [m, dim]),
      [TOPK_GRAPH_IO.docs]: new ort.Tensor('float32', docs, [n, dim]),
      [TOPK_GRAPH_IO.k]: new ort.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]),
    });
    const values = out[TOPK_GRAPH_IO.values].data as Float32Array;
    const idx64 = out[TOPK_GRAPH_IO.indices].data as BigInt64Array;
    // Block-local indices are < 2^31: take the low 32-bit word of each little-endian int64
    // instead of converting m*kk BigInts.
    const words = new Int32Array(idx64.buffer, idx64.byteOffset, idx64.length * 2);
    const indices = new Int32Array(idx64.length);
    for (let i = 0; i < indices.length; i++) indices[i] = words[2 * i];
    return { kk, values, indices };
  };
  return { backend: 'ort', block };
}

/** Documents per inner tile of the JS loop: 128 x 384 floats = 192 KiB, fits in L2. */
const JS_TILE = 128;

/**
 * The JS backend for one block: scores with a 4-document register-blocked dot product over
 * tiles of {@link JS_TILE} documents (float64 accumulation), then per-row top-kk selection
 * with a bounded heap. Hand-written: there is no maintained pure-JS sgemm worth a dependency,
 * and this path is the fallback and the reference, not the fast one.
 */
const jsBlockTopK: BlockFn = async (q, m, docs, n, dim, kk) => {
  const s = new Float32Array(m * n);
  for (let t0 = 0; t0 < n; t0 += JS_TILE) {
    const t1 = Math.min(n, t0 + JS_TILE);
    for (let i = 0; i < m; i++) {
      const qo = i * dim;
      const so = i * n;
      let j = t0;
      for (; j + 4 <= t1; j += 4) {
        const d0 = j * dim;
        const d1 = d0 + dim;
        const d2 = d1 + dim;
        const d3 = d2 + dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let t = 0; t < dim; t++) {
          const qv = q[qo + t];
          s0 += qv * docs[d0 + t];
          s1 += qv * docs[d1 + t];
          s2 += qv * docs[d2 + t];
          s3 += qv * docs[d3 + t];
        }
        s[so + j] = s0;
        s[so + j + 1] = s1;
        s[so + j + 2] = s2;
        s[so + j + 3] = s3;
      }
      for (; j < t1; j++) {
        const d0 = j * dim;
        let s0 = 0;
        for (let t = 0; t < dim; t++) s0 += q[qo + t] * docs[d0 + t];
        s[so + j] = s0;
      }
    }
  }
  const values = new Float32Array(m * kk);
  const indices = new Int32Array(m * kk);
  const heapV = new Float32Array(kk);
  const heapI = new Int32Array(kk);
  for (let i = 0; i < m; i++) {
    selectTopK(s, i * n, n, kk, heapV, heapI);
    values.set(heapV, i * kk);
    indices.set(heapI, i * kk);
  }
  return { kk, values, indices };
};

/**
 * Top `kk` of `s[off .. off+n)` into (v, ix), best first, ties lower index first.
 * A min-heap of the kk best so far whose root is the worst (lowest score, then highest
 * index); scanning indices in increasing order, an equal score never displaces the root.
 */
export function selectTopK(s: Float32Array, off: number, n: number, kk: number, v: Float32Array, ix: Int32Array): void {
  // worse(a, b): a ranks below b
  const worse = (va: number, ia: number, vb: number, ib: number) => va < vb || (va === vb && ia > ib);
  let size = 0;
  const siftDown = (pos: number) => {
    for (;;) {
      const l = 2 * pos + 1;
      const r = l + 1;
      let w = pos;
      if (l < size && worse(v[l], ix[l], v[w], ix[w])) w = l;
      if (r < size && worse(v[r], ix[r], v[w], ix[w])) w = r;
      if (w === pos) return;
      const tv = v[pos];
      const ti = ix[pos];
      v[pos] = v[w];
      ix[pos] = ix[w];
      v[w] = tv;
      ix[w] = ti;
      pos = w;
    }
  };
  for (let j = 0; j < n; j++) {
    const x = s[off + j];
    if (size < kk) {
      // sift up
      let pos = size++;
      while (pos > 0) {
        const p = (pos - 1) >> 1;
        if (!worse(x, j, v[p], ix[p])) break;
        v[pos] = v[p];
        ix[pos] = ix[p];
        pos = p;
      }
      v[pos] = x;
      ix[pos] = j;
    } else if (x > v[0]) {
      v[0] = x;
      ix[0] = j;
      siftDown(0);
    }
  }
  // Pop the worst to the end: heap sort gives best-first order.
  for (let end = size - 1; end > 0; end--) {
    const tv = v[0];
    const ti = ix[0];
    v[0] = v[end];
    ix[0] = ix[end];
    v[end] = tv;
    ix[end] = ti;
    size = end;
    siftDown(0);
  }
}

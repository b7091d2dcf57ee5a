/**
 * The numpy reference for the scoring benchmark: the same shapes, blocked `q @ d.T` and
 * `argpartition` top-k, in a python3 child. Used only when `python3 -c 'import numpy'`
 * works; numpy's BLAS (OpenBLAS here) is the bar the ONNX Runtime path is compared with.
 */
import { spawnSync } from 'node:child_process';

/** Result of {@link numpyReference}; `null` from the function when numpy is unavailable. */
export interface NumpyResult {
  queries: number;
  docs: number;
  dim: number;
  k: number;
  /** Blocked matmul + argpartition top-k, all blocks. */
  seconds: number;
  gflops: number;
  /** Matmul alone (same blocks), for a BLAS-only figure. */
  matmulSeconds: number;
  matmulGflops: number;
  peakRssMiB: number;
  numpy: string;
  blas: string;
}

const SCRIPT = String.raw`
import json, sys, time, resource
import numpy as np
Q, N, D, K, B, seed = (int(x) for x in sys.argv[1:7])
rng = np.random.default_rng(seed)
def unit(n):
    x = rng.standard_normal((n, D), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x
q = unit(Q); d = unit(N)
best_s = np.full((Q, K), -np.inf, dtype=np.float32); best_i = np.full((Q, K), -1, dtype=np.int64)
mm = 0.0
t = time.perf_counter()
for b0 in range(0, N, B):
    t1 = time.perf_counter()
    s = q @ d[b0:b0 + B].T
    mm += time.perf_counter() - t1
    kk = min(K, s.shape[1])
    part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
    vals = np.take_along_axis(s, part, axis=1)
    cs = np.concatenate([best_s, vals], axis=1); ci = np.concatenate([best_i, part + b0], axis=1)
    top = np.argpartition(-cs, K - 1, axis=1)[:, :K]
    best_s = np.take_along_axis(cs, top, axis=1); best_i = np.take_along_axis(ci, top, axis=1)
order = np.argsort(-best_s, axis=1, kind='stable')
best_s = np.take_along_axis(best_s, order, axis=1)
sec = time.perf_counter() - t
blas = ''
try:
    cfg = np.show_config(mode='dicts')
    blas = cfg['Build Dependencies']['blas']['name'] + ' ' + cfg['Build Dependencies']['blas'].get('version', '')
except Exception:
    pass
print(json.dumps(dict(seconds=sec, matmulSeconds=mm, peakRssMiB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, numpy=np.__version__, blas=blas)))
`;

/**
 * Run the numpy reference on `queries x docs x dim` (blocks of `blockSize` documents).
 * Returns null when python3 or numpy is missing (the caller reports that instead).
 * @example const ref = numpyReference({ queries: 10_000, docs: 200_000, dim: 384, k: 100, seed: 1 });
 */
export function numpyReference(p: { queries: number; docs: number; dim: number; k: number; seed: number; blockSize?: number }): NumpyResult | null {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
  if (probe.status !== 0) return null;
  const args = [p.queries, p.docs, p.dim, p.k, p.blockSize ?? 8192, p.seed].map(String);
  const r = spawnSync('python3', ['-c', SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`numpyReference: python3 failed (${r.status}): ${r.stderr.slice(-500)}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  const flop = 2 * p.queries * p.docs * p.dim;
  return {
    queries: p.queries,
    docs: p.docs,
    dim: p.dim,
    k: p.k,
    seconds: o.seconds,
    gflops: flop / o.seconds / 1e9,
    matmulSeconds: o.matmulSeconds,
    matmulGflops: flop / o.matmulSeconds / 1e9,
    peakRssMiB: o.peakRssMiB,
    numpy: o.numpy,
    blas: o.blas,
  };
}

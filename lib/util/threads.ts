/**
 * The number of CPU threads native kernels (ONNX Runtime sessions: the transformers.js
 * encoder, exact top-k) use. Default: every available core (`os.availableParallelism()`);
 * `xlalign ... --threads N` or `XLALIGN_THREADS=N` sets it for the process.
 */
import { availableParallelism } from 'node:os';
import { xlError } from './errors.js';

let override: number | undefined;

/** Threads to use: the value set by {@link setThreads}, else `XLALIGN_THREADS`, else all cores. */
export function defaultThreads(): number {
  if (override !== undefined) return override;
  const env = process.env.XLALIGN_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return Math.max(1, availableParallelism());
}

/**
 * Set the thread count for this process (`undefined` restores the default).
 * @throws XlalignError unless `n` is an integer >= 1.
 * @example setThreads(2);
 */
export function setThreads(n: number | undefined): void {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw xlError('setThreads', `threads must be an integer >= 1, got ${n}`);
  override = n;
}

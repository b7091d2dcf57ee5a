/**
 * The number of CPU threads native kernels (ONNX Runtime sessions: the transformers.js
 * encoder, exact top-k) use. Default: every available core (`os.availableParallelism()`);
 * `xlalign ... --threads N` or `XLALIGN_THREADS=N` sets it for the process, capped at the cores.
 */
import { availableParallelism } from 'node:os';
import { xlError } from './errors.js';

let override: number | undefined;
let envWarned = false;
/** The last count {@link setThreads} warned about (a command may apply its options more than once). */
let warnedFor: number | undefined;

const stderrLine = (line: string) => {
  process.stderr.write(line + '\n');
};

/**
 * `n` capped at the available cores (`os.availableParallelism()`), with a warning through
 * `notice` when it was above: more threads than cores only adds contention (a cached 20x20
 * pool took 115 s with 1000 threads).
 * @example capThreads(1000, 'XLALIGN_THREADS') // 16 on a 16-core machine, after a warning
 */
export function capThreads(n: number, source = '--threads', notice: (line: string) => void = stderrLine): number {
  const cores = Math.max(1, availableParallelism());
  if (n <= cores) return n;
  notice(`warning: ${source} ${n} is above the ${cores} available cores; using ${cores}`);
  return cores;
}

/** Threads to use: the value set by {@link setThreads}, else `XLALIGN_THREADS` (capped at the cores), else all cores. */
export function defaultThreads(): number {
  if (override !== undefined) return override;
  const env = process.env.XLALIGN_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) {
      const capped = capThreads(n, 'XLALIGN_THREADS', envWarned ? () => {} : stderrLine);
      envWarned = true;
      return capped;
    }
  }
  return Math.max(1, availableParallelism());
}

/**
 * Set the thread count for this process (`undefined` restores the default). A count above
 * the available cores is capped at them, with a warning through `notice` (default stderr;
 * once per count, as commands apply their options more than once).
 * @throws XlalignError unless `n` is an integer >= 1.
 * @example setThreads(2);
 */
export function setThreads(n: number | undefined, notice: (line: string) => void = stderrLine): void {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw xlError('setThreads', `threads must be an integer >= 1, got ${n}`);
  if (n === undefined) {
    override = undefined;
    return;
  }
  override = capThreads(n, '--threads', n === warnedFor ? () => {} : notice);
  if (override < n) warnedFor = n;
}

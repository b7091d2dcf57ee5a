import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { xlError } from './errors.js';

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up after this many milliseconds of waiting. Default 120000. */
  timeoutMs?: number;
  /** Milliseconds between tries. Default 50. */
  retryMs?: number;
  /** A lock file older than this is taken as left by a killed process and removed. Default 600000 (10 min). */
  staleMs?: number;
}

function holderIsDead(path: string): boolean {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Run `fn` while holding an exclusive lock file: the file is created with `O_CREAT|O_EXCL`
 * (`'wx'`, atomic on local file systems) holding the process id, and removed afterwards. A
 * second holder waits and retries every `retryMs`. A lock whose process is gone (same host)
 * or that is older than `staleMs` is removed.
 *
 * @throws XlalignError after `timeoutMs` of waiting, naming the lock file.
 * @example await withFileLock('out/metrics.lock', () => merge());
 */
export async function withFileLock<T>(path: string, fn: () => T | Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const { timeoutMs = 120_000, retryMs = 50, staleMs = 600_000 } = options;
  mkdirSync(dirname(path), { recursive: true });
  const t0 = Date.now();
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let age = 0;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue; // removed meanwhile: try again now
      }
      if (age > staleMs || holderIsDead(path)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() - t0 > timeoutMs) throw xlError('withFileLock', `${path} is held by another process for more than ${timeoutMs} ms; remove it if no xlalign is running`, { kind: 'internal' });
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
  try {
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * Removal of temporary files left by killed processes. Every atomic writer of xlalign
 * writes `<target>.<pid>.<random>.tmp` and renames it; a SIGKILL between the two leaves the
 * temporary file. {@link removeStaleTemp} deletes those whose process no longer runs.
 */
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const TEMP = /\.(\d+)\.[a-z0-9]+\.tmp$/;

/** Whether a process with this id runs (EPERM: it runs under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Delete `*.<pid>.<random>.tmp` files under `dir` (recursively by default) whose pid is
 * not running (and is not this process). Returns the removed paths. A missing folder is
 * fine (nothing to do).
 * @example removeStaleTemp('results/runs'); // after a SIGKILLed eval
 */
export function removeStaleTemp(dir: string, options: { recursive?: boolean } = {}): string[] {
  const { recursive = true } = options;
  const removed: string[] = [];
  if (!existsSync(dir)) return removed;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const m = TEMP.exec(f);
    if (m) {
      const pid = Number(m[1]);
      if (pid === process.pid || isAlive(pid)) continue;
      try {
        unlinkSync(p);
        removed.push(p);
      } catch {
        // removed by another process
      }
    } else if (recursive) {
      let dirent;
      try {
        dirent = statSync(p);
      } catch {
        continue;
      }
      if (dirent.isDirectory()) removed.push(...removeStaleTemp(p, options));
    }
  }
  return removed;
}

import { mkdirSync, renameSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Write a file atomically: write `<path>.<pid>.<random>.tmp` beside it, then rename. A reader
 * (or a run killed halfway) sees either the old file or the whole new one, never a torn one.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** sha256 of a file or buffer, hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file's bytes, hex. */
export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/**
 * The package root (the folder with package.json), found from this module's location so
 * that it works from `lib/` (tsx), from `dist/` (compiled, notebooks) and when installed.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'data'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('packageRoot: cannot find the xlalign package root (package.json beside data/)');
}

/** Path of a file under the package's `data/` folder. */
export function dataPath(...parts: string[]): string {
  return resolve(packageRoot(), 'data', ...parts);
}

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Whether a folder holds a static embedding model written by xlalign (its `config.json` has
 * `xlalign_static`, see `format.ts`); false for a missing or unreadable config. Light (reads
 * one small file, imports nothing heavy), so the command line can call it while validating.
 * @example isStaticModelFolder('data/models/xlalign-static-v1') // true
 */
export function isStaticModelFolder(dir: string): boolean {
  try {
    return Boolean((JSON.parse(readFileSync(join(resolve(dir), 'config.json'), 'utf8')) as { xlalign_static?: unknown }).xlalign_static);
  } catch {
    return false;
  }
}

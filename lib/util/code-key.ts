/**
 * The code key of cached results: the package version plus a sha256 over the source files
 * that turn a retriever's output into numbers (pool building, run I/O and ranking, metrics,
 * retrieval, embedding, the evaluation driver). Part of every pool-cache key, so a change to
 * any of those files never serves numbers computed by the old code.
 *
 * The files are found next to this module (`lib/` under tsx, `dist/` when compiled), so the
 * key is computed from the code that actually runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from './fs.js';

/** The folders (relative to `lib/` or `dist/`) whose code produces evaluation numbers. */
export const CODE_KEY_PARTS = ['pools', 'runs', 'metrics', 'retrieve', 'embed', 'models', 'eval/run-evaluation'] as const;

/**
 * sha256 (hex) over every `.ts`/`.js` file under the given folders or files (a part without
 * extension matches `<part>.ts` / `<part>.js`), in sorted relative-path order, names included.
 *
 * @param root  the source root (`lib/` or `dist/`).
 * @example codeHash('lib', ['metrics']) // '3f2a...'
 */
export function codeHash(root: string, parts: readonly string[]): string {
  const h = createHash('sha256');
  const files: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    else if (/\.(ts|js|mjs)$/.test(p) && !p.endsWith('.d.ts')) files.push(p);
  };
  for (const part of parts) {
    const p = resolve(root, part);
    if (existsSync(p)) walk(p);
    for (const ext of ['.ts', '.js']) if (existsSync(p + ext)) files.push(p + ext);
  }
  for (const f of files.map((f) => relative(root, f)).sort()) h.update(`${f}\0`).update(readFileSync(join(root, f))).update('\0');
  return h.digest('hex');
}

let memo: string | undefined;

/** xlalign's package version (`package.json`). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0';
}

/**
 * `xlalign@<version>+<16 hex>`: the package version and {@link codeHash} of
 * {@link CODE_KEY_PARTS} beside this module. Memoised per process.
 * @example codeKey() // 'xlalign@0.1.0+1c9e0b6f2d3a4e5f'
 */
export function codeKey(): string {
  if (memo) return memo;
  const version = packageVersion();
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  memo = `xlalign@${version}+${codeHash(root, CODE_KEY_PARTS).slice(0, 16)}`;
  return memo;
}

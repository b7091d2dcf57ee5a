/**
 * JSON files that prove they are whole and unchanged: `{ format, sha256, body }`, where
 * `sha256` is the hash of `JSON.stringify(body)`. Written atomically; read back with a
 * format check, the checksum and a zod schema of the body. Used for every cache entry and
 * resumable result, so a truncated, emptied (`{}`) or hand-edited file is detected, named,
 * removed and recomputed instead of crashing a rerun or serving wrong numbers.
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import type { z } from 'zod';
import { sha256, writeFileAtomic } from './fs.js';

/** Write `body` as a verified JSON file of `format` (atomic). */
export function writeVerifiedJson(path: string, format: string, body: unknown): void {
  const text = JSON.stringify(body);
  writeFileAtomic(path, `{"format":${JSON.stringify(format)},"sha256":"${sha256(text)}","body":${text}}\n`);
}

/** Result of {@link readVerifiedJson}. */
export type VerifiedRead<T> = { ok: true; value: T } | { ok: false; missing: boolean; reason: string };

/**
 * Read a file written by {@link writeVerifiedJson}: whole JSON, the expected `format`, the
 * checksum of the body and `schema` must all hold. Never throws for bad content: returns
 * `{ ok: false, reason }` (e.g. `not JSON (truncated?)`, `checksum mismatch`).
 * @example const r = readVerifiedJson(file, 'xlalign-pool/2', PoolEntry); if (r.ok) use(r.value);
 */
export function readVerifiedJson<T>(path: string, format: string, schema: z.ZodType<T>): VerifiedRead<T> {
  if (!existsSync(path)) return { ok: false, missing: true, reason: 'missing' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return { ok: false, missing: false, reason: `not JSON (truncated?): ${(e as Error).message}` };
  }
  const env = parsed as { format?: unknown; sha256?: unknown; body?: unknown } | null;
  if (!env || typeof env !== 'object' || env.format !== format) {
    return { ok: false, missing: false, reason: `not a '${format}' file (format ${JSON.stringify(env?.format ?? null)})` };
  }
  if (typeof env.sha256 !== 'string' || env.body === undefined || sha256(JSON.stringify(env.body)) !== env.sha256) {
    return { ok: false, missing: false, reason: 'checksum mismatch' };
  }
  const r = schema.safeParse(env.body);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, missing: false, reason: `schema: ${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { ok: true, value: r.data };
}

/**
 * Report and delete a bad entry: writes `notice: <path>: <reason>; removed, recomputing`
 * (one line) through `notice` (default stderr). Returns nothing; a file already gone is fine.
 */
export function discardBadEntry(path: string, reason: string, notice: (line: string) => void = (l) => process.stderr.write(l + '\n')): void {
  notice(`notice: ${path}: ${reason}; removed, recomputing`);
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

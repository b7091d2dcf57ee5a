/**
 * Reading JSONL files row by row with a zod schema: every error names `file:line: field`.
 */
import { existsSync } from 'node:fs';
import type { z } from 'zod';
import { xlError } from '../util/errors.js';
import { readTextFile } from '../util/text-file.js';

/** A parsed row with where it came from. */
export interface Located<T> {
  value: T;
  file: string;
  /** 1-based line number. */
  line: number;
}

/** `file:line: field: message` for the first issue of a failed zod parse. */
export function zodIssueMessage(file: string, line: number, error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(row)';
  return `${file}:${line}: ${field}: ${issue.message}`;
}

/**
 * Read a JSONL file (one JSON value a line; blank lines skipped) and check every row
 * against `schema`.
 *
 * @throws XlalignError `where: file:line: field: what is wrong` for a missing file, a line
 *   that is not JSON, or a row the schema rejects.
 * @example const rows = readJsonlRows('docs.jsonl', DocRowSchema, 'loadDatasetFolder');
 */
export function readJsonlRows<S extends z.ZodType>(file: string, schema: S, where: string): Located<z.infer<S>>[] {
  if (!existsSync(file)) throw xlError(where, `no file ${file}`);
  const out: Located<z.infer<S>>[] = [];
  const lines = readTextFile(file, where).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim();
    if (!text) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw xlError(where, `${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const r = schema.safeParse(json);
    if (!r.success) throw xlError(where, zodIssueMessage(file, i + 1, r.error));
    out.push({ value: r.data, file, line: i + 1 });
  }
  return out;
}

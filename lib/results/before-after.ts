import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * `before-after.json`, one metric of one pool before and after training with the paired
 * bootstrap interval of the change: the one owner of its format (zod schema, type, writer,
 * reader). `xlalign train` writes it (`lib/experiments/alignment.ts`, rows from
 * `compareEvaluations`), the before/after figures read it (`lib/plot/standard-figures.ts`).
 *
 * File: a JSON array of rows (`JSON.stringify(rows, null, 1)`), numbers in full precision.
 * The reader also takes `{ rows: [...] }`, and rows without `scenario` or `delta` (hand-made
 * figure input); it keeps unknown fields.
 */

/** zod schema of one row of `before-after.json`. */
export const BeforeAfterRowSchema = z.looseObject({
  /** Scenario of the pool (`mono`, `mixed`, ...). Optional for hand-made figure input. */
  scenario: z.string().min(1).optional(),
  lang: z.string().min(1),
  queryLang: z.string().min(1).optional(),
  metric: z.string().min(1),
  before: z.number(),
  after: z.number(),
  /** after − before (of the aggregates). */
  delta: z.number().optional(),
  /** 95% paired bootstrap interval of the mean per-query change (absent for median aggregates). */
  deltaLow: z.number().optional(),
  deltaHigh: z.number().optional(),
  /** Queries compared. */
  queries: z.number().int().nonnegative().optional(),
});

/** One row of `before-after.json` (fields as in {@link BeforeAfterRowSchema}; `DeltaRow` of `lib/eval/compare.ts` is one). */
export interface BeforeAfterRow {
  scenario?: string;
  lang: string;
  /** Language of the queries, when not the pool's own (`--query-langs pivot`). */
  queryLang?: string;
  metric: string;
  before: number;
  after: number;
  delta?: number;
  deltaLow?: number;
  deltaHigh?: number;
  queries?: number;
}

/** zod schema of the file: an array of rows. */
export const BeforeAfterFileSchema = z.array(BeforeAfterRowSchema);

/**
 * Write `before-after.json` atomically: the rows as a JSON array, one-space indented.
 * @example writeBeforeAfter('results/train/before-after.json', compareEvaluations(before, after));
 */
export function writeBeforeAfter(path: string, rows: readonly BeforeAfterRow[]): void {
  writeFileAtomic(path, JSON.stringify(rows, null, 1) + '\n');
}

/**
 * Parse the text of a `before-after.json` (an array of rows, or `{ rows: [...] }`), each row
 * checked with {@link BeforeAfterRowSchema}.
 * @throws XlalignError naming the file, the row and the field, e.g. `x.json: rows[0].before: Invalid input: ...`.
 * @example const rows = parseBeforeAfter(text, 'before-after.json');
 */
export function parseBeforeAfter(text: string, file = 'before-after.json'): BeforeAfterRow[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw xlError('readBeforeAfter', `${file}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const rows = json !== null && typeof json === 'object' && !Array.isArray(json) && Array.isArray((json as { rows?: unknown }).rows) ? (json as { rows: unknown }).rows : json;
  const r = BeforeAfterFileSchema.safeParse(rows);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const at = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
    throw xlError('readBeforeAfter', `${file}: rows${at}: ${issue.message}; expected [{ scenario?, lang, metric, before, after, delta?, deltaLow?, deltaHigh?, queries? }, ...]`);
  }
  return r.data as BeforeAfterRow[];
}

/**
 * Read `before-after.json`; see {@link parseBeforeAfter}.
 * @throws XlalignError when the file cannot be read, is not JSON, or a row is malformed.
 * @example const rows = readBeforeAfter('results/train/before-after.json'); rows.filter((r) => r.metric === 'maxr')
 */
export function readBeforeAfter(path: string): BeforeAfterRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw xlError('readBeforeAfter', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseBeforeAfter(text, path);
}

/**
 * `before-after-mean.json`: per scenario (and query language) and metric, the mean over
 * languages before and after training with the paired, stratified bootstrap interval of
 * that mean (`MeanDeltaRow` of `lib/eval/compare.ts`). Written by `xlalign train`, read by
 * the ablation summary.
 */
export const BeforeAfterMeanRowSchema = z.looseObject({
  scenario: z.string().min(1),
  queryLang: z.string().min(1).optional(),
  metric: z.string().min(1),
  /** The languages averaged (each weighs 1/G). */
  langs: z.array(z.string()),
  before: z.number(),
  after: z.number(),
  delta: z.number(),
  deltaLow: z.number().optional(),
  deltaHigh: z.number().optional(),
  queries: z.number().int().nonnegative().optional(),
});
/** One row of `before-after-mean.json` (`MeanDeltaRow` of `lib/eval/compare.ts` is one). */
export interface BeforeAfterMeanRow {
  scenario: string;
  queryLang?: string;
  metric: string;
  langs: string[];
  before: number;
  after: number;
  delta: number;
  deltaLow?: number;
  deltaHigh?: number;
  queries?: number;
}

/** Write `before-after-mean.json` atomically (a JSON array, one-space indented). */
export function writeBeforeAfterMeans(path: string, rows: readonly BeforeAfterMeanRow[]): void {
  writeFileAtomic(path, JSON.stringify(rows, null, 1) + '\n');
}

/**
 * Read `before-after-mean.json`.
 * @throws XlalignError naming the file, row and field.
 */
export function readBeforeAfterMeans(path: string): BeforeAfterMeanRow[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw xlError('readBeforeAfterMeans', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const r = z.array(BeforeAfterMeanRowSchema).safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw xlError('readBeforeAfterMeans', `${path}: rows${issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}: ${issue.message}`);
  }
  return r.data as BeforeAfterMeanRow[];
}

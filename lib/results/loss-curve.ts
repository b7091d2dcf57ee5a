import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { toCSV } from './table-format.js';

/**
 * `loss.csv`, the loss curve of a training run: the one owner of its format (type, zod
 * schema, writer, reader). The training loop writes it (`lib/train/train-loop.ts`), the
 * loss figures read it (`lib/plot/loss-curve.ts`).
 *
 * Format: header `step,epoch,loss,lr,<part names in first-seen order>`, one line per
 * optimizer step, numbers in full precision (`String(x)`, so a read gives the same
 * doubles), an empty cell where a step lacks a part.
 */

/** One row of the loss curve. `parts` are the unweighted loss terms (`infoNCE`, `jsd`, ...). */
export interface LossRow {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  parts: Record<string, number>;
}

/** zod schema of a {@link LossRow} (what {@link lossRows} returns, validated). */
export const LossRowSchema = z.object({
  step: z.number().int().nonnegative(),
  epoch: z.number().int().positive(),
  loss: z.number(),
  lr: z.number().nonnegative(),
  parts: z.record(z.string(), z.number()),
});

/** The fixed columns of `loss.csv`, in order. */
export const LOSS_CSV_COLUMNS = ['step', 'epoch', 'loss', 'lr'] as const;

/**
 * The loss curve as CSV: header `step,epoch,loss,lr,<part names in first-seen order>`,
 * one row per step, numbers in full precision.
 * @example writeFileAtomic('loss.csv', lossCurveCsv(result.history));
 */
export function lossCurveCsv(history: readonly LossRow[]): string {
  const parts: string[] = [];
  for (const row of history) for (const k of Object.keys(row.parts)) if (!parts.includes(k)) parts.push(k);
  return toCSV([...LOSS_CSV_COLUMNS, ...parts], history.map((r) => [r.step, r.epoch, r.loss, r.lr, ...parts.map((k) => r.parts[k])]));
}

/**
 * Write `loss.csv` atomically ({@link lossCurveCsv}).
 * @example writeLossCsv('runs/adapter/loss.csv', result.history);
 */
export function writeLossCsv(path: string, history: readonly LossRow[]): void {
  writeFileAtomic(path, lossCurveCsv(history));
}

/** A parsed loss log: numeric columns by name, all of the same length. */
export interface LossTable {
  file: string;
  columns: Record<string, number[]>;
}

/**
 * Parse a loss log CSV (`step,loss,...` with a header line, as the training loop writes
 * it) with arquero's CSV reader. Every column must be numeric; empty cells become `NaN`
 * (plotly leaves a gap). The `step` column is required.
 *
 * @param text - the CSV text.
 * @param options.file - name used in error messages. Default `'loss.csv'`.
 * @throws XlalignError naming the file, line and column of a non-numeric cell, or saying
 *   that the `step` column is missing (listing the header).
 * @example
 * const t = parseLossCsv('step,loss\n1,2.3\n2,1.9\n');  // t.columns.loss = [2.3, 1.9]
 */
export function parseLossCsv(text: string, options: { file?: string } = {}): LossTable {
  const file = options.file ?? 'loss.csv';
  if (text.trim() === '') throw xlError('parseLossCsv', `${file}: empty file; expected a header 'step,loss,...' and one line per step`);
  const table = aq.fromCSV(text, { autoType: false });
  const names = table.columnNames();
  if (!names.includes('step')) throw xlError('parseLossCsv', `${file}: line 1: no 'step' column; the header is '${names.join(',')}'`);
  const columns: Record<string, number[]> = {};
  for (const name of names) {
    const raw = table.array(name) as (string | null | undefined)[];
    columns[name] = Array.from(raw, (v, i) => {
      if (v === null || v === undefined || v === '') return NaN;
      const x = Number(v);
      if (!Number.isFinite(x) && !/^(nan|inf|-inf|infinity|-infinity)$/i.test(v)) {
        throw xlError('parseLossCsv', `${file}: line ${i + 2}: column '${name}' = '${v}' is not a number`);
      }
      return x;
    });
  }
  return { file, columns };
}

/**
 * Read and parse a loss CSV file; see {@link parseLossCsv}.
 * @throws XlalignError when the file cannot be read, or from {@link parseLossCsv}.
 */
export function readLossCsv(path: string): LossTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw xlError('readLossCsv', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseLossCsv(text, { file: path });
}

/**
 * The {@link LossRow}s of a parsed `loss.csv` as the training loop wrote them (the inverse
 * of {@link lossCurveCsv}): the fixed columns `step,epoch,loss,lr` are required, every other
 * column is a part (empty cells left out of that row's parts). Each row is checked with
 * {@link LossRowSchema}.
 *
 * @throws XlalignError naming the file and the missing column, or the line and field of a bad value.
 * @example const rows = lossRows(readLossCsv('runs/adapter/loss.csv')); rows.at(-1)!.loss
 */
export function lossRows(table: LossTable): LossRow[] {
  const { file, columns } = table;
  for (const c of LOSS_CSV_COLUMNS) {
    if (!columns[c]) throw xlError('lossRows', `${file}: line 1: no '${c}' column; expected ${LOSS_CSV_COLUMNS.join(',')},<parts...>, got ${Object.keys(columns).join(',')}`);
  }
  const partNames = Object.keys(columns).filter((c) => !(LOSS_CSV_COLUMNS as readonly string[]).includes(c));
  return columns.step.map((_, i) => {
    const parts: Record<string, number> = {};
    for (const p of partNames) if (!Number.isNaN(columns[p][i])) parts[p] = columns[p][i];
    const row = { step: columns.step[i], epoch: columns.epoch[i], loss: columns.loss[i], lr: columns.lr[i], parts };
    const r = LossRowSchema.safeParse(row);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw xlError('lossRows', `${file}: line ${i + 2}: field '${issue.path.join('.')}': ${issue.message}`);
    }
    return r.data;
  });
}

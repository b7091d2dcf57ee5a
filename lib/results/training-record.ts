/**
 * `training.json`: the record of one fine-tuning run (the training loop's config: loss,
 * optimizer, epochs, batch size, seed; samples; seconds; for a static model its base
 * folder), written beside the fine-tuned model (`<out>/model/training.json`, static head)
 * or into the results folder (encoder head). The one owner of its format; the loop's own
 * fields pass through.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/** zod schema of `training.json` (known fields typed, the loop's config passes through). */
export const TrainingRecordSchema = z.looseObject({
  /** Seconds of training. */
  seconds: z.number().nonnegative(),
  /** Training samples (static head). */
  samples: z.number().int().nonnegative().optional(),
  /** The folder the model was fine-tuned from (static head). */
  baseModel: z.string().optional(),
  seed: z.number().int().optional(),
});
export type TrainingRecord = z.infer<typeof TrainingRecordSchema>;

/** Write `training.json` atomically (checked against the schema). */
export function writeTrainingRecord(path: string, record: Record<string, unknown>): void {
  const r = TrainingRecordSchema.safeParse(record);
  if (!r.success) throw xlError('writeTrainingRecord', `${path}: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
  writeFileAtomic(path, JSON.stringify(record, null, 2) + '\n');
}

/**
 * Read `training.json`.
 * @throws XlalignError naming the file and field.
 */
export function readTrainingRecord(path: string): TrainingRecord {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw xlError('readTrainingRecord', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const r = TrainingRecordSchema.safeParse(json);
  if (!r.success) throw xlError('readTrainingRecord', `${path}: ${r.error.issues[0]!.path.join('.') || '(top)'}: ${r.error.issues[0]!.message}`);
  return r.data;
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { sha256File, writeFileAtomic } from '../util/fs.js';
import { EvalSettingsSchema } from './settings.js';

/**
 * The files `xlalign study` (`lib/experiments/study.ts`) writes besides those of `train`:
 * the one owner of their formats (zod schema, type, writer, reader).
 *
 * - `stages/<stage>.json`: a stage marker, written atomically when a stage is done: the
 *   outputs it wrote with their sha256 (a rerun skips the stage only when every output is
 *   there unchanged) and what later stages need from it (`data`).
 * - `<before|after>/evaluation.json`: one evaluation's rows and per-query scores (what the
 *   paired bootstrap of the comparison reads), so a resumed study compares without
 *   evaluating again.
 * - `training-result.json`: the training loop's result (loss history, steps, seconds, config).
 */

/** zod schema of a stage marker. */
export const StageMarkerSchema = z.object({
  format: z.literal('xlalign-study-stage/1'),
  stage: z.string().min(1),
  /** Fingerprint of the study's settings the stage ran with. */
  fingerprint: z.string().min(1),
  date: z.string(),
  seconds: z.number().nonnegative(),
  /** Output path (relative to the study folder) -> sha256 of its content. */
  outputs: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  /** What later stages need from this one (e.g. the folder evaluated before training). */
  data: z.record(z.string(), z.unknown()).default({}),
});
export type StageMarker = z.infer<typeof StageMarkerSchema>;

/** The marker file of a stage. */
export function stageMarkerPath(dir: string, stage: string): string {
  return join(dir, 'stages', `${stage}.json`);
}

/**
 * Write a stage's marker: hashes each output (paths relative to `dir`) now, then writes the
 * marker atomically (a kill leaves either no marker or a whole one).
 * @throws XlalignError when an output is missing.
 */
export function writeStageMarker(dir: string, stage: string, fingerprint: string, outputs: readonly string[], seconds: number, data: Record<string, unknown> = {}): StageMarker {
  const hashes: Record<string, string> = {};
  for (const f of outputs) {
    if (!existsSync(join(dir, f))) throw xlError('study', `stage ${stage}: output ${join(dir, f)} was not written`);
    hashes[f] = sha256File(join(dir, f));
  }
  const marker: StageMarker = { format: 'xlalign-study-stage/1', stage, fingerprint, date: new Date().toISOString(), seconds, outputs: hashes, data };
  writeFileAtomic(stageMarkerPath(dir, stage), JSON.stringify(marker, null, 2) + '\n');
  return marker;
}

/**
 * A finished stage's marker when it can be trusted: it parses, was written with this
 * `fingerprint`, and every output is there with the recorded sha256. Otherwise `undefined`
 * with the reason (`why`), so the stage runs again.
 */
export function verifiedStageMarker(dir: string, stage: string, fingerprint: string): { marker?: StageMarker; why?: string } {
  const file = stageMarkerPath(dir, stage);
  if (!existsSync(file)) return {};
  let marker: StageMarker;
  try {
    marker = StageMarkerSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    return { why: `${file} is not a stage marker (${(e as Error).message.split('\n')[0]})` };
  }
  if (marker.fingerprint !== fingerprint) return { why: `${file} was written with other settings` };
  for (const [f, sha] of Object.entries(marker.outputs)) {
    const path = join(dir, f);
    if (!existsSync(path)) return { why: `${path} is missing` };
    if (sha256File(path) !== sha) return { why: `${path} changed since the stage finished` };
  }
  return { marker };
}

/** zod schema of `evaluation.json`: the rows and, per pool, per metric, per query, the score. */
export const EvaluationFileSchema = z.object({
  rows: z.array(z.looseObject({ dataset: z.string(), retriever: z.string(), scenario: z.string(), lang: z.string(), metric: z.string(), value: z.number() })),
  perQuery: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.number()))),
  truncation: z.record(z.string(), z.object({ queries: z.number().int(), docs: z.number().int(), maxLength: z.number().int() })).optional(),
  /** The settings record the rows point to (`lib/results/settings.ts`), and its id. */
  settings: EvalSettingsSchema.optional(),
  settingsId: z.string().optional(),
});
export type EvaluationFile = z.infer<typeof EvaluationFileSchema>;

/** Write an evaluation's rows and per-query scores (atomically). */
export function writeEvaluationFile(path: string, evaluation: { rows: readonly object[]; perQuery: EvaluationFile['perQuery']; truncation?: EvaluationFile['truncation']; settings?: EvaluationFile['settings']; settingsId?: string }): void {
  const { rows, perQuery, truncation, settings, settingsId } = evaluation;
  writeFileAtomic(path, JSON.stringify({ rows, perQuery, ...(truncation ? { truncation } : {}), ...(settings ? { settings, settingsId } : {}) }) + '\n');
}

/**
 * Read `evaluation.json`.
 * @throws XlalignError naming the file and the first bad field.
 */
export function readEvaluationFile(path: string): EvaluationFile {
  return parseFile(path, EvaluationFileSchema);
}

/** zod schema of `training-result.json`: the training loop's result. */
export const TrainingResultSchema = z.object({
  history: z.array(z.object({ epoch: z.number().int(), step: z.number().int(), lr: z.number(), loss: z.number(), parts: z.record(z.string(), z.number()) }).loose()),
  steps: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  epochLosses: z.array(z.number()),
  config: z.record(z.string(), z.unknown()),
  /** Seconds of the training stage (with embedding the samples for the adapter). */
  trainSeconds: z.number().nonnegative(),
});
export type TrainingResultFile = z.infer<typeof TrainingResultSchema>;

/** Write the training result (atomically). */
export function writeTrainingResult(path: string, result: Omit<TrainingResultFile, 'history'> & { history: readonly object[] }): void {
  writeFileAtomic(path, JSON.stringify(result) + '\n');
}

/**
 * Read `training-result.json`.
 * @throws XlalignError naming the file and the first bad field.
 */
export function readTrainingResult(path: string): TrainingResultFile {
  return parseFile(path, TrainingResultSchema);
}

function parseFile<T>(path: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw xlError('study', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw xlError('study', `${path}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return r.data;
}

/**
 * `training-data.json`: what a trained model or adapter was trained on, machine-readable,
 * so that an evaluation can keep to data it was not trained on. The one owner of its format.
 *
 * - A model folder holds it beside `config.json` (the default model:
 *   `data/models/xlalign-static-v1/training-data.json`, down to the Tatoeba lines; a model
 *   fine-tuned by `xlalign train`: `<out>/model/training-data.json`).
 * - An adapter holds the same record in its safetensors metadata (`training.trainingData`).
 *
 * Each entry of `datasets` is one source: a dataset split by groups (`trainGroups` were
 * trained on, `evalGroups` held out; `langHashes` pin the content), or files used line by
 * line (`files`: path under `data/`, sha256, 1-based line ranges trained on).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { dataPath, sha256, writeFileAtomic } from '../util/fs.js';
import type { ParallelCorpus } from './parallel.js';

export const TRAINING_DATA_FORMAT = 'xlalign-training-data/1';

/** Lines of one file that were trained on. */
export const TrainingFileSchema = z.object({
  /** Path under the package's `data/` folder (e.g. `tatoeba/tatoeba.deu-eng.deu`). */
  path: z.string().min(1),
  /** Language of the file's lines (the dataset's tag, e.g. `de`; `en` for the English side). */
  lang: z.string().min(1),
  /** sha256 of the whole file when it was trained on. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** 1-based inclusive line ranges trained on, e.g. `1-800` or `1-3,5-800`. */
  lines: z.string().regex(/^(\d+(-\d+)?)(,\d+(-\d+)?)*$|^$/),
  /** Number of lines in those ranges. */
  count: z.number().int().nonnegative(),
});

/** One source of training data. */
export const TrainingDatasetSchema = z.object({
  /** Dataset or source name (`xquad`, an own dataset's name, `tatoeba`, `udhr`, ...). */
  name: z.string().min(1),
  /** Content hash per language at training time (`corpusLangHashes`). */
  langHashes: z.record(z.string(), z.string()).optional(),
  /** What a group is (`article`, `group`, `document`), when split by groups. */
  grouping: z.string().optional(),
  splitSeed: z.number().int().optional(),
  /** Groups trained on. */
  trainGroups: z.array(z.union([z.string(), z.number()])).optional(),
  /** Groups held out (evaluated on by default). */
  evalGroups: z.array(z.union([z.string(), z.number()])).optional(),
  /** Files used line by line. */
  files: z.array(TrainingFileSchema).optional(),
  /** Training pairs per language. */
  pairs: z.record(z.string(), z.number().int().nonnegative()).optional(),
  note: z.string().optional(),
});
export type TrainingDataset = z.infer<typeof TrainingDatasetSchema>;

/** zod schema of `training-data.json`. */
export const TrainingDataSchema = z.object({
  format: z.literal(TRAINING_DATA_FORMAT),
  datasets: z.array(TrainingDatasetSchema),
});
export type TrainingDataRecord = z.infer<typeof TrainingDataSchema>;

/**
 * Validate a parsed training-data record.
 * @throws XlalignError naming `where` and the field.
 */
export function parseTrainingData(json: unknown, where: string): TrainingDataRecord {
  const r = TrainingDataSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw xlError('readTrainingData', `${where}: ${issue.path.map(String).join('.') || '(top)'}: ${issue.message}`);
  }
  return r.data;
}

/** Write a record atomically (`JSON`, two-space indent). */
export function writeTrainingData(path: string, record: TrainingDataRecord): void {
  writeFileAtomic(path, JSON.stringify(parseTrainingData(record, path), null, 2) + '\n');
}

/**
 * The record of a model folder (`<dir>/training-data.json`), or `undefined` when it has none.
 * @throws XlalignError when the file is there but malformed.
 */
export function readModelTrainingData(dir: string): TrainingDataRecord | undefined {
  const file = join(dir, 'training-data.json');
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw xlError('readTrainingData', `${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseTrainingData(json, file);
}

/** 1-based line numbers as ranges: [1,2,3,5] -> `1-3,5`. */
export function lineRanges(lines: readonly number[]): string {
  const sorted = [...new Set(lines)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(sorted[i] === sorted[j] ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The 1-based line numbers of a range string (`1-3,5` -> [1,2,3,5]). */
export function parseLineRanges(ranges: string): number[] {
  if (!ranges) return [];
  return ranges.split(',').flatMap((p) => {
    const [a, b]: (number | undefined)[] = p.split('-').map(Number);
    const end = b ?? a!;
    return Array.from({ length: end - a! + 1 }, (_, k) => a! + k);
  });
}

/** How a dataset's texts overlap a model's line-level training data. */
export interface TrainingOverlap {
  /** Source name (`tatoeba`). */
  source: string;
  /** Texts of the evaluated corpus (documents and queries) found among the trained lines, per corpus language. */
  texts: Record<string, number>;
  /** Texts of the corpus looked at. */
  total: number;
  /** Recorded files that are missing or changed since training (their lines were not compared). */
  unchecked: string[];
}

/** Texts compared after NFKC, lower case and collapsed space. */
const norm = (t: string) => t.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * Compare a corpus's documents and queries with the lines a model was trained on (the
 * `files` entries of its record, read from `data/`): texts equal after normalisation
 * (NFKC, case and space) count as overlapping.
 * @example trainingOverlap(myTatoebaCorpus, readModelTrainingData(defaultModelDir)!)[0].texts // { de: 150, en: 150 }
 */
export function trainingOverlap(corpus: ParallelCorpus, record: TrainingDataRecord, options: { dataDir?: string } = {}): TrainingOverlap[] {
  const out: TrainingOverlap[] = [];
  for (const d of record.datasets) {
    if (!d.files?.length) continue;
    const trained = new Set<string>();
    const unchecked: string[] = [];
    for (const f of d.files) {
      const file = options.dataDir ? resolve(options.dataDir, f.path) : dataPath(...f.path.split('/'));
      if (!existsSync(file)) {
        unchecked.push(f.path);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      if (sha256(text) !== f.sha256) {
        unchecked.push(f.path);
        continue;
      }
      const lines = text.split('\n');
      for (const n of parseLineRanges(f.lines)) if (lines[n - 1] !== undefined) trained.add(norm(lines[n - 1].replace(/\r$/, '')));
    }
    const texts: Record<string, number> = {};
    let total = 0;
    for (const l of corpus.langs) {
      for (const x of [...(corpus.docs[l] ?? []), ...(corpus.queries[l] ?? [])]) {
        total++;
        if (trained.has(norm(x.text))) texts[l] = (texts[l] ?? 0) + 1;
      }
    }
    out.push({ source: d.name, texts, total, unchecked });
  }
  return out;
}

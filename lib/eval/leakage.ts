/**
 * Leakage guards of an evaluation: what the retrievers were trained on (their
 * `training-data.json` records, `lib/data/training-data.ts`), the held-out part of a dataset
 * a retriever was trained on, and warnings when a dataset's texts are among a model's
 * training lines (the default model's Tatoeba lines).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParallelCorpus } from '../data/parallel.js';
import { corpusLangHashes } from '../data/parallel.js';
import { BY_DOCUMENT, corpusGrouping, splitCorpus, type DocGrouping } from '../data/split.js';
import { XQUAD_ARTICLES } from '../data/xquad.js';
import { parseTrainingData, readModelTrainingData, trainingOverlap, type TrainingDataRecord, type TrainingDataset } from '../data/training-data.js';
import type { EvalSettings } from '../results/settings.js';
import { xlError } from '../util/errors.js';

/** A retriever's training record and where it was read. */
export interface TrainedOn {
  /** The retriever as given (`default`, a folder, `<model>+<adapter>`). */
  retriever: string;
  /** Where the record was read (`<folder>/training-data.json`, `<adapter> metadata`). */
  from: string;
  record: TrainingDataRecord;
}

/**
 * The training records of a retriever: its model folder's `training-data.json` (for
 * `default`, the default model's folder) and its adapter's (`training.trainingData` in the
 * adapter's metadata).
 * @throws XlalignError when a record is there but malformed.
 */
export function trainingRecords(spec: { model: string; modelDir?: string; adapterPath?: string; adapterTraining?: Record<string, unknown> }): TrainedOn[] {
  const out: TrainedOn[] = [];
  const dir = spec.modelDir ?? (spec.model !== 'bm25' && existsSync(spec.model) ? resolve(spec.model) : undefined);
  if (dir) {
    const record = readModelTrainingData(dir);
    if (record) out.push({ retriever: spec.model, from: resolve(dir, 'training-data.json'), record });
  }
  const t = spec.adapterTraining?.trainingData;
  if (t !== undefined && spec.adapterPath) out.push({ retriever: `${spec.model}+${spec.adapterPath}`, from: `${resolve(spec.adapterPath)} (metadata)`, record: parseTrainingData(t, spec.adapterPath) });
  return out;
}

/**
 * The grouping a record names: XQuAD articles, a dataset's own `group` field, or documents.
 * @throws XlalignError for a grouping only the training program knew (a function passed to `runAlignmentExperiment`).
 */
function groupingOf(entry: TrainingDataset, corpus: ParallelCorpus, from: string): DocGrouping {
  if (entry.grouping === 'article') return XQUAD_ARTICLES;
  if (entry.grouping === 'document') return BY_DOCUMENT;
  if (entry.grouping === 'group' && corpus.groups) return corpusGrouping(corpus);
  throw xlError('xlalign eval', `${from} splits '${corpus.name}' by ${entry.grouping ?? 'an unnamed grouping'}, which eval cannot rebuild from the dataset; pass --include-train to evaluate all of it (the settings say so)`);
}

/**
 * The part of `corpus` to evaluate given what the retrievers were trained on: when one was
 * trained on groups of this dataset (same name), its held-out groups (`splitCorpus(...,
 * 'eval')`, named `<dataset>-eval`), unless `includeTrain`; the split settings say which.
 * Notes name what was done and any content change since training.
 * @throws XlalignError when retrievers were trained on different splits of the dataset.
 */
export function heldOutPart(corpus: ParallelCorpus, trained: readonly TrainedOn[], options: { includeTrain?: boolean } = {}): { corpus: ParallelCorpus; split: EvalSettings['split']; notes: string[] } {
  const hits = trained.flatMap((t) => t.record.datasets.filter((d) => d.name === corpus.name && d.trainGroups && d.evalGroups).map((d) => ({ t, d })));
  if (!hits.length) return { corpus, split: { part: 'all' }, notes: [] };
  const key = (d: TrainingDataset) => JSON.stringify([d.grouping, d.trainGroups, d.evalGroups]);
  if (new Set(hits.map((h) => key(h.d))).size > 1) throw xlError('xlalign eval', `retrievers ${hits.map((h) => h.t.retriever).join(', ')} were trained on different splits of '${corpus.name}'; evaluate them separately`);
  const { t, d } = hits[0];
  const notes: string[] = [];
  const now = corpusLangHashes(corpus);
  const changed = Object.keys(d.langHashes ?? {}).filter((l) => l in now && now[l] !== d.langHashes![l]);
  if (changed.length) notes.push(`warning: '${corpus.name}' changed since ${t.retriever} was trained on it (content of ${changed.join(', ')} differs from ${t.from}); the recorded split may not hold`);
  if (options.includeTrain) {
    notes.push(`warning: --include-train: evaluating all of '${corpus.name}', including the ${d.trainGroups!.length} ${d.grouping ?? 'group'}s ${t.retriever} was trained on (${t.from})`);
    return { corpus, split: { part: 'all', note: `--include-train: includes the ${d.trainGroups!.length} ${d.grouping ?? 'group'}s ${t.retriever} was trained on` }, notes };
  }
  const grouping = groupingOf(d, corpus, t.from);
  const part = splitCorpus(corpus, { seed: d.splitSeed ?? 0, train: d.trainGroups!, eval: d.evalGroups! }, 'eval', grouping);
  notes.push(`${t.retriever} was trained on ${d.trainGroups!.length} ${d.grouping ?? 'group'}s of '${corpus.name}' (${t.from}): evaluating the ${d.evalGroups!.length} held-out ones as '${part.name}' (--include-train for all)`);
  return { corpus: part, split: { part: 'held-out', note: `held-out ${d.grouping ?? 'group'}s recorded in ${t.from}`, groups: d.evalGroups!.map(String) }, notes };
}

/**
 * One warning per training source whose lines the corpus's texts overlap (documents and
 * queries equal after normalisation, see `trainingOverlap`).
 * @example overlapWarnings(tatoebaLikeCorpus, trainingRecords({ model: 'default', modelDir })) // ['warning: 300 of 300 texts ...']
 */
export function overlapWarnings(corpus: ParallelCorpus, trained: readonly TrainedOn[]): string[] {
  const out: string[] = [];
  for (const t of trained) {
    for (const o of trainingOverlap(corpus, t.record)) {
      const n = Object.values(o.texts).reduce((a, b) => a + b, 0);
      if (n > 0) {
        const per = Object.entries(o.texts).map(([l, k]) => `${l} ${k}`).join(', ');
        out.push(`warning: ${n} of ${o.total} texts of '${corpus.name}' (${per}) are among the ${o.source} lines ${t.retriever} was trained on (${t.from}); its numbers on them are not held-out`);
      }
      if (o.unchecked.length) out.push(`warning: ${t.from} names training files that are missing or changed (${o.unchecked.join(', ')}); overlap with them was not checked`);
    }
  }
  return out;
}

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { relevantDocIds, type ParallelCorpus } from '../data/parallel.js';
import { defaultCorpus, DATASETS, DEFAULT_DATASET, groupingOf } from '../data/registry.js';
import { writeFileAtomic } from '../util/fs.js';
import { decodeUtf8 } from '../util/text-file.js';
import { createRng, shuffled } from '../util/rng.js';
import { inSplitPart, splitGroups, type CorpusSplit, type DocGrouping } from '../data/split.js';

/**
 * One parallel training sample: a question and its answer paragraph, each in the pivot
 * language and in the target language `lang`.
 */
export interface TrainingSample {
  /** Target language (the non-pivot one). */
  lang: string;
  /** Sample id (XQuAD: the question id, shared by all its language versions). */
  id: string;
  queryPivot: string;
  queryTarget: string;
  docPivot: string;
  docTarget: string;
  /** Id of the answer document (XQuAD: paragraph id `a07p03`); samples with equal docId share a document. Optional. */
  docId?: string;
}

/** The zod schema of one JSONL line: the fields of {@link TrainingSample}, no others. */
export const TrainingSampleSchema = z
  .object({
    lang: z.string().min(1),
    id: z.string().min(1),
    queryPivot: z.string().min(1),
    queryTarget: z.string().min(1),
    docPivot: z.string().min(1),
    docTarget: z.string().min(1),
    docId: z.string().min(1).optional(),
  })
  .strict();

/** Options of {@link buildTrainingSamples}. */
export interface TrainingSetOptions {
  /** Number of samples. Default 2800 (the study's training set size). */
  size?: number;
  /** Pivot language. Default: the corpus's pivot (the default dataset's, `'en'`, without a corpus). */
  pivot?: string;
  /** Target languages, balanced. Default: the corpus's languages other than the pivot (XQuAD: 11). */
  langs?: readonly string[];
  /** Seed of the sampling. Default 42. */
  seed?: number;
  /**
   * The parallel corpus to sample from (any dataset: documents and queries with the same
   * ids across languages). Default: the registry's default dataset (XQuAD) in the pivot and
   * target languages (`defaultCorpus` of `lib/data/registry.ts`).
   */
  corpus?: ParallelCorpus;
  /**
   * The grouping the split keeps whole. Default: the dataset's, from the registry
   * (`groupingOf`: XQuAD's articles, Belebele's passages, an own dataset's groups, else
   * every document its own group).
   */
  grouping?: DocGrouping;
  /** The split; samples come from its train groups only. Default `splitGroups(corpus, grouping)` (XQuAD: its 24/24 article split). */
  split?: CorpusSplit;
}

/**
 * Build the alignment training set from the *train* groups of a parallel corpus (default:
 * the default dataset's, XQuAD's train articles): `size` samples balanced over the target languages (⌊size/L⌋
 * each; the first `size mod L` languages in the given order get one more). For each
 * language, its queries on train documents are shuffled (seeded) and the first ones taken,
 * without repetition; each sample pairs the query and its document with their pivot
 * versions (same ids); the result is shuffled again. No sample touches an eval group (see
 * `lib/data/split.ts`).
 *
 * @throws XlalignError when a language is not in the corpus, asks for more samples than it
 *   has train queries (about 595 at XQuAD's default split), a query has no pivot version,
 *   or the pivot is among the targets.
 * @example
 * const samples = buildTrainingSamples({ size: 2800, seed: 42 });
 * samples[0]; // { lang: 'th', id: '57...', queryPivot: 'How ...', queryTarget: '...', docPivot, docTarget, docId: 'a12p01' }
 * const tatoeba = buildTrainingSamples({ corpus: myCorpus, size: 200, grouping: BY_DOCUMENT });
 */
export function buildTrainingSamples(options: TrainingSetOptions = {}): TrainingSample[] {
  const { size = 2800, seed = 42 } = options;
  const fallback = DATASETS[DEFAULT_DATASET];
  const pivot = options.pivot ?? options.corpus?.pivot ?? fallback.defaultPivot;
  const known: readonly string[] = options.corpus?.langs ?? fallback.languages ?? [];
  const langs = options.langs ?? known.filter((l) => l !== pivot);
  if (!Number.isInteger(size) || size < 1) throw xlError('buildTrainingSamples', `size must be a positive integer, got ${size}`);
  if (langs.length === 0) throw xlError('buildTrainingSamples', 'no target languages');
  if (langs.includes(pivot)) throw xlError('buildTrainingSamples', `the pivot '${pivot}' is also a target language`);
  const corpus = options.corpus ?? defaultCorpus([pivot, ...langs]);
  const grouping = options.grouping ?? groupingOf(corpus);
  for (const l of [pivot, ...langs]) {
    if (!corpus.docs[l] || !corpus.queries[l]) throw xlError('buildTrainingSamples', `corpus ${corpus.name} has no language '${l}'; it has ${corpus.langs.join(', ')}`);
  }
  const split = options.split ?? splitGroups(corpus, grouping);
  const inTrain = inSplitPart(split, 'train', grouping);
  const pivotQueries = new Map(corpus.queries[pivot].filter((q) => relevantDocIds(q).every(inTrain)).map((q) => [q.id, q]));
  const pivotDocs = new Map(corpus.docs[pivot].filter((d) => inTrain(d.id)).map((d) => [d.id, d]));
  const rng = createRng(seed);
  const out: TrainingSample[] = [];
  langs.forEach((lang, li) => {
    const want = Math.floor(size / langs.length) + (li < size % langs.length ? 1 : 0);
    const queries = corpus.queries[lang].filter((q) => relevantDocIds(q).every(inTrain));
    const docs = new Map(corpus.docs[lang].filter((d) => inTrain(d.id)).map((d) => [d.id, d]));
    if (want > queries.length) {
      throw xlError('buildTrainingSamples', `${lang}: ${want} samples asked but the train ${grouping.name}s hold only ${queries.length} questions`);
    }
    for (const q of shuffled(queries, rng).slice(0, want)) {
      const qp = pivotQueries.get(q.id);
      const dp = pivotDocs.get(q.docId);
      const dt = docs.get(q.docId);
      if (!qp || !dp || !dt) throw xlError('buildTrainingSamples', `${lang}: question ${q.id} has no parallel ${pivot} version`);
      out.push({ lang, id: q.id, queryPivot: qp.text, queryTarget: q.text, docPivot: dp.text, docTarget: dt.text, docId: q.docId });
    }
  });
  return shuffled(out, rng);
}

/**
 * Load training samples from a JSONL file, one {@link TrainingSample} object a line (blank
 * lines skipped), every line validated.
 *
 * @throws XlalignError naming the file, the 1-based line and the field, e.g.
 *   `data.jsonl:3: field 'docTarget': Invalid input: expected string, received undefined`.
 * @example const samples = loadTrainingJsonl('my-pairs.jsonl');
 */
export function loadTrainingJsonl(path: string): TrainingSample[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw xlError('loadTrainingJsonl', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  const text = decodeUtf8(bytes, path, 'loadTrainingJsonl');
  const samples: TrainingSample[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw xlError('loadTrainingJsonl', `${path}:${i + 1}: not valid JSON (${(cause as Error).message})`, { cause });
    }
    const parsed = TrainingSampleSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.length ? `field '${issue.path.join('.')}'` : 'object';
      const keys = 'keys' in issue ? ` (${(issue.keys as string[]).join(', ')})` : '';
      throw xlError(
        'loadTrainingJsonl',
        `${path}:${i + 1}: ${field}: ${issue.message}${keys}; expected {lang, id, queryPivot, queryTarget, docPivot, docTarget, docId?} with non-empty strings`,
      );
    }
    samples.push(parsed.data);
  });
  if (samples.length === 0) throw xlError('loadTrainingJsonl', `${path}: no samples`);
  return samples;
}

/**
 * Write samples as JSONL (one object a line, atomically).
 * @example saveTrainingJsonl('runs/train-2800.jsonl', buildTrainingSamples());
 */
export function saveTrainingJsonl(path: string, samples: readonly TrainingSample[]): void {
  writeFileAtomic(path, samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
}

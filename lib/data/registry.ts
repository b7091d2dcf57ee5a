/**
 * The dataset registry: every dataset the command line and the experiments know by name,
 * as `{ name, languages, defaultPivot, grouping, load }`. A new dataset = a loader in
 * `lib/data` and one entry here. Anything else given as a dataset is read as a folder: an
 * own dataset (`docs.jsonl` + `queries.jsonl`, see `jsonl-dataset.ts`) or a BEIR folder
 * (`beir.ts`). The registry owns each dataset's pivot, languages, grouping and train/eval
 * split ({@link loadTrainingData}): code outside `lib/data` has no dataset-specific branch.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { beirLanguageFolders, isBeirFolder, loadBeir } from './beir.js';
import { keepSources } from './corpus-rows.js';
import { loadJsonlDataset } from './jsonl-dataset.js';
import { belebeleCorpus, xquadCorpus, type ParallelCorpus } from './parallel.js';
import { corpusGrouping, splitGroups, type CorpusSplit, type DocGrouping } from './split.js';
import { XQUAD_ARTICLES, XQUAD_LANGS } from './xquad.js';

/** Options of {@link DatasetEntry.load}. */
export interface DatasetLoadOptions {
  /** Languages to load (query languages and the pivot; every language for `multi`). */
  langs: readonly string[];
  /** Belebele: folder of `<dialect>.jsonl` files. */
  belebeleDir?: string;
}

/** One dataset. */
export interface DatasetEntry {
  /** Name used by `--dataset` and in result rows. */
  name: string;
  /** Its languages; `undefined` when the user names them (Belebele's 122 dialects). */
  languages: readonly string[] | undefined;
  /** Pivot language when `--pivot` is not given. */
  defaultPivot: string;
  /** One line for `--help`. */
  description: string;
  /** How it is named in titles (`XQuAD`). Default {@link name}. */
  title?: string;
  /**
   * The unit a train/eval split keeps whole (XQuAD: articles; Belebele: passages).
   * Default: the corpus's own `groups` (an own dataset's `group` field), else each document.
   */
  grouping?: DocGrouping;
  /** Its languages found on disk when {@link languages} is undefined (Belebele: the `<dialect>.jsonl` files of the folder). */
  languagesIn?(options: Pick<DatasetLoadOptions, 'belebeleDir'>): string[] | undefined;
  /** Load (and validate) the corpus for these languages. */
  load(options: DatasetLoadOptions): Promise<ParallelCorpus>;
}

/** The dataset used when none is named (`--dataset` default, `buildTrainingSamples` without a corpus). */
export const DEFAULT_DATASET = 'xquad';

/** Belebele's dialect codes (`deu_Latn`), as in its file names. */
const DIALECT = /^[a-z]{3}_[A-Z][a-z]{3}$/;

/** The registered datasets. */
export const DATASETS: Record<string, DatasetEntry> = {
  xquad: {
    name: 'xquad',
    languages: XQUAD_LANGS,
    defaultPivot: 'en',
    description: 'XQuAD (vendored): 240 paragraphs and 1190 questions in 12 languages',
    title: 'XQuAD',
    grouping: XQUAD_ARTICLES,
    load: async ({ langs }) => xquadCorpus(XQUAD_LANGS.filter((l) => langs.includes(l))),
  },
  belebele: {
    name: 'belebele',
    languages: undefined,
    defaultPivot: 'eng_Latn',
    description: 'Belebele (FLORES passages and questions; name the dialects, e.g. deu_Latn, or put their <dialect>.jsonl files in --belebele-dir)',
    title: 'Belebele',
    // every question's document is its FLORES passage; parallel passages share the id
    grouping: { name: 'passage', groupOf: (docId) => docId },
    languagesIn: ({ belebeleDir }) => {
      const dir = belebeleDir ?? process.env.XLALIGN_BELEBELE_DIR ?? resolve('.cache/belebele');
      if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
      const found = readdirSync(dir).filter((f) => f.endsWith('.jsonl') && DIALECT.test(f.slice(0, -6))).map((f) => f.slice(0, -6)).sort();
      return found.length ? found : undefined;
    },
    load: ({ langs, belebeleDir }) => belebeleCorpus(Object.fromEntries(langs.map((d) => [d, d])), { dir: belebeleDir }),
  },
};

/**
 * A dataset folder as a registry entry, loaded and validated now (before any work): an own
 * dataset (`docs.jsonl`), one BEIR folder (`corpus.jsonl`) or language folders of BEIR.
 *
 * @throws XlalignError naming file:line:field of the first problem, or what a dataset folder must hold.
 */
export function folderDataset(dir: string): DatasetEntry {
  const path = resolve(dir);
  let corpus: ParallelCorpus;
  let kind: string;
  if (existsSync(resolve(path, 'docs.jsonl'))) {
    corpus = loadJsonlDataset(path);
    kind = 'own dataset';
  } else if (isBeirFolder(path) || beirLanguageFolders(path).length > 0) {
    corpus = loadBeir(path);
    kind = 'BEIR';
  } else {
    throw xlError('dataset', `${path} holds neither docs.jsonl + queries.jsonl (own dataset) nor corpus.jsonl + queries.jsonl + qrels/test.tsv (BEIR)`);
  }
  return {
    name: corpus.name,
    languages: corpus.langs,
    defaultPivot: corpus.pivot ?? corpus.langs[0],
    description: `${kind} in ${path}`,
    load: async ({ langs }) => pick(corpus, langs),
  };
}

/** The corpus restricted to `langs` (in the corpus's order); keeps where its rows came from for messages. */
function pick(corpus: ParallelCorpus, langs: readonly string[]): ParallelCorpus {
  const keep = corpus.langs.filter((l) => langs.includes(l));
  for (const l of langs) if (!corpus.langs.includes(l)) throw xlError('dataset', `language '${l}' is not in dataset '${corpus.name}'; it has ${corpus.langs.join(', ')}`);
  if (keep.length === corpus.langs.length) return corpus;
  return keepSources(corpus, { ...corpus, langs: keep, docs: Object.fromEntries(keep.map((l) => [l, corpus.docs[l]])), queries: Object.fromEntries(keep.map((l) => [l, corpus.queries[l]])) });
}

/**
 * A registered dataset by name, else a dataset folder.
 *
 * @throws XlalignError listing the registered names when `nameOrPath` is neither.
 * @example resolveDataset('xquad').languages // ['ar', 'de', ...]
 */
export function resolveDataset(nameOrPath: string): DatasetEntry {
  const entry = DATASETS[nameOrPath];
  if (entry) return entry;
  if (existsSync(nameOrPath) && statSync(nameOrPath).isDirectory()) return folderDataset(nameOrPath);
  throw xlError('dataset', `'${nameOrPath}' is neither a registered dataset (${Object.keys(DATASETS).join(', ')}) nor a folder`);
}

/**
 * The languages of a dataset: its fixed list, else those found on disk (Belebele's files in
 * `belebeleDir`); `undefined` when neither says (the user must name them).
 * @example datasetLanguages(resolveDataset('belebele'), { belebeleDir: 'test/fixtures/belebele' }) // ['deu_Latn', 'eng_Latn']
 */
export function datasetLanguages(entry: DatasetEntry, options: Pick<DatasetLoadOptions, 'belebeleDir'> = {}): readonly string[] | undefined {
  return entry.languages ?? entry.languagesIn?.(options);
}

/**
 * The grouping a corpus's split keeps whole: the registered dataset's (by the corpus's
 * name: XQuAD's articles, Belebele's passages), else the corpus's own `groups`, else each
 * document (see `corpusGrouping`).
 */
export function groupingOf(corpus: ParallelCorpus): DocGrouping {
  return DATASETS[corpus.name]?.grouping ?? corpusGrouping(corpus);
}

/**
 * The default dataset's corpus in these languages, loaded synchronously (the vendored
 * XQuAD): what `buildTrainingSamples` samples from when it is given no corpus.
 */
export function defaultCorpus(langs: readonly string[]): ParallelCorpus {
  const known = DATASETS[DEFAULT_DATASET].languages!;
  for (const l of langs) if (!known.includes(l)) throw xlError('dataset', `language '${l}' is not in dataset '${DEFAULT_DATASET}'; it has ${known.join(', ')}`);
  return xquadCorpus(langs);
}

/** What {@link loadTrainingData} returns: a dataset ready for an alignment experiment. */
export interface TrainingData {
  /** The corpus (every language of the dataset, or the named ones). */
  corpus: ParallelCorpus;
  /** The unit the split keeps whole. */
  grouping: DocGrouping;
  /** The seeded leakage-free train/eval split of its groups. */
  split: CorpusSplit;
  /** The dataset's name in titles (`XQuAD`, `belebele`, an own dataset's name). */
  title: string;
}

/** Options of {@link loadTrainingData}. */
export interface TrainingDataOptions {
  /** Pivot language (must be a language of the dataset). */
  pivot: string;
  /** Languages to load when the dataset does not list its own (Belebele without files on disk). */
  langs?: readonly string[];
  /** Belebele: folder of `<dialect>.jsonl` files. */
  belebeleDir?: string;
  /** Seed of the split. Default the split's (20240). */
  splitSeed?: number;
  /** The grouping the split keeps whole. Default {@link groupingOf} the corpus. */
  grouping?: DocGrouping;
}

/**
 * A dataset (registered name, dataset folder, or a corpus in memory) with its grouping and
 * seeded train/eval split, for training and evaluating alignment. Every language the dataset
 * has is loaded (training samples are balanced over all non-pivot languages); a dataset
 * that does not list its languages (Belebele without files in `belebeleDir`) loads the pivot
 * and `langs`. For XQuAD the split is the project's 24/24 article split.
 *
 * @throws XlalignError for an unknown dataset, a pivot it does not have, or no languages to load.
 * @example const { corpus, split } = await loadTrainingData('belebele', { pivot: 'eng_Latn', belebeleDir: 'belebele/' });
 */
export async function loadTrainingData(dataset: string | ParallelCorpus, options: TrainingDataOptions): Promise<TrainingData> {
  const { pivot } = options;
  let corpus: ParallelCorpus;
  let title: string;
  if (typeof dataset === 'string') {
    const entry = resolveDataset(dataset);
    const known = datasetLanguages(entry, options);
    const langs = known ?? [...new Set([pivot, ...(options.langs ?? [])])];
    if (!langs.includes(pivot)) throw xlError('dataset', `pivot '${pivot}' is not a language of dataset '${entry.name}'; it has ${langs.join(', ')}`);
    if (langs.length < 2) throw xlError('dataset', `dataset '${entry.name}': name at least one language besides the pivot '${pivot}' (Belebele: dialect codes such as deu_Latn, or their files in the Belebele folder)`);
    corpus = await entry.load({ langs, belebeleDir: options.belebeleDir });
    title = entry.title ?? corpus.name;
  } else {
    corpus = dataset;
    title = DATASETS[corpus.name]?.title ?? corpus.name;
    if (!corpus.langs.includes(pivot)) throw xlError('dataset', `pivot '${pivot}' is not a language of corpus '${corpus.name}'; it has ${corpus.langs.join(', ')}`);
  }
  const grouping = options.grouping ?? groupingOf(corpus);
  const split = splitGroups(corpus, grouping, options.splitSeed === undefined ? {} : { seed: options.splitSeed });
  return { corpus, grouping, split, title };
}

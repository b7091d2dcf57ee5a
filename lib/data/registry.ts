/**
 * The dataset registry: every dataset the command line and the experiments know by name,
 * as `{ name, languages, defaultPivot, load }`. A new dataset = a loader in `lib/data` and
 * one entry here. Anything else given as a dataset is read as a folder: an own dataset
 * (`docs.jsonl` + `queries.jsonl`, see `jsonl-dataset.ts`) or a BEIR folder (`beir.ts`).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { beirLanguageFolders, isBeirFolder, loadBeir } from './beir.js';
import { keepSources } from './corpus-rows.js';
import { loadJsonlDataset } from './jsonl-dataset.js';
import { belebeleCorpus, xquadCorpus, type ParallelCorpus } from './parallel.js';
import { XQUAD_LANGS } from './xquad.js';

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
  /** Load (and validate) the corpus for these languages. */
  load(options: DatasetLoadOptions): Promise<ParallelCorpus>;
}

/** The registered datasets. */
export const DATASETS: Record<string, DatasetEntry> = {
  xquad: {
    name: 'xquad',
    languages: XQUAD_LANGS,
    defaultPivot: 'en',
    description: 'XQuAD (vendored): 240 paragraphs and 1190 questions in 12 languages',
    load: async ({ langs }) => xquadCorpus(XQUAD_LANGS.filter((l) => langs.includes(l))),
  },
  belebele: {
    name: 'belebele',
    languages: undefined,
    defaultPivot: 'eng_Latn',
    description: 'Belebele (FLORES passages and questions; name the dialects, e.g. deu_Latn)',
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

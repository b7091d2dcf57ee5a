import { xlError } from '../util/errors.js';
import type { ParallelCorpus } from './parallel.js';
import type { XquadLanguage } from './xquad.js';
import { createRng, shuffled } from '../util/rng.js';

/** The seed of the project's fixed XQuAD split. */
export const DEFAULT_SPLIT_SEED = 20240;

/** The parts of a split. */
export type SplitPart = 'train' | 'eval';

/**
 * A split of XQuAD's articles (0-based article indices, sorted). Whole articles go to one
 * side so that no paragraph, question or topic crosses the split (leakage-free).
 */
export interface XquadSplit {
  seed: number;
  numArticles: number;
  train: number[];
  eval: number[];
}

/** Options of {@link splitXquadArticles}. */
export interface SplitOptions {
  /** Seed of the shuffle. Default {@link DEFAULT_SPLIT_SEED} (20240). */
  seed?: number;
  /** Articles that go to training. Default 24 (a 50/50 split: 24 train, 24 eval articles; 120/120 paragraphs). */
  trainArticles?: number;
  /** Articles in the dataset. Default 48 (XQuAD). */
  numArticles?: number;
}

/**
 * Split XQuAD's articles into train and eval articles: a seeded Fisher-Yates shuffle of
 * 0..numArticles−1, the first `trainArticles` to train, the rest to eval (each side sorted).
 * Ratio 50/50 by default: half the data teaches alignment, the other half (about 595
 * questions and 120 paragraphs per language) measures it.
 *
 * @throws XlalignError when `trainArticles` is not in [1, numArticles − 1].
 * @example
 * const split = splitXquadArticles();        // { seed: 20240, train: [...24], eval: [...24] }
 * const evalCorpus = splitCorpus(xquadCorpus(), split, 'eval');
 */
export function splitXquadArticles(options: SplitOptions = {}): XquadSplit {
  const { seed = DEFAULT_SPLIT_SEED, trainArticles = 24, numArticles = 48 } = options;
  if (!Number.isInteger(numArticles) || numArticles < 2) throw xlError('splitXquadArticles', `numArticles must be an integer >= 2, got ${numArticles}`);
  if (!Number.isInteger(trainArticles) || trainArticles < 1 || trainArticles >= numArticles) {
    throw xlError('splitXquadArticles', `trainArticles must be an integer in [1, ${numArticles - 1}], got ${trainArticles}`);
  }
  const order = shuffled(
    Array.from({ length: numArticles }, (_, i) => i),
    createRng(seed),
  );
  const byNumber = (a: number, b: number) => a - b;
  return { seed, numArticles, train: order.slice(0, trainArticles).sort(byNumber), eval: order.slice(trainArticles).sort(byNumber) };
}

/**
 * The article of an XQuAD paragraph id (`a07p03` -> 7).
 * @throws XlalignError when the id is not of the form `a<digits>p<digits>`.
 */
export function xquadArticleOf(paragraphId: string): number {
  const m = /^a(\d+)p\d+$/.exec(paragraphId);
  if (!m) throw xlError('xquadArticleOf', `'${paragraphId}' is not an XQuAD paragraph id like 'a07p03'`);
  return Number(m[1]);
}

/**
 * Which side of `split` a paragraph (id `a07p03`) is on.
 * @throws XlalignError when its article is on neither side.
 */
export function splitPartOf(split: XquadSplit, paragraphId: string): SplitPart {
  const article = xquadArticleOf(paragraphId);
  if (split.train.includes(article)) return 'train';
  if (split.eval.includes(article)) return 'eval';
  throw xlError('splitPartOf', `article ${article} of paragraph '${paragraphId}' is in neither part of the split (seed ${split.seed})`);
}

/**
 * One language of XQuAD restricted to one part of the split: its paragraphs, and the
 * questions on them.
 * @example const trainDe = filterXquad(loadXquad('de'), splitXquadArticles(), 'train');
 */
export function filterXquad(data: XquadLanguage, split: XquadSplit, part: SplitPart): XquadLanguage {
  const keep = new Set(part === 'train' ? split.train : split.eval);
  const paragraphs = data.paragraphs.filter((p) => keep.has(p.article));
  const ids = new Set(paragraphs.map((p) => p.id));
  return { ...data, paragraphs, questions: data.questions.filter((q) => ids.has(q.paragraphId)) };
}

/**
 * An XQuAD {@link ParallelCorpus} (from `xquadCorpus`) restricted to one part of the split,
 * for building evaluation pools on the eval articles only.
 * @throws XlalignError when a document id is not an XQuAD paragraph id.
 * @example const pool = buildPool(splitCorpus(xquadCorpus(), split, 'eval'), { scenario: 'mixed', lang: 'de' });
 */
export function splitCorpus(corpus: ParallelCorpus, split: XquadSplit, part: SplitPart): ParallelCorpus {
  const keep = new Set(part === 'train' ? split.train : split.eval);
  const inPart = (docId: string) => keep.has(xquadArticleOf(docId));
  const docs: ParallelCorpus['docs'] = {};
  const queries: ParallelCorpus['queries'] = {};
  for (const lang of corpus.langs) {
    docs[lang] = (corpus.docs[lang] ?? []).filter((d) => inPart(d.id));
    queries[lang] = (corpus.queries[lang] ?? []).filter((q) => inPart(q.docId));
  }
  return { ...corpus, name: `${corpus.name}-${part}`, docs, queries };
}

import { xlError } from '../util/errors.js';
import { relevantDocIds, type ParallelCorpus } from './parallel.js';
import { XQUAD_ARTICLES, type XquadLanguage } from './xquad.js';
import { createRng, shuffled } from '../util/rng.js';

export { xquadArticleOf } from './xquad.js';

/** A group key: XQuAD's article number, or any string (a passage link, a document id). */
export type GroupKey = string | number;

/**
 * How a corpus's documents group into units that must stay on one side of a split
 * (leakage-free: no paragraph, question or topic crosses it). XQuAD: articles
 * ({@link XQUAD_ARTICLES}, next to its loader); a corpus without a coarser unit:
 * {@link BY_DOCUMENT}. A new dataset brings its grouping next to its loader.
 */
export interface DocGrouping {
  /** What a group is, for messages and records (`'article'`). */
  readonly name: string;
  /** The group of a document, by its (bare) id. Throws for an id of the wrong form. */
  groupOf(docId: string): GroupKey;
}

/** Every document its own group (parallel versions share the id, so they stay together). */
export const BY_DOCUMENT: DocGrouping = { name: 'document', groupOf: (docId) => docId };

/**
 * The grouping a corpus carries itself: `corpus.groups` (an own dataset's `group` field;
 * XQuAD's articles) when present, else {@link BY_DOCUMENT}. A document missing from
 * `groups` is its own group.
 */
export function corpusGrouping(corpus: ParallelCorpus): DocGrouping {
  const groups = corpus.groups;
  if (!groups) return BY_DOCUMENT;
  return { name: 'group', groupOf: (docId) => groups[docId] ?? docId };
}

/** A split of a corpus's groups into train and eval groups (each side sorted). */
export interface CorpusSplit<K extends GroupKey = GroupKey> {
  seed: number;
  train: K[];
  eval: K[];
}

/** The seed of the project's fixed XQuAD split. */
export const DEFAULT_SPLIT_SEED = 20240;

/** The parts of a split. */
export type SplitPart = 'train' | 'eval';

/**
 * A split of XQuAD's articles (0-based article indices, sorted). Whole articles go to one
 * side so that no paragraph, question or topic crosses the split (leakage-free).
 */
export interface XquadSplit extends CorpusSplit<number> {
  numArticles: number;
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
  const { train, eval: evalPart } = splitKeys(Array.from({ length: numArticles }, (_, i) => i), seed, trainArticles);
  return { seed, numArticles, train, eval: evalPart };
}

/**
 * The seeded split of group keys: a Fisher-Yates shuffle of `keys` (in the given order),
 * the first `trainCount` to train, the rest to eval, each side sorted (numbers numerically,
 * strings by code unit). The kernel of {@link splitXquadArticles} and {@link splitGroups}.
 */
export function splitKeys<K extends GroupKey>(keys: readonly K[], seed: number, trainCount: number): CorpusSplit<K> {
  const order = shuffled(keys, createRng(seed));
  const byKey = (a: K, b: K) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
  return { seed, train: order.slice(0, trainCount).sort(byKey), eval: order.slice(trainCount).sort(byKey) };
}

/** Options of {@link splitGroups}. */
export interface GroupSplitOptions {
  /** Seed of the shuffle. Default {@link DEFAULT_SPLIT_SEED} (20240). */
  seed?: number;
  /** Fraction of the groups that go to training, rounded to a count in [1, groups − 1]. Default 0.5. */
  trainFraction?: number;
}

/**
 * Split any {@link ParallelCorpus} leakage-free by a {@link DocGrouping}: the distinct groups
 * of its documents (all languages), sorted, shuffled with `seed`; the first
 * round(trainFraction·groups) go to train. For XQuAD with {@link XQUAD_ARTICLES} this is
 * {@link splitXquadArticles} (the 48 articles, same seed, same split).
 *
 * @throws XlalignError for fewer than 2 groups, a trainFraction outside (0, 1), or from `groupOf`.
 * @example
 * const split = splitGroups(corpus, BY_DOCUMENT, { trainFraction: 0.5 });
 * const evalCorpus = splitCorpus(corpus, split, 'eval', BY_DOCUMENT);
 */
export function splitGroups(corpus: ParallelCorpus, grouping: DocGrouping, options: GroupSplitOptions = {}): CorpusSplit {
  const { seed = DEFAULT_SPLIT_SEED, trainFraction = 0.5 } = options;
  if (!(trainFraction > 0 && trainFraction < 1)) throw xlError('splitGroups', `trainFraction must be in (0, 1), got ${trainFraction}`);
  const seen = new Set<GroupKey>();
  for (const lang of corpus.langs) for (const d of corpus.docs[lang] ?? []) seen.add(grouping.groupOf(d.id));
  const keys = [...seen].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  if (keys.length < 2) throw xlError('splitGroups', `${corpus.name}: ${keys.length} ${grouping.name}(s); need at least 2 to split`);
  const trainCount = Math.min(keys.length - 1, Math.max(1, Math.round(keys.length * trainFraction)));
  return splitKeys(keys, seed, trainCount);
}

/**
 * Which side of `split` a document is on (default grouping: XQuAD articles, id `a07p03`).
 * @throws XlalignError when its group is on neither side.
 */
export function splitPartOf(split: CorpusSplit, docId: string, grouping: DocGrouping = XQUAD_ARTICLES): SplitPart {
  const group = grouping.groupOf(docId);
  if ((split.train as GroupKey[]).includes(group)) return 'train';
  if ((split.eval as GroupKey[]).includes(group)) return 'eval';
  const what = grouping === XQUAD_ARTICLES ? `article ${group} of paragraph` : `${grouping.name} ${group} of document`;
  throw xlError('splitPartOf', `${what} '${docId}' is in neither part of the split (seed ${split.seed})`);
}

/**
 * A predicate on document ids: is the document's group in `part` of `split`?
 * @example const inTrain = inSplitPart(split, 'train', XQUAD_ARTICLES); inTrain('a07p03')
 */
export function inSplitPart(split: CorpusSplit, part: SplitPart, grouping: DocGrouping = XQUAD_ARTICLES): (docId: string) => boolean {
  const keep = new Set<GroupKey>(part === 'train' ? split.train : split.eval);
  return (docId) => keep.has(grouping.groupOf(docId));
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
 * A {@link ParallelCorpus} restricted to one part of the split (documents whose group is in
 * the part, and the queries on them), e.g. for building evaluation pools on the eval
 * articles only. Default grouping: XQuAD articles.
 * @throws XlalignError when a document id does not fit the grouping (not an XQuAD paragraph id).
 * @example const pool = buildPool(splitCorpus(xquadCorpus(), split, 'eval'), { scenario: 'mixed', lang: 'de' });
 */
export function splitCorpus(corpus: ParallelCorpus, split: CorpusSplit, part: SplitPart, grouping: DocGrouping = XQUAD_ARTICLES): ParallelCorpus {
  const inPart = inSplitPart(split, part, grouping);
  const docs: ParallelCorpus['docs'] = {};
  const queries: ParallelCorpus['queries'] = {};
  for (const lang of corpus.langs) {
    docs[lang] = (corpus.docs[lang] ?? []).filter((d) => inPart(d.id));
    // a query belongs to a part only when all its relevant documents do: a query whose
    // relevant documents span both parts would leak, so it is in neither
    queries[lang] = (corpus.queries[lang] ?? []).filter((q) => relevantDocIds(q).every(inPart));
  }
  return { ...corpus, name: `${corpus.name}-${part}`, docs, queries };
}

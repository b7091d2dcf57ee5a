/**
 * PivotInclination and PivotAbove: does the retriever prefer documents in the pivot language
 * (default English) over the relevant document in the query's own language?
 *
 * For a query of language L != P (the pivot), with b = the best-ranked relevant document of
 * language L:
 *
 *   PivotAbove       = number of **non-relevant** P-language documents ranked above b
 *   PivotInclination = 1 if PivotAbove >= 1, else 0
 *
 * Languages come from the pool (`Doc.lang`, `Query.lang`, passed as {@link IdLanguages}),
 * never from the id spelling, so BCP-47 tags such as `en-US` or `zh-Hant` work as pivot
 * and query languages.
 * Relevant P-language documents (e.g. the English parallel of the answer in the `mixed`
 * scenario) are not counted: preferring them is not a mistake. If no relevant L-language
 * document is in the ranking, b counts as ranked after the whole ranking, so every
 * non-relevant P document of the ranking is above it.
 *
 * Left out (undefined, not averaged): queries whose language is P, queries with no relevant
 * L-language document in the qrels, and queries absent from the run (nothing was ranked, so
 * nothing can be said). The mean is over the remaining queries (NaN when none remains).
 * There is no cutoff. Ties follow the pessimistic policy of `lib/runs/ranking.ts` (a tie between a
 * non-relevant pivot document and b puts the pivot document above).
 *
 * Reference: the English-inclination setting of arXiv 2604.05684 ("Max@R" study, ICLR 2026:
 * unrelated English documents ranked above the related same-language one), measured per
 * query after the "language preference" analyses of Roy et al., "LAReQA: Language-agnostic
 * answer retrieval from a multilingual pool", EMNLP 2020.
 */
import type { IdLanguages, Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { createRankScratch, evaluatedQueries, rankQuery, type RankedQuery } from '../runs/ranking.js';
import { xlError } from '../util/errors.js';
import type { MetricDefinition, PoolFacts, QueryContext } from './definition.js';

/** Options of the pivot metrics. */
export interface PivotOptions {
  /** Pivot language P, as in the pool's `Doc.lang`. Default `'en'`. */
  pivot?: string;
  /** The language of every query and document id (required; e.g. `poolLanguages(pool)`). */
  languages: IdLanguages;
}

/**
 * PivotAbove of one query on plain arrays.
 * @param rankedLangs - the language of each ranked document (after the tie policy).
 * @param rel - relevance at each rank.
 * @param queryLang - the query language L.
 * @param pivot - the pivot language P (default `'en'`).
 * @returns the number of non-relevant P documents ranked above the best relevant L document.
 * @example pivotAboveCount(['en', 'de', 'en'], [0, 1, 1], 'de') // 1
 */
export function pivotAboveCount(rankedLangs: readonly string[], rel: ArrayLike<number>, queryLang: string, pivot = 'en'): number {
  let above = 0;
  for (let i = 0; i < rankedLangs.length; i++) {
    const l = rankedLangs[i];
    if (rel[i] > 0) {
      if (l === queryLang) return above;
    } else if (l === pivot) above++;
  }
  return above;
}

/**
 * Same as {@link pivotAboveCount} on a {@link RankedQuery}, looking document languages up
 * with `docLang`, without allocating.
 * @throws XlalignError when a document it reaches has no language.
 * @example pivotAboveRanked(rankQuery('de-1', run['de-1'], qrels['de-1']), 'de', 'en', (id) => languages.docs.get(id))
 */
export function pivotAboveRanked(r: RankedQuery, queryLang: string, pivot: string, docLang: (id: string) => string | undefined): number {
  let above = 0;
  for (let i = 0; i < r.rel.length; i++) {
    const id = r.ids[r.order[i]];
    const l = docLang(id);
    if (l === undefined) throw xlError('pivotAbove', `document '${id}' has no language; the languages must cover every ranked document`);
    if (r.rel[i] > 0) {
      if (l === queryLang) return above;
    } else if (l === pivot) above++;
  }
  return above;
}

/**
 * Whether a query takes part in the pivot metrics: its language is not the pivot, it has a
 * relevant document in its own language, and it is in the run.
 * @example pivotDefined({ 'de-1': 1 }, true, 'de', 'en', (id) => languages.docs.get(id)) // true
 */
export function pivotDefined(
  judgments: Record<string, number> | undefined,
  inRun: boolean,
  queryLang: string,
  pivot: string,
  docLang: (id: string) => string | undefined,
): boolean {
  if (queryLang === pivot || !inRun || !judgments) return false;
  for (const d in judgments) if (judgments[d] > 0 && docLang(d) === queryLang) return true;
  return false;
}

/** The query's language from the context, or a clear error. */
function queryLangOf(c: QueryContext): string {
  if (c.queryLang === undefined) throw xlError('evaluate', `query '${c.qid}' has no language; pivot metrics need the language of every query (options.languages)`);
  return c.queryLang;
}

/** PivotAbove of one query in `evaluate`'s context; NaN where undefined (see the file comment). */
function pivotAboveInContext(r: RankedQuery, c: QueryContext): number {
  const l = queryLangOf(c);
  return pivotDefined(c.judgments, c.inRun, l, c.pivot, c.docLang) ? pivotAboveRanked(r, l, c.pivot, c.docLang) : Number.NaN;
}

function pivotPerQuery(qrels: Qrels, run: Run, options: PivotOptions, f: (n: number) => number): Record<string, number> {
  const pivot = options.pivot ?? 'en';
  const { languages } = options;
  if (!languages) throw xlError('pivotAbove', 'options.languages is required: the language of every query and document id (e.g. poolLanguages(pool))');
  const docLang = (id: string) => languages.docs.get(id);
  const out: Record<string, number> = {};
  const scratch = createRankScratch();
  for (const qid of evaluatedQueries(qrels)) {
    const lang = languages.queries.get(qid);
    if (lang === undefined) throw xlError('pivotAbove', `query '${qid}' has no language in options.languages`);
    if (!pivotDefined(qrels[qid], run[qid] !== undefined, lang, pivot, docLang)) continue;
    out[qid] = f(pivotAboveRanked(rankQuery(qid, run[qid], qrels[qid], scratch), lang, pivot, docLang));
  }
  return out;
}

/**
 * PivotAbove of every query where it is defined (see the file comment).
 * @param options.pivot - pivot language; default `'en'`.
 * @param options.languages - the language of every id (required).
 * @example pivotAbove({ 'de-1': { 'de-1': 1 } }, { 'de-1': { ids: ['en-2', 'de-1'], scores: [2, 1] } }, { languages: poolLanguages(pool) }) // { 'de-1': 1 }
 */
export function pivotAbove(qrels: Qrels, run: Run, options: PivotOptions): Record<string, number> {
  return pivotPerQuery(qrels, run, options, (n) => n);
}

/**
 * PivotInclination of every query where it is defined (see the file comment).
 * @param options.pivot - pivot language; default `'en'`.
 * @param options.languages - the language of every id (required).
 * @example pivotInclination({ 'de-1': { 'de-1': 1 } }, { 'de-1': { ids: ['en-2', 'de-1'], scores: [2, 1] } }, { languages: poolLanguages(pool) }) // { 'de-1': 1 }
 */
export function pivotInclination(qrels: Qrels, run: Run, options: PivotOptions): Record<string, number> {
  return pivotPerQuery(qrels, run, options, (n) => (n > 0 ? 1 : 0));
}

/** Pivot metrics are defined in pools with pivot-language documents, for queries not in the pivot language. */
function pivotPool(pool: PoolFacts): boolean {
  return pool.docLangs.includes(pool.pivot) && pool.queryLang !== pool.pivot;
}

/** Registry entry: `pivot_inclination` (in the default set). */
export const pivotInclinationMetric: MetricDefinition = {
  name: 'pivot_inclination', cutoff: 'none', aggregate: 'mean', range: [0, 1], higherIsBetter: false, defaults: ['pivot_inclination'], needsLanguages: true,
  summary: 'share of queries with a non-relevant pivot-language document above the best relevant own-language one',
  definedFor: pivotPool,
  score: (r, c) => {
    const n = pivotAboveInContext(r, c);
    return Number.isNaN(n) ? n : n > 0 ? 1 : 0;
  },
};

/** Registry entry: `pivot_above` (in the default set). */
export const pivotAboveMetric: MetricDefinition = {
  name: 'pivot_above', cutoff: 'none', aggregate: 'mean', range: [0, Number.POSITIVE_INFINITY], higherIsBetter: false, defaults: ['pivot_above'], needsLanguages: true,
  summary: 'non-relevant pivot-language documents above the best relevant own-language one',
  definedFor: pivotPool,
  score: pivotAboveInContext,
};

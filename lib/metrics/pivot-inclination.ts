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
 * Languages come from the id prefix `<lang>-` (query `de-123`, document `en-a07p03`).
 * Relevant P-language documents (e.g. the English parallel of the answer in the `mixed`
 * scenario) are not counted: preferring them is not a mistake. If no relevant L-language
 * document is in the ranking, b counts as ranked after the whole ranking, so every
 * non-relevant P document of the ranking is above it.
 *
 * Left out (undefined, not averaged): queries whose language is P, queries with no relevant
 * L-language document in the qrels, and queries absent from the run (nothing was ranked, so
 * nothing can be said). The mean is over the remaining queries (NaN when none remains).
 * There is no cutoff. Ties follow the pessimistic policy of `common.ts` (a tie between a
 * non-relevant pivot document and b puts the pivot document above).
 *
 * Reference: xlalign (issue 2), after the "language preference" analyses of Roy et al.,
 * "LAReQA: Language-agnostic answer retrieval from a multilingual pool", EMNLP 2020.
 */
import type { Qrels } from '../runs/types.js';
import type { Run } from '../runs/types.js';
import { createRankScratch, evaluatedQueries, rankQuery, type RankedQuery } from '../runs/ranking.js';

/** Options of the pivot metrics. */
export interface PivotOptions {
  /** Pivot language code, the prefix of pivot document ids. Default `'en'`. */
  pivot?: string;
}

/** The language prefix of an id `<lang>-<id>` ('' when there is no '-'). @example langOf('de-a07p03') // 'de' */
export function langOf(id: string): string {
  const i = id.indexOf('-');
  return i > 0 ? id.slice(0, i) : '';
}

/**
 * PivotAbove of one query on plain arrays.
 * @param rankedIds - document ids in ranked order (after the tie policy).
 * @param rel - relevance at each rank.
 * @param queryLang - the query language L.
 * @param pivot - the pivot language P (default `'en'`).
 * @returns the number of non-relevant P documents ranked above the best relevant L document.
 * @example pivotAboveCount(['en-1', 'de-2', 'en-2'], [0, 1, 1], 'de') // 1
 */
export function pivotAboveCount(rankedIds: readonly string[], rel: ArrayLike<number>, queryLang: string, pivot = 'en'): number {
  const lp = queryLang + '-';
  const pp = pivot + '-';
  let above = 0;
  for (let i = 0; i < rankedIds.length; i++) {
    const id = rankedIds[i];
    if (rel[i] > 0) {
      if (id.startsWith(lp)) return above;
    } else if (id.startsWith(pp)) above++;
  }
  return above;
}

/**
 * Same as {@link pivotAboveCount} on a {@link RankedQuery}, without allocating ranked ids.
 * @example pivotAboveRanked(rankQuery('de-1', run['de-1'], qrels['de-1']), 'de', 'en')
 */
export function pivotAboveRanked(r: RankedQuery, queryLang: string, pivot: string): number {
  const lp = queryLang + '-';
  const pp = pivot + '-';
  let above = 0;
  for (let i = 0; i < r.rel.length; i++) {
    const id = r.ids[r.order[i]];
    if (r.rel[i] > 0) {
      if (id.startsWith(lp)) return above;
    } else if (id.startsWith(pp)) above++;
  }
  return above;
}

/**
 * Whether a query takes part in the pivot metrics: its language is not the pivot, it has a
 * relevant document in its own language, and it is in the run.
 * @example pivotDefined('de-1', { 'de-1': 1 }, { 'de-1': { ids: [], scores: [] } }, 'en') // true
 */
export function pivotDefined(qid: string, judgments: Record<string, number> | undefined, run: Run, pivot: string): boolean {
  const lang = langOf(qid);
  if (lang === '' || lang === pivot || run[qid] === undefined || !judgments) return false;
  const lp = lang + '-';
  for (const d in judgments) if (judgments[d] > 0 && d.startsWith(lp)) return true;
  return false;
}

function pivotPerQuery(qrels: Qrels, run: Run, pivot: string, f: (n: number) => number): Record<string, number> {
  const out: Record<string, number> = {};
  const scratch = createRankScratch();
  for (const qid of evaluatedQueries(qrels)) {
    if (!pivotDefined(qid, qrels[qid], run, pivot)) continue;
    out[qid] = f(pivotAboveRanked(rankQuery(qid, run[qid], qrels[qid], scratch), langOf(qid), pivot));
  }
  return out;
}

/**
 * PivotAbove of every query where it is defined (see the file comment).
 * @param options.pivot - pivot language; default `'en'`.
 * @example pivotAbove({ 'de-1': { 'de-1': 1 } }, { 'de-1': { ids: ['en-2', 'de-1'], scores: [2, 1] } }) // { 'de-1': 1 }
 */
export function pivotAbove(qrels: Qrels, run: Run, options: PivotOptions = {}): Record<string, number> {
  return pivotPerQuery(qrels, run, options.pivot ?? 'en', (n) => n);
}

/**
 * PivotInclination of every query where it is defined (see the file comment).
 * @param options.pivot - pivot language; default `'en'`.
 * @example pivotInclination({ 'de-1': { 'de-1': 1 } }, { 'de-1': { ids: ['en-2', 'de-1'], scores: [2, 1] } }) // { 'de-1': 1 }
 */
export function pivotInclination(qrels: Qrels, run: Run, options: PivotOptions = {}): Record<string, number> {
  return pivotPerQuery(qrels, run, options.pivot ?? 'en', (n) => (n > 0 ? 1 : 0));
}

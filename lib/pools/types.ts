import type { Exclusions, IdLanguages, Qrels } from '../runs/types.js';

/**
 * Types shared along the data flow pools -> embed -> retrieve -> metrics.
 *
 * Ids are strings `<lang>-<id>`: queries `de-<questionId>`, documents `en-<paragraphId>`,
 * with the same `<id>` for parallel versions across languages. The spelling is for people
 * and files only: code takes languages from `Doc.lang` / `Query.lang` ({@link poolLanguages}),
 * never by splitting an id (a BCP-47 tag such as `en-US` contains '-' itself).
 */

/** A text to retrieve, with its language. `id` is `<lang>-<paragraphId>`. */
export interface Doc {
  id: string;
  lang: string;
  text: string;
}

/** A query, with its language. `id` is `<lang>-<questionId>`. */
export interface Query {
  id: string;
  lang: string;
  text: string;
}

/** The evaluation scenarios (see {@link buildPool} in `lib/pools/build-pool.ts`). */
export const SCENARIOS = ['mono', 'cross', 'mixed', 'mixed-target', 'mixed-pivot', 'multi'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** One evaluation pool: queries of one language against a set of documents. */
export interface Pool {
  dataset: string;
  scenario: Scenario;
  /** The pool's language L (the target language of a two-language scenario). */
  lang: string;
  /** Language of the queries: L, or the pivot P for pivot-language queries (`queries: 'pivot'`). */
  queryLang: string;
  /** Pivot language (default `en`). */
  pivot: string;
  queries: Query[];
  docs: Doc[];
  qrels: Qrels;
  exclude: Exclusions;
}

/** Join a language and a bare id into `<lang>-<id>`. */
export function joinId(lang: string, id: string): string {
  return `${lang}-${id}`;
}

/** Which language a two-language pool's queries are in: the target L or the pivot P. */
export const QUERY_LANGS = ['target', 'pivot'] as const;
export type QueryLangRole = (typeof QUERY_LANGS)[number];

/** How documents are cut from a corpus: one per paragraph, or one per question (see `doc-unit.ts`). */
export const DOC_UNITS = ['paragraph', 'question'] as const;
export type DocUnit = (typeof DOC_UNITS)[number];

/**
 * The language of every query and document of a pool, from `Query.lang` and `Doc.lang`,
 * for the metrics that compare languages.
 * @example evaluate(pool.qrels, run, ['pivot_inclination'], { languages: poolLanguages(pool) })
 */
export function poolLanguages(pool: Pick<Pool, 'queries' | 'docs'>): IdLanguages {
  return {
    queries: new Map(pool.queries.map((q) => [q.id, q.lang])),
    docs: new Map(pool.docs.map((d) => [d.id, d.lang])),
  };
}

/**
 * The pool's name in file names and result keys: `<scenario>.<lang>` for queries in the
 * pool's language (as before query languages existed), `<scenario>.<lang>.<queryLang>-queries`
 * otherwise, so pools that differ only in their query language never share a file.
 * @example poolName({ scenario: 'mixed', lang: 'de', queryLang: 'en' }) // 'mixed.de.en-queries'
 */
export function poolName(pool: Pick<Pool, 'scenario' | 'lang' | 'queryLang'>): string {
  return pool.queryLang === pool.lang ? `${pool.scenario}.${pool.lang}` : `${pool.scenario}.${pool.lang}.${pool.queryLang}-queries`;
}

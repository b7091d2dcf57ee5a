import type { Exclusions, Qrels } from '../runs/types.js';

/**
 * Types shared along the data flow pools -> embed -> retrieve -> metrics.
 *
 * Ids are strings `<lang>-<id>`: queries `de-<questionId>`, documents `en-<paragraphId>`,
 * with the same `<id>` for parallel versions across languages.
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

/** The evaluation scenarios (see `lib/pools/scenarios.ts`). */
export const SCENARIOS = ['mono', 'cross', 'mixed', 'mixed-target', 'mixed-pivot', 'multi'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** One evaluation pool: queries of one language against a set of documents. */
export interface Pool {
  dataset: string;
  scenario: Scenario;
  /** Query language. */
  lang: string;
  /** Pivot language (default `en`). */
  pivot: string;
  queries: Query[];
  docs: Doc[];
  qrels: Qrels;
  exclude: Exclusions;
}

/** Split `<lang>-<id>` into its parts (the language is everything before the first '-'). */
export function splitId(id: string): { lang: string; id: string } {
  const i = id.indexOf('-');
  if (i <= 0) throw new Error(`splitId: '${id}' is not of the form <lang>-<id>`);
  return { lang: id.slice(0, i), id: id.slice(i + 1) };
}

/** Join a language and a bare id into `<lang>-<id>`. */
export function joinId(lang: string, id: string): string {
  return `${lang}-${id}`;
}

import type { QueryLangRole, Scenario } from './types.js';

/**
 * The languages of one pool, by scenario: the one table `buildPool` builds pools from and
 * `xlalign eval` checks a corpus against before any work. With pool language L, pivot P,
 * query language Q (L, or P for `role: 'pivot'`), the other language O of the pair, and
 * corpus languages C:
 *
 * | scenario       | documents | relevant | excluded |
 * |----------------|-----------|----------|----------|
 * | `mono`         | L         | L        | -        |
 * | `cross`        | O         | O        | -        |
 * | `mixed`        | L, P      | L, P     | -        |
 * | `mixed-target` | L, P      | L        | P        |
 * | `mixed-pivot`  | L, P      | P        | L        |
 * | `multi`        | C         | C        | -        |
 *
 * @example scenarioLangs('mixed', 'de', 'en', ['de', 'en']).relevantLangs // ['de', 'en']
 */
export function scenarioLangs(
  scenario: Scenario,
  lang: string,
  pivot: string,
  corpusLangs: readonly string[],
  role: QueryLangRole = 'target',
): { queryLang: string; docLangs: string[]; relevantLangs: string[]; excludedLang?: string } {
  const queryLang = role === 'pivot' ? pivot : lang;
  const other = queryLang === lang ? pivot : lang;
  const docLangs = scenario === 'mono' ? [lang] : scenario === 'cross' ? [other] : scenario === 'multi' ? [...corpusLangs] : [lang, pivot];
  const relevantLangs = scenario === 'mono' || scenario === 'mixed-target' ? [lang] : scenario === 'mixed-pivot' ? [pivot] : docLangs;
  const excludedLang = scenario === 'mixed-target' ? pivot : scenario === 'mixed-pivot' ? lang : undefined;
  return { queryLang, docLangs, relevantLangs, ...(excludedLang ? { excludedLang } : {}) };
}

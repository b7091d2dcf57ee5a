import type { Scenario } from './types.js';

/**
 * The languages of one pool, by scenario (the table of `buildPool`): with query language L,
 * pivot P and corpus languages C,
 * documents `mono` L, `cross` P, `mixed*` L ∪ P, `multi` C; relevant `mono`/`mixed-target`
 * L, `cross`/`mixed-pivot` P, `mixed` L and P, `multi` C; excluded `mixed-target` P,
 * `mixed-pivot` L. Used to check a corpus before any work (`checkCorpusNeeds`).
 *
 * @example scenarioLangs('mixed', 'de', 'en', ['de', 'en']).relevantLangs // ['de', 'en']
 */
export function scenarioLangs(scenario: Scenario, lang: string, pivot: string, corpusLangs: readonly string[]): { docLangs: string[]; relevantLangs: string[]; excludedLang?: string } {
  const docLangs = scenario === 'mono' ? [lang] : scenario === 'cross' ? [pivot] : scenario === 'multi' ? [...corpusLangs] : [lang, pivot];
  const relevantLangs = scenario === 'mono' || scenario === 'mixed-target' ? [lang] : scenario === 'cross' || scenario === 'mixed-pivot' ? [pivot] : docLangs;
  const excludedLang = scenario === 'mixed-target' ? pivot : scenario === 'mixed-pivot' ? lang : undefined;
  return { docLangs, relevantLangs, ...(excludedLang ? { excludedLang } : {}) };
}

import { checkOneOf, xlError } from '../util/errors.js';
import { relevantDocIds, type ParallelCorpus } from '../data/parallel.js';
import { joinId, SCENARIOS, type Doc, type Pool, type Query, type Scenario } from './types.js';
import { type Exclusions } from '../runs/types.js';
import { type Qrels } from '../runs/types.js';

/** Options of {@link buildPool}. */
export interface PoolOptions {
  /** The scenario (see below). */
  scenario: Scenario;
  /** Query language L. */
  lang: string;
  /** Pivot language P. Default `en`. */
  pivot?: string;
}

/**
 * Build one evaluation pool from a parallel corpus. With query language L and pivot P:
 *
 * | scenario       | documents          | relevant to a query                        | excluded from its ranking |
 * |----------------|--------------------|--------------------------------------------|---------------------------|
 * | `mono`         | L                  | the L answer                               | -                         |
 * | `cross`        | P                  | the P answer                               | -                         |
 * | `mixed`        | L ∪ P              | both parallel answers (multi-reference)    | -                         |
 * | `mixed-target` | L ∪ P              | the L answer                               | the P answer              |
 * | `mixed-pivot`  | L ∪ P              | the P answer                               | the L answer              |
 * | `multi`        | every corpus lang  | the answer in every language (LAReQA)      | -                         |
 *
 * `mixed-target` measures pivot (English) inclination: do irrelevant P documents outrank the
 * relevant L one? `mixed-pivot` measures strong alignment: is the cross-lingual answer found
 * among same-language distractors? An exclusion is not a judgment of irrelevance: the
 * document is simply not ranked for that query.
 *
 * Ids are `<lang>-<id>` with the same `<id>` for parallel versions.
 *
 * @throws XlalignError for an unknown scenario, a language missing from the corpus, or
 *   L = P in a scenario that needs two languages.
 * @example const pool = buildPool(xquadCorpus(), { scenario: 'mixed', lang: 'de' });
 */
export function buildPool(corpus: ParallelCorpus, options: PoolOptions): Pool {
  const { lang, pivot = 'en' } = options;
  const scenario = checkOneOf('buildPool', 'scenario', options.scenario, SCENARIOS);
  for (const [what, l] of [['lang', lang], ['pivot', pivot]] as const) {
    if (!corpus.docs[l]) throw xlError('buildPool', `${what} '${l}' is not in corpus ${corpus.name}; it has ${corpus.langs.join(', ')}`);
  }
  const twoLang = scenario === 'cross' || scenario.startsWith('mixed');
  if (twoLang && lang === pivot) {
    throw xlError('buildPool', `scenario '${scenario}' needs a query language other than the pivot '${pivot}'`);
  }
  const docLangs = scenario === 'mono' ? [lang] : scenario === 'cross' ? [pivot] : scenario === 'multi' ? corpus.langs : [lang, pivot];
  const relevantLangs =
    scenario === 'mono' || scenario === 'mixed-target' ? [lang] : scenario === 'cross' || scenario === 'mixed-pivot' ? [pivot] : docLangs;
  const excludedLang = scenario === 'mixed-target' ? pivot : scenario === 'mixed-pivot' ? lang : undefined;

  const docs: Doc[] = docLangs.flatMap((l) => corpus.docs[l].map((d) => ({ id: joinId(l, d.id), lang: l, text: d.text })));
  const queries: Query[] = [];
  const qrels: Qrels = {};
  const exclude: Exclusions = {};
  for (const q of corpus.queries[lang]) {
    const qid = joinId(lang, q.id);
    queries.push({ id: qid, lang, text: q.text });
    const rel = relevantDocIds(q); // an own dataset's query may name several documents
    qrels[qid] = Object.fromEntries(relevantLangs.flatMap((l) => rel.map((d) => [joinId(l, d), 1])));
    if (excludedLang) exclude[qid] = rel.map((d) => joinId(excludedLang, d));
  }
  return { dataset: corpus.name, scenario, lang, pivot, queries, docs, qrels, exclude };
}

/**
 * The (scenario, language) pairs of a full evaluation: every corpus language for `mono` and
 * `multi`, every non-pivot language for `cross` and the `mixed*` scenarios.
 */
export function poolPlan(corpus: ParallelCorpus, options: { scenarios?: readonly Scenario[]; langs?: readonly string[]; pivot?: string } = {}): { scenario: Scenario; lang: string }[] {
  const { scenarios = SCENARIOS, langs = corpus.langs, pivot = 'en' } = options;
  const plan: { scenario: Scenario; lang: string }[] = [];
  for (const scenario of scenarios) {
    for (const lang of langs) {
      const twoLang = scenario === 'cross' || scenario.startsWith('mixed');
      if (twoLang && lang === pivot) continue;
      plan.push({ scenario, lang });
    }
  }
  return plan;
}

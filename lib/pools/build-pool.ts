import { checkOneOf, xlError } from '../util/errors.js';
import { relevantDocIds, type ParallelCorpus } from '../data/parallel.js';
import { scenarioLangs } from './scenario-langs.js';
import { joinId, QUERY_LANGS, SCENARIOS, type Doc, type Pool, type Query, type QueryLangRole, type Scenario } from './types.js';
import { type Exclusions } from '../runs/types.js';
import { type Qrels } from '../runs/types.js';

/** Options of {@link buildPool}. */
export interface PoolOptions {
  /** The scenario (see below). */
  scenario: Scenario;
  /** The pool's language L (the query language, unless `queries: 'pivot'`). */
  lang: string;
  /** Pivot language P. Default `en`. */
  pivot?: string;
  /**
   * Language of the queries in a two-language scenario (`cross`, `mixed*`): `'target'` (L,
   * the default) or `'pivot'` (P). `mono` and `multi` take only `'target'`.
   */
  queries?: QueryLangRole;
}

/** Whether a scenario pairs two languages (L and P). */
export function isTwoLanguage(scenario: Scenario): boolean {
  return scenario === 'cross' || scenario.startsWith('mixed');
}

/**
 * Build one evaluation pool from a parallel corpus. With pool language L, pivot P and query
 * language Q (L by default; P with `queries: 'pivot'`):
 *
 * | scenario       | documents              | relevant to a query                        | excluded from its ranking |
 * |----------------|------------------------|--------------------------------------------|---------------------------|
 * | `mono`         | L                      | the L answer                               | -                         |
 * | `cross`        | the other language of Q| the answer in that language                | -                         |
 * | `mixed`        | L ∪ P                  | both parallel answers (multi-reference)    | -                         |
 * | `mixed-target` | L ∪ P                  | the L answer                               | the P answer              |
 * | `mixed-pivot`  | L ∪ P                  | the P answer                               | the L answer              |
 * | `multi`        | every corpus lang      | the answer in every language (LAReQA)      | -                         |
 *
 * With target queries (Q = L): `cross` ranks P documents; `mixed-target` measures pivot
 * (English) inclination: do irrelevant P documents outrank the relevant L one?
 * `mixed-pivot` measures strong alignment: is the cross-lingual answer found among
 * same-language distractors? With pivot queries (Q = P, the study's "Query: En") the
 * documents and judgments stay the same (`mixed-target`: the L answer is relevant, now
 * cross-lingual), except `cross`, which ranks the L documents. An exclusion is not a
 * judgment of irrelevance: the document is simply not ranked for that query.
 *
 * Ids are `<lang>-<id>` with the same `<id>` for parallel versions; languages are carried
 * by `Doc.lang` and `Query.lang` (see `poolLanguages`).
 *
 * The corpus is checked first: every query's document must exist in each document language
 * of the pool (its relevant documents, and the parallel versions a two-language or `multi`
 * pool holds), and document ids must be unique per language.
 *
 * @throws XlalignError for an unknown scenario, a language missing from the corpus, L = P in
 *   a scenario that needs two languages, pivot queries in `mono`/`multi`, or a corpus with a
 *   missing relevant document, a missing parallel version or a duplicate document id
 *   (naming the corpus, language, query and document).
 * @example const pool = buildPool(xquadCorpus(), { scenario: 'mixed', lang: 'de' });
 */
export function buildPool(corpus: ParallelCorpus, options: PoolOptions): Pool {
  const { lang, pivot = 'en' } = options;
  const scenario = checkOneOf('buildPool', 'scenario', options.scenario, SCENARIOS);
  const role = checkOneOf('buildPool', 'queries', options.queries ?? 'target', QUERY_LANGS);
  for (const [what, l] of [['lang', lang], ['pivot', pivot]] as const) {
    if (!corpus.docs[l]) throw xlError('buildPool', `${what} '${l}' is not in corpus ${corpus.name}; it has ${corpus.langs.join(', ')}`);
  }
  const twoLang = isTwoLanguage(scenario);
  if (twoLang && lang === pivot) {
    throw xlError('buildPool', `scenario '${scenario}' needs a query language other than the pivot '${pivot}'`);
  }
  if (!twoLang && role === 'pivot') {
    throw xlError('buildPool', `scenario '${scenario}' takes only target-language queries; pivot-language queries are for cross, mixed, mixed-target and mixed-pivot`);
  }
  const { queryLang, docLangs, relevantLangs, excludedLang } = scenarioLangs(scenario, lang, pivot, corpus.langs, role);
  if (!corpus.queries[queryLang]) throw xlError('buildPool', `corpus ${corpus.name} has no queries in '${queryLang}'`);
  checkCorpus(corpus, queryLang, docLangs);

  const docs: Doc[] = docLangs.flatMap((l) => corpus.docs[l].map((d) => ({ id: joinId(l, d.id), lang: l, text: d.text })));
  const queries: Query[] = [];
  const qrels: Qrels = {};
  const exclude: Exclusions = {};
  for (const q of corpus.queries[queryLang]) {
    const qid = joinId(queryLang, q.id);
    queries.push({ id: qid, lang: queryLang, text: q.text });
    const rel = relevantDocIds(q); // an own dataset's query may name several documents
    qrels[qid] = Object.fromEntries(relevantLangs.flatMap((l) => rel.map((d) => [joinId(l, d), 1])));
    if (excludedLang) exclude[qid] = rel.map((d) => joinId(excludedLang, d));
  }
  return { dataset: corpus.name, scenario, lang, queryLang, pivot, queries, docs, qrels, exclude };
}

/** Every query of `queryLang` has its document in each of `docLangs`; document ids are unique per language. */
function checkCorpus(corpus: ParallelCorpus, queryLang: string, docLangs: readonly string[]): void {
  for (const l of docLangs) {
    const docs = corpus.docs[l];
    if (!docs) throw xlError('buildPool', `corpus ${corpus.name} has no documents in '${l}'`);
    const ids = new Set<string>();
    docs.forEach((d, i) => {
      if (ids.has(d.id)) throw xlError('buildPool', `corpus ${corpus.name}: docs['${l}'][${i}].id '${d.id}' is a duplicate; document ids must be unique per language`);
      ids.add(d.id);
    });
    corpus.queries[queryLang].forEach((q, i) => {
      const missing = relevantDocIds(q).find((d) => !ids.has(d));
      if (missing === undefined) return;
      const what = l === queryLang ? 'its relevant document' : `the parallel version of its document in '${l}'`;
      throw xlError('buildPool', `corpus ${corpus.name}: queries['${queryLang}'][${i}] (id '${q.id}') has docId '${missing}', but ${what} is missing (no docs['${l}'] entry with that id); every query needs its document in each pool language: ${docLangs.join(', ')}`);
    });
  }
}

/** One pool of a full evaluation: scenario, pool language L, and query language role. */
export interface PoolPlanEntry {
  scenario: Scenario;
  lang: string;
  queries: QueryLangRole;
}

/**
 * The (scenario, language, query language) pools of a full evaluation: every language for
 * `mono` and `multi` (target queries), every non-pivot language for `cross` and the `mixed*`
 * scenarios, once per role of `queryLangs` (default `['target']`).
 * @example poolPlan(corpus, { scenarios: ['mixed'], langs: ['de'], queryLangs: ['target', 'pivot'] }) // mixed de target, mixed de pivot
 */
export function poolPlan(
  corpus: ParallelCorpus,
  options: { scenarios?: readonly Scenario[]; langs?: readonly string[]; pivot?: string; queryLangs?: readonly QueryLangRole[] } = {},
): PoolPlanEntry[] {
  const { scenarios = SCENARIOS, langs = corpus.langs, pivot = 'en', queryLangs = ['target'] } = options;
  for (const r of queryLangs) checkOneOf('poolPlan', 'queryLangs', r, QUERY_LANGS);
  const plan: PoolPlanEntry[] = [];
  for (const scenario of scenarios) {
    for (const lang of langs) {
      const twoLang = isTwoLanguage(scenario);
      if (twoLang && lang === pivot) continue;
      for (const queries of twoLang ? queryLangs : (['target'] as const)) plan.push({ scenario, lang, queries });
    }
  }
  return plan;
}

/** A requested pool that cannot be built, and why. */
export interface MissingPool {
  scenario: Scenario;
  lang: string;
  reason: string;
}

/**
 * The (scenario, language) pools a request names that {@link poolPlan} cannot build: a
 * two-language scenario (`cross`, `mixed*`) for the pivot itself, which has no other
 * language to pair with. Languages requested as `all` do not name the pivot for these
 * scenarios (every language is paired with the pivot), so only `explicitLangs` are checked.
 * @example missingPools(['cross', 'mono'], ['de', 'en'], 'en') // [{ scenario: 'cross', lang: 'en', reason: ... }]
 */
export function missingPools(scenarios: readonly Scenario[], explicitLangs: readonly string[], pivot: string): MissingPool[] {
  const out: MissingPool[] = [];
  for (const scenario of scenarios) {
    for (const lang of explicitLangs) {
      if (isTwoLanguage(scenario) && lang === pivot) out.push({ scenario, lang, reason: `'${lang}' is the pivot; ${scenario} pairs a language with the pivot` });
    }
  }
  return out;
}

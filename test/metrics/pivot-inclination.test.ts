import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pivotAbove, pivotAboveCount, pivotInclination } from '../../lib/metrics/pivot-inclination.js';
import { evaluate } from '../../lib/metrics/evaluate.js';
import { buildPool } from '../../lib/pools/build-pool.js';
import { poolLanguages } from '../../lib/pools/types.js';
import type { ParallelCorpus } from '../../lib/data/parallel.js';
import type { IdLanguages, Run } from '../../lib/runs/types.js';

/** Languages of ids spelled `<lang>-<n>` with a one-part language, for the hand-made cases below. */
function langsOf(ids: string[]): IdLanguages {
  const m = new Map(ids.map((id) => [id, id.slice(0, id.indexOf('-'))]));
  return { queries: m, docs: m };
}

test('counts non-relevant pivot documents above the best relevant query-language document', () => {
  // en-2 (non-relevant pivot) above de-1; en-1 is relevant (parallel) and not counted;
  // de-2 is not pivot; en-3 is below de-1.
  assert.equal(pivotAboveCount(['en', 'en', 'de', 'de', 'en'], [0, 1, 0, 1, 0], 'de'), 1);
  assert.equal(pivotAboveCount(['de', 'en'], [1, 0], 'de'), 0);
  // No relevant de document retrieved: every non-relevant en document counts.
  assert.equal(pivotAboveCount(['en', 'en', 'de'], [0, 0, 0], 'de'), 2);
  // Another pivot.
  assert.equal(pivotAboveCount(['fr', 'en', 'de'], [0, 0, 1], 'de', 'fr'), 1);
});

test('per-query layer: which queries are left out', () => {
  const qrels = {
    'de-1': { 'de-1': 1, 'en-1': 1 }, // en-2 above de-1: 1
    'de-2': { 'de-2': 1 }, // de-2 first: 0
    'de-3': { 'en-3': 1 }, // no relevant de document: left out
    'en-4': { 'en-4': 1 }, // pivot-language query: left out
    'de-5': { 'de-5': 1 }, // absent from the run: left out
    'de-6': { 'de-6': 1 }, // ties with two en documents: pessimistic -> 2
  };
  const run = {
    'de-1': { ids: ['en-2', 'en-1', 'de-2', 'de-1', 'en-3'], scores: [5, 4, 3, 2, 1] },
    'de-2': { ids: ['en-2', 'de-2'], scores: [1, 2] },
    'de-3': { ids: ['en-1', 'en-3'], scores: [2, 1] },
    'en-4': { ids: ['en-1', 'en-4'], scores: [2, 1] },
    'de-6': { ids: ['de-6', 'en-1', 'en-2', 'de-7'], scores: [1, 1, 1, 1] },
  };
  const languages = langsOf([...Object.keys(qrels), 'en-1', 'en-2', 'en-3', 'de-7']);
  assert.deepEqual(pivotAbove(qrels, run, { languages }), { 'de-1': 1, 'de-2': 0, 'de-6': 2 });
  assert.deepEqual(pivotInclination(qrels, run, { languages }), { 'de-1': 1, 'de-2': 0, 'de-6': 1 });
  // With pivot 'de', the de queries are left out and en-4 counts (no non-relevant de above en-4).
  assert.deepEqual(pivotAbove(qrels, run, { pivot: 'de', languages }), { 'en-4': 0 });
  // languages are required, and must cover the ranked documents
  assert.throws(() => pivotAbove(qrels, run, {} as never), /options\.languages is required/);
  assert.throws(() => evaluate(qrels, run, ['pivot_inclination']), /metric 'pivot_inclination' needs options\.languages/);
  const partial: IdLanguages = { queries: languages.queries, docs: new Map([['de-1', 'de']]) };
  assert.throws(() => pivotAbove({ 'de-1': { 'de-1': 1 } }, { 'de-1': run['de-1'] }, { languages: partial }), /document 'en-2' has no language/);
});

test('BCP-47 languages from the pool (en-US, zh-Hant, de), pivot en-US: no id is split at "-"', () => {
  // A small parallel corpus whose language tags contain '-': ids become 'en-US-p1', 'zh-Hant-q1'.
  const langs = ['en-US', 'zh-Hant', 'de'];
  const para = (l: string, i: number) => `${l} paragraph ${i}`;
  const corpus: ParallelCorpus = {
    name: 'toy',
    langs,
    docs: Object.fromEntries(langs.map((l) => [l, [1, 2, 3].map((i) => ({ id: `p${i}`, text: para(l, i) }))])),
    queries: Object.fromEntries(langs.map((l) => [l, [1, 2, 3].map((i) => ({ id: `q${i}`, text: `${l} question ${i}`, docId: `p${i}` }))])),
  };
  const pool = buildPool(corpus, { scenario: 'multi', lang: 'zh-Hant', pivot: 'en-US' });
  assert.deepEqual([...new Set(pool.docs.map((d) => d.lang))], langs);
  const languages = poolLanguages(pool);
  // Ranking for every query: a non-relevant en-US document first, then the zh-Hant answer
  // for q1 only; q2 has its own answer first; q3 has the answer of another language first,
  // then a de non-relevant one (not the pivot), then its own.
  const rank = (ids: string[]): { ids: string[]; scores: number[] } => ({ ids, scores: ids.map((_, i) => ids.length - i) });
  const run: Run = {
    'zh-Hant-q1': rank(['en-US-p2', 'zh-Hant-p1', 'en-US-p1', 'de-p1']),
    'zh-Hant-q2': rank(['zh-Hant-p2', 'en-US-p1', 'en-US-p2', 'de-p2']),
    'zh-Hant-q3': rank(['en-US-p3', 'de-p1', 'zh-Hant-p3', 'en-US-p1']),
  };
  // relevant en-US-p3 above (not counted); de-p1 is not the pivot: q3 -> 0
  assert.deepEqual(pivotInclination(pool.qrels, run, { pivot: 'en-US', languages }), { 'zh-Hant-q1': 1, 'zh-Hant-q2': 0, 'zh-Hant-q3': 0 });
  assert.deepEqual(pivotAbove(pool.qrels, run, { pivot: 'en-US', languages }), { 'zh-Hant-q1': 1, 'zh-Hant-q2': 0, 'zh-Hant-q3': 0 });
  // Splitting at the first '-' would call 'zh-Hant-q1' a 'zh' query and 'en-US-p2' an 'en' document.

  // The en-US queries of the same corpus are in the pivot language: left out.
  const enPool = buildPool(corpus, { scenario: 'multi', lang: 'en-US', pivot: 'en-US' });
  const enRun: Run = Object.fromEntries(enPool.queries.map((q) => [q.id, rank(['de-p1', 'en-US-p1', 'en-US-p2'])]));
  const ev = evaluate(enPool.qrels, enRun, ['pivot_inclination', 'ndcg@10'], { pivot: 'en-US', languages: poolLanguages(enPool) });
  assert.ok(Number.isNaN(ev.mean.pivot_inclination), 'every en-US query is excluded');
  assert.equal(ev.perQuery['en-US-q1'].pivot_inclination, undefined);
  assert.ok(ev.perQuery['en-US-q1']['ndcg@10'] > 0);

  // mixed-target with de queries and pivot en-US: through evaluate as the runner calls it
  const mt = buildPool(corpus, { scenario: 'mixed-target', lang: 'de', pivot: 'en-US' });
  assert.deepEqual(mt.exclude['de-q1'], ['en-US-p1']);
  const mtRun: Run = {
    'de-q1': rank(['en-US-p2', 'de-p1']),
    'de-q2': rank(['de-p2', 'en-US-p1']),
    'de-q3': rank(['de-p1', 'de-p3', 'en-US-p1']),
  };
  const mtEv = evaluate(mt.qrels, mtRun, ['pivot_inclination', 'pivot_above'], { pivot: 'en-US', languages: poolLanguages(mt) });
  assert.deepEqual(mtEv.mean, { pivot_inclination: 1 / 3, pivot_above: 1 / 3 });
});

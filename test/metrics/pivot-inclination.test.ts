import { test } from 'node:test';
import assert from 'node:assert/strict';
import { langOf, pivotAbove, pivotAboveCount, pivotInclination } from '../../lib/metrics/pivot-inclination.js';

test('counts non-relevant pivot documents above the best relevant query-language document', () => {
  // en-2 (non-relevant pivot) above de-1; en-1 is relevant (parallel) and not counted;
  // de-2 is not pivot; en-3 is below de-1.
  const ids = ['en-2', 'en-1', 'de-2', 'de-1', 'en-3'];
  const rel = [0, 1, 0, 1, 0];
  assert.equal(pivotAboveCount(ids, rel, 'de'), 1);
  assert.equal(pivotAboveCount(['de-1', 'en-2'], [1, 0], 'de'), 0);
  // No relevant de document retrieved: every non-relevant en document counts.
  assert.equal(pivotAboveCount(['en-2', 'en-3', 'de-5'], [0, 0, 0], 'de'), 2);
  // Another pivot.
  assert.equal(pivotAboveCount(['fr-2', 'en-2', 'de-1'], [0, 0, 1], 'de', 'fr'), 1);
  assert.equal(langOf('zh-a01p02'), 'zh');
  assert.equal(langOf('nolang'), '');
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
  assert.deepEqual(pivotAbove(qrels, run), { 'de-1': 1, 'de-2': 0, 'de-6': 2 });
  assert.deepEqual(pivotInclination(qrels, run), { 'de-1': 1, 'de-2': 0, 'de-6': 1 });
  // With pivot 'de', the de queries are left out and en-4 counts (no non-relevant de above en-4).
  assert.deepEqual(pivotAbove(qrels, run, { pivot: 'de' }), { 'en-4': 0 });
});

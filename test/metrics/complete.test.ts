import { test } from 'node:test';
import assert from 'node:assert/strict';
import { complete, completeAtK } from '../../lib/metrics/complete.js';

test('1 only when every relevant document is within the top k', () => {
  assert.equal(completeAtK([1, 0, 1], 2, 2), 0);
  assert.equal(completeAtK([1, 0, 1], 2, 3), 1);
  assert.equal(completeAtK([1, 0, 1], 3), 0); // a third relevant document is not retrieved
  assert.equal(completeAtK([1], 1, 0), 0);
  assert.equal(completeAtK([0], 0, 1), 0);
});

test('per-query layer: parallel versions in a mixed pool', () => {
  // de-1 and en-1 are both relevant; en-1 ties with en-2 and goes below it.
  const qrels = { 'de-q': { 'de-1': 1, 'en-1': 1 } };
  const run = { 'de-q': { ids: ['de-1', 'en-1', 'en-2'], scores: [0.9, 0.5, 0.5] } };
  assert.deepEqual(complete(qrels, run, { k: 2 }), { 'de-q': 0 });
  assert.deepEqual(complete(qrels, run, { k: 3 }), { 'de-q': 1 });
});

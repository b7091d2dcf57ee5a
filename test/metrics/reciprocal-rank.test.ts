import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reciprocalRank, reciprocalRankAtK } from '../../lib/metrics/reciprocal-rank.js';

test('first relevant rank within k', () => {
  assert.equal(reciprocalRankAtK([0, 0, 1, 1], 10), 1 / 3);
  assert.equal(reciprocalRankAtK([0, 0, 1, 1], 3), 1 / 3);
  assert.equal(reciprocalRankAtK([0, 0, 1, 1], 2), 0);
  assert.equal(reciprocalRankAtK([2, 0]), 1);
  assert.equal(reciprocalRankAtK([1], 0), 0);
  assert.equal(reciprocalRankAtK([0, 0]), 0);
});

test('ties and absent queries', () => {
  // b (relevant) ties with a and c: pessimistic rank 3.
  const run = { q: { ids: ['a', 'b', 'c'], scores: [1, 1, 1] }, r: { ids: ['a', 'b'], scores: [1, 2] } };
  assert.deepEqual(reciprocalRank({ q: { b: 1 }, r: { b: 1 }, s: { b: 1 } }, run), { q: 1 / 3, r: 1, s: 0 });
  assert.deepEqual(reciprocalRank({ q: { b: 1 } }, run, { k: 2 }), { q: 0 });
});

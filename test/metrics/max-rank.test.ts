import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longestRanking, maxRank, maxRankOf, median } from '../../lib/metrics/max-rank.js';

test('worst rank among the relevant documents', () => {
  assert.equal(maxRankOf([1, 0, 1, 0], 2), 3);
  assert.equal(maxRankOf([0, 0, 0, 1], 1), 4);
  assert.equal(maxRankOf([1], 1), 1);
  // Second relevant document missing from a ranking of length 2 -> 2 + 1.
  assert.equal(maxRankOf([1, 0], 2), 3);
  assert.equal(maxRankOf([1, 0], 2, 100), 101);
  assert.ok(Number.isNaN(maxRankOf([0, 0], 0)));
});

test('per-query layer: ties, absent queries, empty runs', () => {
  const qrels = { a: { d1: 1, d2: 1 }, b: { d1: 1 }, c: { d1: 1 } };
  const run = {
    a: { ids: ['d1', 'd0', 'd2'], scores: [3, 2, 1] }, // 3
    b: { ids: ['d0', 'd1', 'd2', 'd3'], scores: [1, 1, 1, 1] }, // tie -> d1 last: 4
  };
  // c is absent: longest ranking (4) + 1 = 5.
  assert.deepEqual(maxRank(qrels, run), { a: 3, b: 4, c: 5 });
  assert.equal(longestRanking(run), 4);
  assert.deepEqual(maxRank({ a: { d1: 1 } }, {}), { a: Infinity });
});

test('median', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([3, 1, 2, 10]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

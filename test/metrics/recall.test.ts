import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hitsAtK, recall, recallAtK } from '../../lib/metrics/recall.js';

test('share of relevant documents in the top k', () => {
  assert.equal(hitsAtK([1, 0, 1, 1], 3), 2);
  assert.equal(recallAtK([1, 0, 1], 2, 1), 0.5);
  assert.equal(recallAtK([1, 0, 1], 2, 2), 0.5);
  assert.equal(recallAtK([1, 0, 1], 2, 3), 1);
  // Three relevant in the qrels, one never retrieved: at most 2/3.
  assert.equal(recallAtK([1, 0, 1], 3), 2 / 3);
  assert.equal(recallAtK([1, 0, 1], 2, 0), 0);
  assert.equal(recallAtK([0, 0], 0, 2), 0);
});

test('per-query layer with ties', () => {
  // d1 and d2 relevant, all tied with d0: ranked d0, d1, d2 -> R@1 = 0, R@2 = 1/2, R@3 = 1.
  const qrels = { q: { d1: 1, d2: 1 } };
  const run = { q: { ids: ['d2', 'd1', 'd0'], scores: [0, 0, 0] } };
  assert.deepEqual(recall(qrels, run, { k: 1 }), { q: 0 });
  assert.deepEqual(recall(qrels, run, { k: 2 }), { q: 0.5 });
  assert.deepEqual(recall(qrels, run, { k: 3 }), { q: 1 });
  assert.deepEqual(recall(qrels, run), { q: 1 });
});

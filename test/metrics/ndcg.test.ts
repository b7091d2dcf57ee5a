import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ndcg, ndcgAtK } from '../../lib/metrics/ndcg.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('binary case worked by hand', () => {
  // Relevant at ranks 2 and 4, two relevant documents.
  // DCG = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064
  // IDCG = 1/log2(2) + 1/log2(3) = 1.6309298 -> nDCG = 0.6509209
  close(ndcgAtK([0, 1, 0, 1], [1, 1], 4), (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3)));
  close(ndcgAtK([0, 1, 0, 1], [1, 1], 4), 0.6509209298);
  // @2: DCG = 0.6309298, IDCG = 1.6309298 -> 0.3868528
  close(ndcgAtK([0, 1, 0, 1], [1, 1], 2), 0.3868528072);
});

test('graded case uses linear gain and the ideal from all judged documents', () => {
  // rel [1, 2], ideal [2, 1]: DCG = 1 + 2/log2(3) = 2.2618595; IDCG = 2 + 1/log2(3) = 2.6309298
  close(ndcgAtK([1, 2], [2, 1]), 2.2618595071 / 2.6309297536);
  // A relevant document not retrieved still counts in the ideal: [1] vs ideal [1, 1] @2
  close(ndcgAtK([1], [1, 1], 2), 1 / (1 + 1 / Math.log2(3)));
  // @1: DCG = 1, IDCG = 2
  close(ndcgAtK([1, 2], [2, 1], 1), 0.5);
});

test('k = 0 and no relevant documents give 0', () => {
  assert.equal(ndcgAtK([1, 0], [1], 0), 0);
  assert.equal(ndcgAtK([0, 0], [], 2), 0);
  assert.equal(ndcgAtK([], [1], 10), 0);
  assert.equal(ndcgAtK([1], [1], 10), 1);
});

test('per-query public layer applies the pessimistic tie policy', () => {
  // All three tied: relevant d1 goes last (rank 3) -> 1/log2(4) = 0.5
  const out = ndcg({ q: { d1: 1 }, empty: { x: 0 } }, { q: { ids: ['d0', 'd1', 'd2'], scores: [1, 1, 1] } }, { k: 3 });
  assert.deepEqual(Object.keys(out), ['q']);
  close(out.q, 0.5);
  assert.equal(ndcg({ q: { d1: 1 } }, {}, { k: 10 }).q, 0);
  assert.throws(() => ndcg({ q: { d1: 1 } }, {}, { k: -1 }), /k = -1 is not valid/);
  assert.throws(() => ndcg({ q: { d1: 1 } }, {}, { k: 2.5 }), /non-negative integer/);
});

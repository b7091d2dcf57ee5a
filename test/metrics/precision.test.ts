import { test } from 'node:test';
import assert from 'node:assert/strict';
import { precision, precisionAtK } from '../../lib/metrics/precision.js';

test('denominator is k, as trec_eval, even past the end of the ranking', () => {
  assert.equal(precisionAtK([1, 0, 1], 2), 0.5);
  assert.equal(precisionAtK([1, 0, 1], 3), 2 / 3);
  assert.equal(precisionAtK([1, 0], 5), 1 / 5);
  assert.equal(precisionAtK([1, 0, 1]), 2 / 3);
  assert.equal(precisionAtK([1], 0), 0);
  assert.equal(precisionAtK([]), 0);
});

test('per-query layer with ties', () => {
  // a relevant, tied with b -> ranked b, a: P@1 = 0, P@2 = 1/2.
  const run = { q: { ids: ['a', 'b'], scores: [1, 1] } };
  assert.deepEqual(precision({ q: { a: 1 } }, run, { k: 1 }), { q: 0 });
  assert.deepEqual(precision({ q: { a: 1 } }, run, { k: 2 }), { q: 0.5 });
  assert.deepEqual(precision({ q: { a: 1 } }, {}, { k: 2 }), { q: 0 });
});

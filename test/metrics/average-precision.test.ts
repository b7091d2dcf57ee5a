import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecision, averagePrecisionAtK } from '../../lib/metrics/average-precision.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('mean of precision at each relevant rank over all relevant documents', () => {
  // Relevant at ranks 2 and 3: (1/2 + 2/3) / 2 = 0.5833
  close(averagePrecisionAtK([0, 1, 1], 2), (1 / 2 + 2 / 3) / 2);
  // A third relevant document never retrieved contributes 0: (1/2 + 2/3) / 3
  close(averagePrecisionAtK([0, 1, 1], 3), 0.3888888888889);
  // Cutoff 2 (map_cut): only rank 2 counts, R unchanged: (1/2) / 2
  close(averagePrecisionAtK([0, 1, 1], 2, 2), 0.25);
  assert.equal(averagePrecisionAtK([1, 1], 2), 1);
  assert.equal(averagePrecisionAtK([1, 1], 2, 0), 0);
  assert.equal(averagePrecisionAtK([0, 0], 0), 0);
});

test('per-query layer with ties', () => {
  // r1, r2 relevant, tied with n1: ranked n1, r1, r2 -> (1/2 + 2/3) / 2
  const run = { q: { ids: ['r2', 'n1', 'r1'], scores: [5, 5, 5] } };
  close(averagePrecision({ q: { r1: 1, r2: 1 } }, run).q, (1 / 2 + 2 / 3) / 2);
});

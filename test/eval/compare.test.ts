import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareEvaluations, deltaTables } from '../../lib/eval/compare.js';
import type { EvaluationResult } from '../../lib/eval/run-evaluation.js';
import { createRng } from '../../lib/util/rng.js';

function result(values: number[], shift: number): EvaluationResult {
  const perQuery: Record<string, Record<string, number>> = {};
  values.forEach((v, i) => (perQuery[`de-q${i}`] = { 'ndcg@10': v + shift }));
  const mean = values.reduce((s, v) => s + v + shift, 0) / values.length;
  return {
    rows: [
      { dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang: 'de', metric: 'ndcg@10', value: mean },
      { dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang: 'de', metric: 'maxr.median', value: 10 + shift },
    ],
    perQuery: { 'mixed.de': perQuery },
  };
}

test('compareEvaluations: delta of the aggregates and a bootstrap interval around it', () => {
  const rng = createRng(7);
  const values = Array.from({ length: 300 }, () => rng.next());
  const before = result(values, 0);
  // after = before + 0.1 for every query, plus noise
  const after = result(values.map((v) => v + (rng.next() - 0.5) * 0.2), 0.1);
  const [ndcg, median] = compareEvaluations(before, after, { seed: 1, resamples: 500 });
  assert.equal(ndcg.metric, 'ndcg@10');
  assert.ok(Math.abs(ndcg.delta - (after.rows[0].value - before.rows[0].value)) < 1e-12);
  assert.ok(ndcg.deltaLow! < ndcg.delta && ndcg.delta < ndcg.deltaHigh!, 'the interval holds the point estimate');
  assert.ok(ndcg.deltaLow! > 0.05 && ndcg.deltaHigh! < 0.15, `[${ndcg.deltaLow}, ${ndcg.deltaHigh}] should be near 0.1`);
  assert.equal(ndcg.queries, 300);
  // a median aggregate gets the difference, no interval
  assert.ok(Math.abs(median.delta - 0.1) < 1e-12);
  assert.equal(median.deltaLow, undefined);
  // the same seed gives the same interval
  assert.deepEqual(compareEvaluations(before, after, { seed: 1, resamples: 500 }), compareEvaluations(before, after, { seed: 1, resamples: 500 }));
  const md = deltaTables([ndcg]);
  assert.match(md, /#### mixed · ndcg@10/);
  assert.match(md, /\| de \| [0-9.]+ \| [0-9.]+ \| \+0\.1\d\d \| \[0\.\d+, 0\.\d+\] \|/);
});

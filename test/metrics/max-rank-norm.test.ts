import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxRankNormOf } from '../../lib/metrics/max-rank-norm.js';
import { evaluate } from '../../lib/metrics/evaluate.js';
import { createRng } from '../../lib/util/rng.js';
import type { Qrels, Run } from '../../lib/runs/types.js';

test('hand-computed values: 1 on top, 0 at the bottom, log scale between', () => {
  assert.equal(maxRankNormOf(1, 1, 480), 1);
  assert.equal(maxRankNormOf(2, 2, 480), 1);
  assert.equal(maxRankNormOf(480, 1, 480), 0);
  assert.equal(maxRankNormOf(16, 2, 512), (9 - 4) / (9 - 1));
  assert.equal(maxRankNormOf(32, 1, 1024), 0.5);
  // |D| = |R|: nothing can be ranked wrong
  assert.equal(maxRankNormOf(3, 3, 3), 1);
  assert.equal(maxRankNormOf(4, 3, 3), 0); // a relevant document missing from the ranking
  // missing from a cut ranking: MaxR = length + 1 may exceed |D|; clamped to 0
  assert.equal(maxRankNormOf(101, 1, 100), 0);
  assert.ok(Number.isNaN(maxRankNormOf(1, 0, 10)));
});

test('evaluate: |D_q| from the ranking, or from options.candidates for a cut run', () => {
  const qrels: Qrels = { q1: { a: 1, b: 1 }, q2: { c: 1 } };
  const run: Run = {
    q1: { ids: ['x', 'a', 'y', 'b', 'z', 'w', 'v', 'u'], scores: [8, 7, 6, 5, 4, 3, 2, 1] }, // MaxR 4, |D| 8, |R| 2
    q2: { ids: ['c', 'x', 'y', 'z'], scores: [4, 3, 2, 1] }, // MaxR 1 -> 1
  };
  const { perQuery, mean } = evaluate(qrels, run, ['maxr_norm', 'maxr']);
  assert.equal(perQuery.q1.maxr_norm, (3 - 2) / (3 - 1));
  assert.equal(perQuery.q2.maxr_norm, 1);
  assert.equal(mean.maxr_norm, 0.75);
  // the same rankings cut from a 64-document pool
  const cut = evaluate(qrels, run, ['maxr_norm'], { candidates: { q1: 64, q2: 64 } }).perQuery;
  assert.equal(cut.q1.maxr_norm, (6 - 2) / (6 - 1));
});

test('agrees with a direct computation on random whole-pool rankings; within [0, 1]; monotone in MaxR', () => {
  const rng = createRng(42);
  const qrels: Qrels = {};
  const run: Run = {};
  for (let q = 0; q < 500; q++) {
    const n = 2 + rng.int(60);
    const ids = Array.from({ length: n }, (_, i) => `d${i}`);
    const nRel = 1 + rng.int(Math.min(4, n - 1));
    qrels[`q${q}`] = Object.fromEntries(ids.slice(0, nRel).map((d) => [d, 1]));
    run[`q${q}`] = { ids, scores: ids.map(() => rng.next()) };
  }
  const { perQuery } = evaluate(qrels, run, ['maxr_norm', 'maxr']);
  for (const qid of Object.keys(qrels)) {
    const { ids, scores } = run[qid];
    const ranked = ids.map((id, i) => ({ id, s: scores[i] })).sort((a, b) => b.s - a.s);
    const rel = Object.keys(qrels[qid]);
    const maxR = Math.max(...rel.map((d) => ranked.findIndex((x) => x.id === d) + 1));
    const D = ids.length;
    const expect = (Math.log2(D) - Math.log2(maxR)) / (Math.log2(D) - Math.log2(rel.length));
    assert.ok(Math.abs(perQuery[qid].maxr_norm - expect) < 1e-12, qid);
    assert.equal(perQuery[qid].maxr, maxR);
    assert.ok(perQuery[qid].maxr_norm >= 0 && perQuery[qid].maxr_norm <= 1);
  }
});

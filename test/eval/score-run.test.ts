import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreRun } from '../../lib/eval/score-run.js';
import { evaluate } from '../../lib/metrics/evaluate.js';
import { readQrels, readRun, writeQrels, writeRun } from '../../lib/runs/trec-io.js';
import type { Qrels, Run } from '../../lib/runs/types.js';
import { runTrecEval, trecMeasure } from '../tools/trec-eval.js';

const dir = mkdtempSync(join(tmpdir(), 'score-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const METRICS = ['ndcg@3', 'ndcg@10', 'ap', 'rr', 'p@3', 'p@5', 'r@3', 'r@5'];
const measures = METRICS.map((m) => trecMeasure(m)!);

/**
 * A run whose ties change every metric: relevant documents are named r*, non-relevant n*,
 * so trec_eval (ties by id descending) puts the relevant ones of a tie first, the pessimistic
 * policy last. Tied groups straddle the cutoffs 3 and 5. Plus a query judged only with
 * relevance 0 (in the run), a qrels query missing from the run and a run query without
 * judgments.
 */
const qrels: Qrels = {
  qa: { ra: 1, rb: 2, rc: 1, nd: 0 },
  qb: { rx: 1 },
  qz: { na: 0 },
  qm: { ra: 1 },
};
const runText = [
  // qa: na | ra nb nc (tie, ranks 2-4) | rb nd (tie, ranks 5-6) | rc ne (tie, ranks 7-8)
  'qa Q0 na 1 9 foreign', 'qa Q0 nb 2 5 foreign', 'qa Q0 ra 3 5 foreign', 'qa Q0 nc 4 5 foreign',
  'qa Q0 nd 5 2 foreign', 'qa Q0 rb 6 2 foreign', 'qa Q0 ne 7 0 foreign', 'qa Q0 rc 8 0 foreign',
  // qb: everything tied
  'qb Q0 na 1 1 foreign', 'qb Q0 nb 2 1 foreign', 'qb Q0 rx 3 1 foreign',
  'qz Q0 na 1 3 foreign', 'qz Q0 nb 2 3 foreign',
  'qr Q0 na 1 1 foreign',
].join('\n') + '\n';

test('score on a foreign run with ties in every metric: trec_eval order by default equals the real trec_eval (to its 4 printed decimals, every query); the pessimistic order is lower on every metric', () => {
  const runPath = join(dir, 'foreign.run');
  const qrelsPath = join(dir, 'foreign.qrels');
  writeFileSync(runPath, runText);
  writeQrels(qrelsPath, qrels);
  const te = runTrecEval(qrelsPath, runPath, [...measures.map((m) => m.arg), 'num_q'], { complete: true, perQuery: true });
  const r = scoreRun(readQrels(qrelsPath), readRun(runPath, { rawScores: false }), { metrics: METRICS });
  assert.equal(r.ties, 'trec_eval');
  assert.equal(te.all.num_q, 4, 'trec_eval -c scores every qrels query: qa, qb, qz (judged only 0) and qm (missing from the run)');
  let compared = 0;
  METRICS.forEach((m, i) => {
    const name = measures[i].printed;
    assert.ok(Math.abs(r.mean[m] - te.all[name]) <= 5e-5 + 1e-12, `${m}: score ${r.mean[m]}, trec_eval ${te.all[name]}`);
    for (const q of Object.keys(te.perQuery[name])) {
      assert.ok(Math.abs(r.perQuery[q][m] - te.perQuery[name][q]) <= 5e-5 + 1e-12, `${q} ${m}: score ${r.perQuery[q][m]}, trec_eval ${te.perQuery[name][q]}`);
      compared++;
    }
  });
  assert.ok(compared >= METRICS.length * 3);
  assert.equal(r.counts['ap'], 4);
  assert.deepEqual([r.scored, r.judgedNonRelevantOnly, r.missingFromRun, r.unjudged], [4, 1, 1, 1]);
  assert.match(r.notes.join('\n'), /1 scored queries are judged only non-relevant: 0 on nDCG/);
  assert.match(r.notes.join('\n'), /1 queries of the qrels missing from the run scored as empty rankings \(0; trec_eval -c\)/);
  assert.match(r.notes.join('\n'), /skipped: 1 queries of the run without judgments/);
  // the pessimistic policy on the same file: every metric lower (the ties decide them all)
  const p = scoreRun(readQrels(qrelsPath), readRun(runPath, { rawScores: false }), { metrics: METRICS, ties: 'pessimistic' });
  for (const m of METRICS) assert.ok(p.mean[m] < r.mean[m] - 1e-6, `${m}: pessimistic ${p.mean[m]} < trec_eval ${r.mean[m]}`);
  // trec_eval without -c refuses the run (qm is missing); --run-queries-only scores the queries in both
  assert.throws(() => runTrecEval(qrelsPath, runPath, ['map']), /qid 'qm' not found/);
  const only = scoreRun(readQrels(qrelsPath), readRun(runPath, { rawScores: false }), { metrics: ['ap'], runQueriesOnly: true });
  assert.equal(only.counts.ap, 3);
  assert.ok(Math.abs(only.mean.ap - (r.mean.ap * 4) / 3) < 1e-12);
});

test('the exported run file (writeRun with the qrels) gives evaluate\'s pessimistic numbers under trec_eval, ties included, and keeps the raw scores', () => {
  const run: Run = {
    qa: { ids: ['na', 'nb', 'ra', 'nc', 'nd', 'rb', 'ne', 'rc'], scores: [9, 5, 5, 5, 2, 2, 0, 0] },
    qb: { ids: ['na', 'nb', 'rx'], scores: [1, 1, 1] },
  };
  const judged: Qrels = { qa: qrels.qa, qb: qrels.qb };
  const ours = evaluate(judged, run, METRICS);
  const runPath = join(dir, 'export.run');
  const qrelsPath = join(dir, 'export.qrels');
  writeRun(runPath, run, { tag: 'x', qrels: judged });
  writeQrels(qrelsPath, judged);
  const te = runTrecEval(qrelsPath, runPath, measures.map((m) => m.arg));
  METRICS.forEach((m, i) => assert.ok(Math.abs(ours.mean[m] - te.all[measures[i].printed]) <= 5e-5 + 1e-12, `${m}: evaluate ${ours.mean[m]}, trec_eval on the export ${te.all[measures[i].printed]}`));
  // ... and score on the export agrees under both tie policies (the column has no ties)
  for (const ties of ['trec_eval', 'pessimistic'] as const) {
    const s = scoreRun(readQrels(qrelsPath), readRun(runPath, { rawScores: false }), { metrics: METRICS, ties });
    for (const m of METRICS) assert.ok(Math.abs(s.mean[m] - ours.mean[m]) < 1e-12, `${ties} ${m}`);
  }
  // the raw scores come back with readRun, and evaluate on them gives the same numbers
  const back = readRun(runPath);
  assert.deepEqual(Array.from(back.qa.scores), [9, 5, 5, 5, 2, 2, 0, 0]);
  assert.deepEqual(evaluate(judged, back, METRICS).mean, ours.mean);
});

test('score refuses an empty run and a run sharing no query id with the qrels; a query judged only 0 counts as trec_eval counts it', () => {
  const empty = join(dir, 'empty.run');
  writeFileSync(empty, '');
  assert.throws(() => scoreRun({ q1: { a: 1 } }, readRun(empty), { runName: empty }), /empty\.run is empty \(no ranked document\); nothing to score/);
  const upper: Run = { Q1: { ids: ['a'], scores: [1] }, Q2: { ids: ['a'], scores: [1] } };
  assert.throws(() => scoreRun({ q1: { a: 1 }, q2: { b: 1 } }, upper, { metrics: ['ndcg@10'] }), /no query id of the run \('Q1', 'Q2'\) is in the qrels \('q1', 'q2'\); ids are compared exactly, case included/);
  // the case: two queries, one judged only with relevance 0: nDCG 0.5 as trec_eval, not 1.0
  const q: Qrels = { q1: { a: 1 }, q2: { b: 0 } };
  const run: Run = { q1: { ids: ['a'], scores: [1] }, q2: { ids: ['b'], scores: [1] } };
  const r = scoreRun(q, run, { metrics: ['ndcg@10', 'maxr'] });
  assert.equal(r.mean['ndcg@10'], 0.5);
  assert.deepEqual(r.counts, { 'ndcg@10': 2, maxr: 1 });
  assert.match(r.notes.join('\n'), /maxr: mean over 1 of 2 queries/);
  const qp = join(dir, 'zero.qrels');
  const rp = join(dir, 'zero.run');
  writeQrels(qp, q);
  writeFileSync(rp, 'q1 Q0 a 1 1 t\nq2 Q0 b 1 1 t\n');
  assert.equal(runTrecEval(qp, rp, ['ndcg_cut.10']).all.ndcg_cut_10, 0.5);
});

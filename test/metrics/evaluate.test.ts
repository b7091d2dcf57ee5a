import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trecEvalReference as reference } from '../helpers/trec-eval-reference.js';
import { runTrecEval, trecMeasure } from '../tools/trec-eval.js';
import { writeQrels } from '../../lib/runs/trec-io.js';
import { evaluate, SUPPORTED_METRICS } from '../../lib/metrics/evaluate.js';
import { createRng, shuffled, type Rng } from '../../lib/util/rng.js';
import type { IdLanguages, Qrels } from '../../lib/runs/types.js';
import type { Run } from '../../lib/runs/types.js';

const close = (a: number, b: number, msg = '') => assert.ok(Math.abs(a - b) < 1e-9, `${msg}: ${a} != ${b}`);

/** The languages of this file's hand-made ids (`de-q1`, `en-d3`: a two-letter language first), as a pool would give them. */
function languagesOf(qrels: Qrels, run: Run): IdLanguages {
  const lang = (id: string) => [id, id.slice(0, 2)] as const;
  const docs = [...Object.values(qrels).flatMap(Object.keys), ...Object.values(run).flatMap((r) => r.ids)];
  return { queries: new Map([...Object.keys(qrels), ...Object.keys(run)].map(lang)), docs: new Map(docs.map(lang)) };
}

test('hand-computed mixed-language pool', () => {
  // Query de-1: relevant de-1 and its English parallel en-1.
  // Ranked: en-2 (0.9), en-1 (0.8), de-1 (0.7), de-2 (0.1).
  //   nDCG@10 = (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3)) = (0.6309298 + 0.5) / 1.6309298 = 0.6934264
  //   RR = 1/2; R@2 = 1/2; P@2 = 1/2; AP = (1/2 + 2/3)/2 = 0.5833333; MaxR = 3;
  //   Complete@2 = 0, Complete@3 = 1; PivotAbove = 1 (en-2), PivotInclination = 1.
  // Query de-2: relevant de-2 only, ranked first; en-9 second.
  //   nDCG@10 = 1, RR = 1, R@2 = 1, P@2 = 1/2, AP = 1, MaxR = 1, Complete = 1, PivotAbove = 0.
  // Query de-3: relevant de-3, absent from the run: 0 everywhere, MaxR = longest (4) + 1 = 5,
  //   left out of the pivot metrics.
  const qrels: Qrels = { 'de-1': { 'de-1': 1, 'en-1': 1 }, 'de-2': { 'de-2': 1 }, 'de-3': { 'de-3': 1 }, 'de-4': {} };
  const run: Run = {
    'de-1': { ids: ['de-2', 'de-1', 'en-1', 'en-2'], scores: [0.1, 0.7, 0.8, 0.9] },
    'de-2': { ids: ['de-2', 'en-9'], scores: [2, 1] },
    'xx-9': { ids: ['a'], scores: [1] },
  };
  const names = ['ndcg@10', 'rr@10', 'r@2', 'p@2', 'ap', 'maxr', 'maxr.median', 'complete@2', 'complete@3', 'pivot_above', 'pivot_inclination'];
  const { mean, perQuery } = evaluate(qrels, run, names, { languages: languagesOf(qrels, run) });
  assert.deepEqual(Object.keys(perQuery), ['de-1', 'de-2', 'de-3']);
  const q1 = perQuery['de-1'];
  close(q1['ndcg@10'], 0.6934264036);
  assert.equal(q1['rr@10'], 0.5);
  assert.equal(q1['r@2'], 0.5);
  assert.equal(q1['p@2'], 0.5);
  close(q1.ap, 0.5833333333);
  assert.equal(q1.maxr, 3);
  assert.equal(q1['complete@2'], 0);
  assert.equal(q1['complete@3'], 1);
  assert.equal(q1.pivot_above, 1);
  assert.equal(q1.pivot_inclination, 1);
  assert.equal(perQuery['de-3'].maxr, 5);
  assert.equal(perQuery['de-3']['ndcg@10'], 0);
  assert.equal(perQuery['de-3'].pivot_above, undefined);
  close(mean['ndcg@10'], (0.6934264036 + 1 + 0) / 3);
  close(mean['p@2'], (0.5 + 0.5 + 0) / 3);
  close(mean.maxr, (3 + 1 + 5) / 3);
  assert.equal(mean['maxr.median'], 3);
  assert.equal(mean.pivot_above, 0.5);
  assert.equal(mean.pivot_inclination, 0.5);
});

test('unknown metric names throw and list the supported ones', () => {
  assert.throws(() => evaluate({}, {}, ['ndcg@x']), /unknown metric 'ndcg@x'; supported: ndcg@k, rr@k/);
  assert.throws(() => evaluate({}, {}, ['mrr']), (e: unknown) => SUPPORTED_METRICS.every((m) => (e as Error).message.includes(m)));
  assert.throws(() => evaluate({}, {}, ['maxr@10']), /unknown metric/);
  // No query: means are NaN, not a made-up 0.
  assert.ok(Number.isNaN(evaluate({}, {}, ['ndcg@10']).mean['ndcg@10']));
});

/** A random mixed-language pool: `nq` de queries, each with 1-3 relevant docs (graded 1-2). */
function randomCase(rng: Rng, nq: number, nd: number, distinct: boolean): { qrels: Qrels; run: Run } {
  const docs = Array.from({ length: nd }, (_, i) => `${rng.int(2) ? 'en' : 'de'}-d${i}`);
  const qrels: Qrels = {};
  const run: Run = {};
  for (let q = 0; q < nq; q++) {
    const qid = `de-q${q}`;
    const nRel = 1 + rng.int(3);
    const judged: Record<string, number> = {};
    for (const d of shuffled(docs, rng).slice(0, nRel)) judged[d] = 1 + rng.int(2);
    if (rng.int(4) === 0) judged[`de-missing${q}`] = 1; // relevant but never retrieved
    judged[docs[rng.int(nd)]] ??= 0; // a judged non-relevant document
    qrels[qid] = judged;
    const n = 1 + rng.int(nd);
    const ids = shuffled(docs, rng).slice(0, n);
    // Distinct scores (a permutation) or heavy ties (3 values).
    const perm = shuffled(Array.from({ length: n }, (_, i) => i), rng);
    run[qid] = { ids, scores: distinct ? perm.map((p) => p / n) : ids.map(() => rng.int(3)) };
  }
  return { qrels, run };
}

test('agrees with an independent trec_eval-style implementation on 3000 random queries', () => {
  const rng = createRng(20261125);
  const { qrels, run } = randomCase(rng, 3000, 40, true);
  for (const k of [1, 5, 10, 50]) {
    const names = [`ndcg@${k}`, `rr@${k}`, `r@${k}`, `p@${k}`, 'ap', 'maxr', `complete@${k}`];
    const { perQuery } = evaluate(qrels, run, names);
    for (const qid of Object.keys(qrels)) {
      const ref = reference(qrels[qid], run[qid].ids, run[qid].scores as number[], k);
      const nRel = Object.values(qrels[qid]).filter((r) => r > 0).length;
      for (const m of names) {
        // Complete@k is defined only for queries with at most k relevant documents
        if (m === `complete@${k}` && nRel > k) assert.equal(perQuery[qid][m], undefined, `${qid} ${m}`);
        else close(perQuery[qid][m], ref[m], `${qid} ${m}`);
      }
    }
  }
});

test('invariants hold on random runs with heavy ties', () => {
  const rng = createRng(7);
  const { qrels, run } = randomCase(rng, 1000, 30, false);
  const ks = [0, 1, 3, 10, 30];
  const names = ['ap', 'maxr', 'pivot_above', 'pivot_inclination', ...ks.flatMap((k) => [`ndcg@${k}`, `rr@${k}`, `r@${k}`, `p@${k}`, `complete@${k}`])];
  const { perQuery } = evaluate(qrels, run, names, { languages: languagesOf(qrels, run) });
  for (const [qid, s] of Object.entries(perQuery)) {
    const nRel = Object.values(qrels[qid]).filter((r) => r > 0).length;
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      for (const m of ['ndcg', 'rr', 'r', 'p']) assert.ok(s[`${m}@${k}`] >= 0 && s[`${m}@${k}`] <= 1, `${qid} ${m}@${k}`);
      // Complete@k: defined exactly when the query has at most k relevant documents
      assert.equal(s[`complete@${k}`] !== undefined, nRel <= k, `${qid} complete@${k} defined`);
      if (nRel <= k) assert.ok(s[`complete@${k}`] <= s[`r@${k}`]);
      // P@k * k and R@k * nRel both count the hits in the top k.
      if (k > 0) close(s[`p@${k}`] * k, s[`r@${k}`] * nRel);
      if (i > 0) {
        assert.ok(s[`r@${k}`] >= s[`r@${ks[i - 1]}`], 'R@k monotone in k');
        assert.ok(s[`rr@${k}`] >= s[`rr@${ks[i - 1]}`], 'RR@k monotone in k');
        if (nRel <= ks[i - 1]) assert.ok(s[`complete@${k}`] >= s[`complete@${ks[i - 1]}`], 'Complete@k monotone in k');
      }
    }
    assert.equal(s['ndcg@0'], 0);
    assert.ok(s.ap >= 0 && s.ap <= 1);
    // Every relevant document missing from the ranking shares rank length + 1.
    assert.ok(s.maxr >= Math.min(nRel, run[qid].ids.length + 1) && s.maxr <= run[qid].ids.length + 1, `${qid} maxr`);
    if (s.pivot_above !== undefined) assert.equal(s.pivot_inclination, s.pivot_above > 0 ? 1 : 0);
  }
});

test('breaking ties can only help: the tie policy is pessimistic', () => {
  const rng = createRng(99);
  const { qrels, run } = randomCase(rng, 500, 20, false);
  const names = ['ndcg@5', 'rr@10', 'r@3', 'p@3', 'ap', 'complete@5', 'maxr', 'pivot_above'];
  const languages = languagesOf(qrels, run);
  const tied = evaluate(qrels, run, names, { languages }).perQuery;
  for (let trial = 0; trial < 3; trial++) {
    // Break every tie at random by a tiny jitter that keeps the order of distinct scores.
    const broken: Run = {};
    for (const [qid, r] of Object.entries(run)) broken[qid] = { ids: r.ids, scores: Array.from(r.scores, (s) => s + rng.next() * 1e-3) };
    const after = evaluate(qrels, broken, names, { languages }).perQuery;
    for (const qid of Object.keys(tied)) {
      for (const m of ['ndcg@5', 'rr@10', 'r@3', 'p@3', 'ap', 'complete@5']) if (tied[qid][m] !== undefined) assert.ok(after[qid][m] >= tied[qid][m] - 1e-12, `${qid} ${m}`);
      assert.ok(after[qid].maxr <= tied[qid].maxr);
      if (tied[qid].pivot_above !== undefined) assert.ok(after[qid].pivot_above <= tied[qid].pivot_above);
    }
  }
});

test('a constant-score retriever gets the worst value of every metric', () => {
  // 200 de queries over a 12-document mixed pool; each has its de paragraph and the en
  // parallel as relevant. The worst possible ranking puts both relevant documents last.
  const docs = Array.from({ length: 6 }, (_, i) => [`de-p${i}`, `en-p${i}`]).flat();
  const qrels: Qrels = {};
  const constant: Run = {};
  const worst: Run = {};
  for (let q = 0; q < 200; q++) {
    const p = q % 6;
    const qid = `de-q${q}-p${p}`;
    qrels[qid] = { [`de-p${p}`]: 1, [`en-p${p}`]: 1 };
    constant[qid] = { ids: docs, scores: docs.map(() => 0.5) };
    const order = [...docs.filter((d) => !qrels[qid][d]), `de-p${p}`, `en-p${p}`];
    worst[qid] = { ids: order, scores: order.map((_, i) => order.length - i) };
  }
  const names = ['ndcg@1', 'ndcg@10', 'ndcg@12', 'rr@10', 'rr@12', 'r@10', 'r@11', 'p@1', 'p@12', 'ap', 'maxr', 'maxr.median', 'maxr_norm', 'complete@11', 'complete@12', 'pivot_above', 'pivot_inclination'];
  const c = evaluate(qrels, constant, names, { languages: languagesOf(qrels, constant) }).mean;
  const w = evaluate(qrels, worst, names, { languages: languagesOf(qrels, worst) }).mean;
  for (const m of names) close(c[m], w[m], m);
  // Worked out: ten non-relevant documents first -> nothing relevant in the top 10.
  assert.equal(c['ndcg@10'], 0);
  assert.equal(c['rr@10'], 0);
  assert.equal(c['p@1'], 0);
  assert.equal(c['complete@11'], 0);
  assert.equal(c.maxr, 12);
  assert.equal(c.maxr_norm, 0); // MaxR = |D|
  assert.equal(c['ndcg@1'], 0);
  assert.equal(c.pivot_above, 5); // all five non-relevant en documents
  assert.equal(c.pivot_inclination, 1);
  close(c.ap, (1 / 11 + 2 / 12) / 2);
});

test("ties 'trec_eval': per-query values equal the real trec_eval (vendored source, -q, 4 decimals) on 500 random queries with heavy ties", () => {
  const rng = createRng(16);
  const { qrels, run } = randomCase(rng, 500, 30, false);
  const dir = mkdtempSync(join(tmpdir(), 'evaluate-trec-'));
  try {
    const runFile = join(dir, 'ties.run');
    const qrelsFile = join(dir, 'ties.qrels');
    // the raw tied scores in the score column, as a foreign run would have them
    writeFileSync(runFile, Object.entries(run).flatMap(([q, r]) => r.ids.map((d, i) => `${q} Q0 ${d} ${i + 1} ${r.scores[i]} t`)).join('\n') + '\n');
    writeQrels(qrelsFile, qrels);
    const names = ['ndcg@1', 'ndcg@10', 'p@5', 'r@5', 'ap'];
    const te = runTrecEval(qrelsFile, runFile, names.map((m) => trecMeasure(m)!.arg), { perQuery: true });
    const ours = evaluate(qrels, run, names, { ties: 'trec_eval' });
    const pessimistic = evaluate(qrels, run, names);
    let differ = 0;
    for (const m of names) {
      const printed = trecMeasure(m)!.printed;
      for (const qid of Object.keys(qrels)) {
        assert.ok(Math.abs(ours.perQuery[qid][m] - te.perQuery[printed][qid]) <= 5e-5 + 1e-12, `${qid} ${m}: ${ours.perQuery[qid][m]} vs trec_eval ${te.perQuery[printed][qid]}`);
        if (Math.abs(pessimistic.perQuery[qid][m] - te.perQuery[printed][qid]) > 5e-5) differ++;
      }
    }
    assert.ok(differ > 100, `the ties matter: ${differ} pessimistic values differ from trec_eval's`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

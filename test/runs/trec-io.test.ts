import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawScoresPath, readQrels, readRun, writeQrels, writeRun } from '../../lib/runs/trec-io.js';
import { evaluate } from '../../lib/metrics/evaluate.js';
import { createRng } from '../../lib/util/rng.js';
import { XlalignError } from '../../lib/util/errors.js';
import type { Run } from '../../lib/runs/types.js';
import type { Qrels } from '../../lib/runs/types.js';

const dir = mkdtempSync(join(tmpdir(), 'xlalign-trec-io-'));
let fileNo = 0;
const tmp = (name: string) => join(dir, `${fileNo++}-${name}`);
const write = (name: string, text: string) => {
  const p = tmp(name);
  writeFileSync(p, text);
  return p;
};

test('writeRun: ranked by score, ties by doc id, ranks from 1; the score column encodes that order, raw scores (9 significant digits) beside it', () => {
  const p = tmp('a.run');
  const w = writeRun(p, { 'de-q1': { ids: ['en-b', 'en-c', 'en-a', 'de-z'], scores: [0.5, 0.25, 0.5, 1] }, 'de-q0': { ids: ['x'], scores: [-2] } }, { tag: 'bm25' });
  assert.equal(
    readFileSync(p, 'utf8'),
    [
      'de-q1 Q0 de-z 1 4 bm25',
      'de-q1 Q0 en-a 2 3 bm25',
      'de-q1 Q0 en-b 3 2 bm25',
      'de-q1 Q0 en-c 4 1 bm25',
      'de-q0 Q0 x 1 1 bm25',
      '',
    ].join('\n'),
  );
  assert.equal(rawScoresPath(p), `${p}.scores`);
  assert.equal(
    readFileSync(rawScoresPath(p), 'utf8'),
    ['de-z 1.00000000', 'en-a 0.500000000', 'en-b 0.500000000', 'en-c 0.250000000', 'x -2.00000000', ''].join('\n'),
  );
  assert.deepEqual([w.lines, w.rawScores.lines, w.rawScores.path], [5, 5, `${p}.scores`]);
  // readRun: raw scores by default, the score column on request
  assert.deepEqual(Array.from(readRun(p)['de-q1'].scores), [1, 0.5, 0.5, 0.25]);
  assert.deepEqual(Array.from(readRun(p, { rawScores: false })['de-q1'].scores), [4, 3, 2, 1]);
});

test('readRun: a raw-scores file that does not match its run is an error naming file and line; without one the score column is read', () => {
  const p = tmp('stale.run');
  writeRun(p, { q1: { ids: ['a', 'b'], scores: [2, 1] }, q2: { ids: ['c'], scores: [5] } }, { tag: 't' });
  const raw = rawScoresPath(p);
  writeFileSync(raw, 'a 2\nx 1\nc 5\n');
  assert.throws(() => readRun(p), new RegExp(`${raw}:2: doc 'x' where .*stale\\.run has 'q1 b'; the raw scores belong to another run file`));
  writeFileSync(raw, 'a 2\nb 1\n');
  assert.throws(() => readRun(p), /ends before line 1 of query 'q2' of .*stale\.run; the raw scores belong/);
  writeFileSync(raw, 'a 2\nb 1\nc 5\nd 1\n');
  assert.throws(() => readRun(p), /:4: more lines than/);
  writeFileSync(raw, 'a 2\nb 1 x\nc 5\n');
  assert.throws(() => readRun(p), /:2: expected 2 fields 'docno score', found 3/);
  unlinkSync(raw);
  assert.deepEqual(Array.from(readRun(p).q1.scores), [2, 1]);
});

test('writeRun: with qrels, ties put non-relevant first (the metrics policy); exclusions are left out', () => {
  const p = tmp('b.run');
  const run: Run = { q: { ids: ['a', 'b', 'c', 'd'], scores: [1, 1, 1, 0] } };
  writeRun(p, run, { tag: 't', qrels: { q: { a: 1, c: 2 } }, exclude: { q: ['d'] } });
  const docs = readFileSync(p, 'utf8').trim().split('\n').map((l) => l.split(' ')[2]);
  // b (non-relevant) before a (rel 1) before c (rel 2); d excluded.
  assert.deepEqual(docs, ['b', 'a', 'c']);
  // The order in the file is the order the metrics use: RR of this ranking is 1/2.
  const qrels = { q: { a: 1, c: 2 } };
  assert.equal(evaluate(qrels, readRun(p), ['rr@10']).mean['rr@10'], 0.5);
  assert.equal(evaluate(qrels, run, ['rr@10']).mean['rr@10'], 0.5);
});

test('round trip: seeded float32 run and qrels read back exactly, metrics unchanged', () => {
  const rng = createRng(99);
  const run: Run = {};
  const qrels: Qrels = {};
  for (let q = 0; q < 300; q++) {
    const n = rng.int(30);
    const ids: string[] = [];
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      ids.push(`en-d${q * 100 + i}`);
      // float32 values across magnitudes, negatives, exponents in the text
      scores[i] = (rng.next() - 0.3) * 10 ** (rng.int(12) - 8);
    }
    const qid = `de-q${q}`;
    run[qid] = { ids, scores };
    if (n > 0) qrels[qid] = { [ids[rng.int(n)]]: 1 + rng.int(2), 'en-unretrieved': 1, [`en-zero${q}`]: 0 };
  }
  const rp = tmp('c.run');
  const qp = tmp('c.qrels');
  writeRun(rp, run, { tag: 'seeded' });
  writeQrels(qp, qrels);
  const back = readRun(rp);
  const backSmall = readRun(rp, { chunkSize: 64 }); // many chunk boundaries
  assert.deepEqual(backSmall, back);
  assert.deepEqual(readQrels(qp, { chunkSize: 5 }), qrels);
  for (const qid in run) {
    const { ids, scores } = run[qid];
    if (ids.length === 0) {
      assert.equal(back[qid], undefined, 'an empty ranking has no lines, so it reads back absent');
      continue;
    }
    // back in rank order: sort the original the same way
    const order = ids.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || (ids[a] < ids[b] ? -1 : 1));
    assert.deepEqual(back[qid].ids, order.map((i) => ids[i]), qid);
    // 9 significant digits identify a float32 uniquely: rounding back to float32 is exact.
    assert.deepEqual(Array.from(back[qid].scores, Math.fround), order.map((i) => scores[i]), `${qid}: scores round-trip float32`);
  }
  const metrics = ['ndcg@10', 'rr@10', 'r@10', 'p@10', 'ap', 'maxr', 'complete@10'];
  assert.deepEqual(evaluate(readQrels(qp), back, metrics), evaluate(qrels, run, metrics));
});

test('readRun: tabs, repeated spaces, CRLF, blank lines, no final newline, split queries, UTF-8 ids', () => {
  const p = write('d.run', 'q1\tQ0\tdA\t1\t2.5\tt\r\n\n  q2  Q0 dé 1 1e-3 t\nq1 Q0 dB 2 -.5 t\nq2 Q0 dF 2 +7E2 t');
  const run = readRun(p);
  assert.deepEqual(Object.keys(run), ['q1', 'q2']);
  assert.deepEqual(run.q1.ids, ['dA', 'dB']);
  assert.deepEqual(Array.from(run.q1.scores), [2.5, -0.5]);
  assert.deepEqual(run.q2.ids, ['dé', 'dF']);
  assert.deepEqual(Array.from(run.q2.scores), [0.001, 700]);
});

test('readRun: score parsing equals Number() on awkward spellings', () => {
  const texts = ['0', '-0', '1', '0.1', '123456789012345678', '1.7976931348623157e308', '4.9e-324', '0.30000000000000004', '1e22', '1e23', '-3.40282347e+38', '00012.5000', 'inf', '-Infinity'];
  const p = write('e.run', texts.map((t, i) => `q Q0 d${i} ${i + 1} ${t} x\n`).join(''));
  const got = Array.from(readRun(p).q.scores);
  const want = texts.map((t) => (/inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t)));
  assert.deepEqual(got, want);
  assert.ok(Object.is(got[1], -0));
});

test('readRun / readQrels: errors name the file and line', () => {
  const p1 = write('f.run', 'q Q0 d 1 0.5 t\nq Q0 d2 2 0.4\n');
  assert.throws(() => readRun(p1), (e: unknown) => e instanceof XlalignError && e.message.includes(`${p1}:2: expected 6 fields`) && /found 5/.test(e.message));
  const p2 = write('g.run', 'q Q0 d 1 0.5 t\n\nq Q0 d2 2 0x10 t\n');
  assert.throws(() => readRun(p2), new RegExp(`${p2}:3: score '0x10' is not a number`));
  const p3 = write('h.run', 'q Q0 d one 0.5 t\n');
  assert.throws(() => readRun(p3), /:1: rank 'one' is not an integer/);
  const p4 = write('i.qrels', 'q 0 d 1\nq 0 e 1.5\n');
  assert.throws(() => readQrels(p4), new RegExp(`${p4}:2: relevance '1.5' is not an integer`));
  const p5 = write('j.qrels', 'q 0 d 1\nr 0 d 1\nq 0 d 0\n');
  assert.throws(() => readQrels(p5), /:3: query 'q' judges doc 'd' a second time/);
  const p6 = write('k.qrels', 'q 0 d\n');
  assert.throws(() => readQrels(p6), /:1: expected 4 fields 'qid iter docno rel', found 3/);
  assert.throws(() => readRun(join(dir, 'missing.run')), /readRun: cannot open .*missing\.run/);
});

test('writers: bad input throws, leaves the old file and no temporary file', () => {
  const p = tmp('l.run');
  writeRun(p, { q: { ids: ['a'], scores: [1] } }, { tag: 't' });
  const before = readFileSync(p, 'utf8');
  assert.throws(() => writeRun(p, { q: { ids: ['a', 'b c'], scores: [1, 2] } }, { tag: 't' }), /run\['q'\]\.ids\[1\] = 'b c' must be non-empty without whitespace/);
  assert.throws(() => writeRun(p, { q: { ids: ['a', 'b'], scores: [1] } }, { tag: 't' }), /has 2 ids but 1 scores/);
  assert.throws(() => writeRun(p, { q: { ids: ['a'], scores: [NaN] } }, { tag: 't' }), /scores\[0\] \(doc 'a'\) is NaN/);
  assert.throws(() => writeRun(p, {}, { tag: 'my run' }), /tag 'my run'/);
  assert.throws(() => writeQrels(p, { q: { a: 0.5 } }), /qrels\['q'\]\['a'\] = 0.5; relevance must be an integer/);
  assert.equal(readFileSync(p, 'utf8'), before);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('readRun: repeated and near-identical doc ids across queries read back exactly (id cache)', () => {
  const rng = createRng(5);
  const pool = Array.from({ length: 300 }, (_, i) => `en-${i}`).concat(['en-1 '.trim() + '0x', 'x', 'xx', 'de-é1']);
  const run: Run = {};
  for (let q = 0; q < 400; q++) {
    const ids = [...new Set(Array.from({ length: 25 }, () => pool[rng.int(pool.length)]))];
    run[`q${q}`] = { ids, scores: ids.map((_, i) => 100 - i) };
  }
  const p = tmp('m.run');
  writeRun(p, run, { tag: 't' });
  const back = readRun(p, { chunkSize: 1000 });
  for (const q in run) assert.deepEqual(back[q].ids, run[q].ids, q);
});

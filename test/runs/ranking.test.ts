import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareUtf8, countRelevant, evaluatedQueries, idealRelevance, rankQuery, rankedIds } from '../../lib/runs/ranking.js';
import { XlalignError } from '../../lib/util/errors.js';

test('ties: non-relevant before relevant, then by id', () => {
  // All scores equal; 'a' is relevant, so b and c (non-relevant, by id) come first.
  const r = rankQuery('q', { ids: ['a', 'c', 'b'], scores: [1, 1, 1] }, { a: 1 });
  assert.deepEqual(rankedIds(r), ['b', 'c', 'a']);
  assert.deepEqual([...r.rel], [0, 0, 1]);
});

test('ties between graded documents: lower relevance first', () => {
  const r = rankQuery('q', { ids: ['a', 'b', 'c'], scores: [1, 1, 1] }, { a: 2, b: 1 });
  assert.deepEqual(rankedIds(r), ['c', 'b', 'a']);
  assert.deepEqual([...r.rel], [0, 1, 2]);
});

test('ties only break within equal scores; higher scores still come first', () => {
  const r = rankQuery('q', { ids: ['x', 'rel', 'y', 'z'], scores: [0.5, 0.9, 0.9, 0.1] }, { rel: 1, z: 1 });
  assert.deepEqual(rankedIds(r), ['y', 'rel', 'x', 'z']);
  assert.deepEqual([...r.rel], [0, 1, 0, 1]);
});

test('sorted input keeps its order; unsorted input is sorted by score', () => {
  assert.deepEqual(rankedIds(rankQuery('q', { ids: ['a', 'b', 'c'], scores: [3, 2, 1] }, {})), ['a', 'b', 'c']);
  assert.deepEqual(rankedIds(rankQuery('q', { ids: ['a', 'b', 'c'], scores: Float32Array.from([1, 3, 2]) }, {})), ['b', 'c', 'a']);
  assert.deepEqual(rankedIds(rankQuery('q', { ids: ['a', 'b'], scores: [-Infinity, 0] }, {})), ['b', 'a']);
});

test('absent ranking is empty; ideal comes from all judged relevant documents', () => {
  const r = rankQuery('q', undefined, { a: 1, b: 3, c: 0, d: 2 });
  assert.equal(r.rel.length, 0);
  assert.deepEqual([...r.ideal], [3, 2, 1]);
  assert.deepEqual([...idealRelevance(undefined)], []);
  assert.equal(countRelevant({ a: 1, b: 0, c: -1 }), 1);
});

test('evaluatedQueries keeps only queries with a relevant document', () => {
  assert.deepEqual(evaluatedQueries({ q1: { a: 1 }, q2: { a: 0 }, q3: {}, q4: { b: 2, c: 0 } }), ['q1', 'q4']);
});

test('malformed rankings are rejected with the query and position named', () => {
  assert.throws(() => rankQuery('q7', { ids: ['a', 'b'], scores: [1] }, {}), (e: unknown) => e instanceof XlalignError && /q7.*2 ids but 1 scores/.test(e.message));
  assert.throws(() => rankQuery('q7', { ids: ['a', 'b'], scores: [1, NaN] }, {}), /scores\[1\] \(doc 'b'\) is NaN/);
  assert.throws(() => rankQuery('q7', { ids: ['a', 'a'], scores: [2, 1] }, { a: 1 }), /relevant doc 'a' twice/);
});

test('many relevant documents (the per-document lookup path) and reusable scratch agree', async () => {
  const { createRankScratch } = await import('../../lib/runs/ranking.js');
  // 100 documents d0..d99 with scores 100 - i; the even ones (50) plus 30 unretrieved are relevant.
  const ids = Array.from({ length: 100 }, (_, i) => `d${i}`);
  const judged: Record<string, number> = {};
  ids.forEach((id, i) => { if (i % 2 === 0) judged[id] = 1; });
  for (let i = 0; i < 30; i++) judged[`x${i}`] = 2;
  const scores = ids.map((_, i) => 100 - i);
  const scratch = createRankScratch();
  const r = rankQuery('q', { ids, scores }, judged, scratch);
  assert.equal(r.ideal.length, 80);
  assert.deepEqual([...r.rel], ids.map((_, i) => (i % 2 === 0 ? 1 : 0)));
  assert.deepEqual([...rankQuery('q', { ids, scores }, judged).rel], [...r.rel]);
  assert.throws(() => rankQuery('q', { ids: [...ids, 'd0'], scores: [...scores, 0] }, judged), /relevant doc 'd0' twice/);
});

test('every input shape gives the order of a plain three-key sort (random ties, infinities)', async () => {
  const { createRng, shuffled } = await import('../../lib/util/rng.js');
  const rng = createRng(31);
  const values = [-Infinity, 0, 0.5, 1, Infinity];
  for (let trial = 0; trial < 2000; trial++) {
    const n = 1 + rng.int(30);
    const ids = shuffled(Array.from({ length: n }, (_, i) => `d${i}`), rng);
    const scores = ids.map(() => values[rng.int(values.length)]);
    const judged: Record<string, number> = {};
    for (const id of ids) if (rng.int(4) === 0) judged[id] = 1 + rng.int(2);
    // Reference: objects, sorted by score desc, relevance asc, id asc.
    const expected = ids
      .map((id, i) => ({ id, s: scores[i], r: judged[id] ?? 0 }))
      .sort((a, b) => (a.s !== b.s ? (a.s > b.s ? -1 : 1) : a.r - b.r || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
      .map((x) => x.id);
    // Three shapes of the same ranking: shuffled; sorted by score only (ties in random
    // order); sorted by score with ties in id order.
    const perm = shuffled(Array.from({ length: n }, (_, i) => i), rng);
    const byScore = perm.slice().sort((a, b) => (scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : 0));
    const byScoreId = perm.slice().sort((a, b) => (scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : ids[a] < ids[b] ? -1 : 1));
    for (const p of [perm, byScore, byScoreId]) {
      const r = rankQuery('q', { ids: p.map((i) => ids[i]), scores: p.map((i) => scores[i]) }, judged);
      assert.deepEqual(rankedIds(r), expected);
      assert.deepEqual([...r.rel], expected.map((id) => judged[id] ?? 0));
    }
  }
});

test('one tie order: rankOrder, truncateRun (the --run-depth cut) and writeRun keep what the metrics rank', async () => {
  const { truncateRun, rankOrder } = await import('../../lib/runs/ranking.js');
  const { writeRun, readRun } = await import('../../lib/runs/trec-io.js');
  const { evaluate } = await import('../../lib/metrics/evaluate.js');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  // 'a' first; b, c, d, e tie at the cut (depth 3); b is relevant, so the metrics rank c, d before it
  const run = { q: { ids: ['e', 'b', 'a', 'd', 'c'], scores: [2, 2, 3, 2, 2] } };
  const qrels = { q: { b: 1 } };
  assert.deepEqual(Array.from(rankOrder('q', run.q, qrels.q), (i) => run.q.ids[i]), ['a', 'c', 'd', 'e', 'b']);
  assert.deepEqual(Array.from(rankOrder('q', run.q), (i) => run.q.ids[i]), ['a', 'b', 'c', 'd', 'e']);
  const cut = truncateRun(run, 3, qrels);
  assert.deepEqual(cut.q, { ids: ['a', 'c', 'd'], scores: [3, 2, 2] });
  const names = ['ndcg@3', 'rr@3', 'r@3', 'p@3', 'complete@3', 'ndcg@1'];
  const whole = evaluate(qrels, run, names).mean;
  assert.deepEqual(evaluate(qrels, cut, names).mean, whole);
  // a cut by id alone (the old truncateRun) would keep b and score better than the metrics do
  assert.deepEqual(truncateRun(run, 3).q.ids, ['a', 'b', 'c']);
  assert.notDeepEqual(evaluate(qrels, truncateRun(run, 3), names).mean, whole);
  // writeRun lists the documents in the same order, so the file cut by depth agrees too
  const dir = mkdtempSync(join(tmpdir(), 'ties-'));
  writeRun(join(dir, 'whole.run'), run, { tag: 't', qrels });
  assert.deepEqual(readRun(join(dir, 'whole.run')).q.ids, ['a', 'c', 'd', 'e', 'b']);
  writeRun(join(dir, 'cut.run'), cut, { tag: 't', qrels });
  assert.deepEqual(evaluate(qrels, readRun(join(dir, 'cut.run')), names).mean, whole);
  assert.throws(() => truncateRun(run, 0), /truncateRun: depth = 0; use a positive integer/);
});

test('BM25 ranks real XQuAD pools in the unjudged tie order (score, then compareIds), zero-score tail included', async () => {
  const { Bm25Retriever } = await import('../../lib/retrieve/bm25.js');
  const { xquadCorpus } = await import('../../lib/data/parallel.js');
  const { buildPool } = await import('../../lib/pools/build-pool.js');
  const { rankOrder, compareIds } = await import('../../lib/runs/ranking.js');
  const pool = buildPool(xquadCorpus(['de', 'en']), { scenario: 'mixed-target', lang: 'de' });
  const queries = pool.queries.slice(0, 40);
  const run = await new Bm25Retriever().retrieve(queries, pool.docs, { exclude: pool.exclude });
  let ties = 0;
  for (const q of queries) {
    const r = run[q.id];
    assert.equal(r.ids.length, pool.docs.length - 1);
    assert.deepEqual(Array.from(rankOrder(q.id, r)), r.ids.map((_, i) => i), q.id);
    for (let i = 1; i < r.ids.length; i++) if (r.scores[i] === r.scores[i - 1]) {
      ties++;
      assert.ok(compareIds(r.ids[i - 1], r.ids[i]) < 0);
    }
  }
  assert.ok(ties > 0, 'the pools have ties (zero scores) to order');
});

test("tie policy 'trec_eval': equal scores by document id descending in UTF-8 byte order, relevance ignored", () => {
  const ranking = { ids: ['b', 'a', 'c', 'z', 'y'], scores: [1, 1, 1, 2, 0] };
  const r = rankQuery('q', ranking, { a: 1 }, undefined, 'trec_eval');
  assert.deepEqual(rankedIds(r), ['z', 'c', 'b', 'a', 'y']);
  assert.deepEqual(Array.from(r.rel), [0, 0, 0, 1, 0]);
  // the pessimistic policy on the same ranking: non-relevant first, then id ascending
  assert.deepEqual(rankedIds(rankQuery('q', ranking, { a: 1 })), ['z', 'b', 'c', 'a', 'y']);
  // unsorted input takes the full sort, same order
  const shuffled = { ids: ['a', 'y', 'c', 'z', 'b'], scores: [1, 0, 1, 2, 1] };
  assert.deepEqual(rankedIds(rankQuery('q', shuffled, { a: 1 }, undefined, 'trec_eval')), ['z', 'c', 'b', 'a', 'y']);
  assert.throws(() => rankQuery('q', ranking, {}, undefined, 'optimistic' as never), /ties = 'optimistic'; use one of pessimistic, trec_eval/);
});

test('compareUtf8: byte order of the UTF-8 encodings (what trec_eval\'s strcmp compares), also past U+FFFF', () => {
  const ids = ['\u{1F600}', '\uFF01', 'a', 'B', 'é', '\u{10000}x', '\uE000', 'ab', ''];
  const bytes = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...ids].sort(compareUtf8), bytes);
  assert.notDeepEqual([...ids].sort(), bytes, 'code-unit order differs for these ids');
});

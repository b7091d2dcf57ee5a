import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactTopK, selectTopK, type TopKBackend } from '../../lib/retrieve/exact-topk.js';
import { createRng, type Rng } from '../../lib/util/rng.js';
import { XlalignError } from '../../lib/util/errors.js';

/** Seeded random unit vectors, n x dim. */
function unitVectors(rng: Rng, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let t = 0; t < dim; t++) {
      const x = rng.normal();
      out[i * dim + t] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (let t = 0; t < dim; t++) out[i * dim + t] /= norm;
  }
  return out;
}

/** Naive reference: every score in float64, full sort (score desc, index asc), first k. */
function naive(q: Float32Array, d: Float32Array, dim: number, k: number, exclude?: (qi: number) => Iterable<number>) {
  const nq = q.length / dim;
  const nd = d.length / dim;
  const rows: { idx: number[]; score: number[] }[] = [];
  for (let i = 0; i < nq; i++) {
    const ex = new Set(exclude ? exclude(i) : []);
    const all: [number, number][] = [];
    for (let j = 0; j < nd; j++) {
      if (ex.has(j)) continue;
      let s = 0;
      for (let t = 0; t < dim; t++) s += q[i * dim + t] * d[j * dim + t];
      all.push([j, s]);
    }
    all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const top = all.slice(0, k);
    rows.push({ idx: top.map((x) => x[0]), score: top.map((x) => x[1]) });
  }
  return rows;
}

/**
 * Compare with the reference: same scores rank by rank (1e-5, float32 vs float64), and at
 * every rank the returned document really has the returned score. Indices must be equal
 * wherever the reference has no near-tie (gap > 1e-5) around that rank.
 */
function assertMatches(got: { indices: Int32Array; scores: Float32Array }, ref: ReturnType<typeof naive>, k: number, q: Float32Array, d: Float32Array, dim: number) {
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    for (let j = 0; j < k; j++) {
      const gi = got.indices[i * k + j];
      const gs = got.scores[i * k + j];
      if (j >= r.idx.length) {
        assert.equal(gi, -1, `query ${i} rank ${j} should be padding`);
        assert.equal(gs, -Infinity);
        continue;
      }
      assert.ok(Math.abs(gs - r.score[j]) < 1e-5, `query ${i} rank ${j}: score ${gs} vs ${r.score[j]}`);
      let s = 0;
      for (let t = 0; t < dim; t++) s += q[i * dim + t] * d[gi * dim + t];
      assert.ok(Math.abs(gs - s) < 1e-5, `query ${i} rank ${j}: doc ${gi} has score ${s}, reported ${gs}`);
      const prevGap = j > 0 ? r.score[j - 1] - r.score[j] : Infinity;
      const nextGap = j + 1 < r.score.length ? r.score[j] - r.score[j + 1] : Infinity;
      if (prevGap > 1e-5 && nextGap > 1e-5) assert.equal(gi, r.idx[j], `query ${i} rank ${j}`);
    }
  }
}

const BACKENDS: TopKBackend[] = ['ort', 'js'];

for (const backend of BACKENDS) {
  test(`${backend}: equals the naive reference on seeded cases, several block sizes`, async () => {
    const rng = createRng(7);
    const dim = 24;
    const q = unitVectors(rng, 37, dim);
    const d = unitVectors(rng, 301, dim);
    const ref = naive(q, d, dim, 10);
    for (const [blockSize, queryBlockSize] of [[8192, 2048], [64, 16], [7, 5], [1, 1]]) {
      const got = await exactTopK(q, d, dim, { k: 10, blockSize, queryBlockSize, backend });
      assert.equal(got.backend, backend);
      assert.equal(got.k, 10);
      assert.equal(got.indices.length, 37 * 10);
      assertMatches(got, ref, 10, q, d, dim);
    }
  });

  test(`${backend}: exclusions are skipped, also when they crowd one block`, async () => {
    const rng = createRng(11);
    const dim = 16;
    const q = unitVectors(rng, 20, dim);
    const d = unitVectors(rng, 150, dim);
    // Exclude each query's 6 best documents, plus a few fixed ones (with a duplicate).
    const best = naive(q, d, dim, 6).map((r) => r.idx);
    const exclude = (i: number) => [...best[i], 3, 3, 149, (i * 7) % 150];
    const ref = naive(q, d, dim, 8, exclude);
    for (const blockSize of [8192, 10, 3]) {
      const got = await exactTopK(q, d, dim, { k: 8, blockSize, queryBlockSize: 7, exclude, backend });
      assertMatches(got, ref, 8, q, d, dim);
      for (let i = 0; i < 20; i++) {
        const row = Array.from(got.indices.subarray(i * 8, i * 8 + 8));
        for (const e of exclude(i)) assert.ok(!row.includes(e), `query ${i} retrieved excluded doc ${e}`);
      }
    }
  });

  test(`${backend}: k larger than the pool pads with -1 / -Infinity`, async () => {
    const rng = createRng(3);
    const dim = 8;
    const q = unitVectors(rng, 4, dim);
    const d = unitVectors(rng, 5, dim);
    const exclude = (i: number) => (i === 2 ? [0, 1, 2, 3, 4] : i === 1 ? [4] : []);
    const got = await exactTopK(q, d, dim, { k: 7, blockSize: 2, exclude, backend });
    const ref = naive(q, d, dim, 7, exclude);
    assertMatches(got, ref, 7, q, d, dim);
    assert.deepEqual(Array.from(got.indices.subarray(14, 21)), [-1, -1, -1, -1, -1, -1, -1]);
    assert.equal(Array.from(got.indices.subarray(7, 14)).filter((x) => x >= 0).length, 4);
    // No documents at all: everything is padding.
    const empty = await exactTopK(q, new Float32Array(0), dim, { k: 3, backend });
    assert.ok(empty.indices.every((x) => x === -1));
  });

  test(`${backend}: exact ties go to the lower document index, across blocks`, async () => {
    // Entries are multiples of 1/4, so every dot product is exact in float32 and float64.
    const dim = 4;
    const q = Float32Array.from([1, 0.5, 0, 0, /* q1 */ 0, 0, 0.25, 1]);
    const d = Float32Array.from([
      0, 0, 1, 0, // 0: q0 0,    q1 0.25
      1, 0, 0, 0, // 1: q0 1,    q1 0
      0.5, 1, 0, 0, // 2: q0 1,  q1 0
      0, 0, 0, 1, // 3: q0 0,    q1 1
      1, 0, 0, 0, // 4: q0 1,    q1 0  (same as 1)
      0, 0, 0, 1, // 5: q0 0,    q1 1  (same as 3)
      0, 0, 1, 0, // 6: q0 0,    q1 0.25 (same as 0)
    ]);
    for (const blockSize of [8192, 3, 2, 1]) {
      const got = await exactTopK(q, d, dim, { k: 4, blockSize, backend });
      // q0: docs 1, 2, 4 all score 1 -> 1, 2, 4, then the 0-score docs from the lowest index: 0.
      assert.deepEqual(Array.from(got.indices.subarray(0, 4)), [1, 2, 4, 0], `blockSize ${blockSize}`);
      assert.deepEqual(Array.from(got.scores.subarray(0, 4)), [1, 1, 1, 0]);
      // q1: 3, 5 (score 1), then 0, 6 (0.25).
      assert.deepEqual(Array.from(got.indices.subarray(4, 8)), [3, 5, 0, 6], `blockSize ${blockSize}`);
      assert.deepEqual(Array.from(got.scores.subarray(4, 8)), [1, 1, 0.25, 0.25]);
    }
  });
}

test('ort and js agree on a larger seeded case (d = 64, 1000 docs, k = 50)', async () => {
  const rng = createRng(2024);
  const dim = 64;
  const q = unitVectors(rng, 50, dim);
  const d = unitVectors(rng, 1000, dim);
  const a = await exactTopK(q, d, dim, { k: 50, backend: 'ort', blockSize: 300 });
  const b = await exactTopK(q, d, dim, { k: 50, backend: 'js', blockSize: 256 });
  assertMatches(a, naive(q, d, dim, 50), 50, q, d, dim);
  for (let i = 0; i < a.scores.length; i++) assert.ok(Math.abs(a.scores[i] - b.scores[i]) < 1e-5);
});

test('selectTopK: heap selection is sorted best first with lower index on ties', () => {
  const s = Float32Array.from([0.5, 2, 2, -1, 3, 0.5, 2]);
  const v = new Float32Array(4);
  const ix = new Int32Array(4);
  selectTopK(s, 0, s.length, 4, v, ix);
  assert.deepEqual(Array.from(ix), [4, 1, 2, 6]);
  assert.deepEqual(Array.from(v), [3, 2, 2, 2]);
});

test('bad input gets a clear error', async () => {
  const q = new Float32Array(8);
  const d = new Float32Array(12);
  await assert.rejects(exactTopK(q, d, 4, { k: 0 }), (e: unknown) => e instanceof XlalignError && /options\.k = 0/.test(e.message));
  await assert.rejects(exactTopK(q, d, 5, { k: 1 }), /queries\.length = 8 is not a multiple of dim = 5/);
  await assert.rejects(exactTopK(q, new Float32Array(10), 4, { k: 1 }), /docs\.length = 10/);
  await assert.rejects(exactTopK(q, d, 4, { k: 1, exclude: () => [3] }), /exclude\(0\) gave document index 3; valid indices are integers in \[0, 3\)/);
  await assert.rejects(exactTopK(q, d, 4, { k: 1, backend: 'gpu' as TopKBackend }), /unsupported options\.backend 'gpu'/);
});

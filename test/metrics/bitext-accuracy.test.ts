import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitextAccuracy } from '../../lib/metrics/bitext-accuracy.js';

test('bitextAccuracy: hand-computed top-1 in both directions', () => {
  // x: 3 unit vectors in 2-D; en: x0 -> e0 ok; x1 nearest e2 (miss); x2 nearest e2 (ok)
  const x = new Float32Array([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2]);
  const en = new Float32Array([1, 0, 0.6, 0.8, 0.8, 0.6]);
  // sims: x0·e = [1, .6, .8]; x1·e = [0, .8, .6]; x2·e = [.707, .99, .99]
  // rows: x0 -> e0 ok; x1 -> e1 ok; x2 -> tie e1/e2 -> miss (pessimistic)
  // cols: e0 -> x0 ok; e1 -> x2 (.99 > .8) miss; e2 -> x2 ok (.99)
  const a = bitextAccuracy(x, en, 2);
  assert.equal(a.n, 3);
  assert.equal(a.xToEn, 2 / 3);
  assert.equal(a.enToX, 2 / 3);
});

test('bitextAccuracy: a constant model scores 0, a perfect one 1; shapes checked', () => {
  const c = new Float32Array([1, 0, 1, 0, 1, 0]);
  assert.deepEqual(bitextAccuracy(c, c, 2), { xToEn: 0, enToX: 0, n: 3 });
  const id = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual(bitextAccuracy(id, id, 3), { xToEn: 1, enToX: 1, n: 3 });
  assert.throws(() => bitextAccuracy(id, c, 3), /x has 9 values and en 6/);
});

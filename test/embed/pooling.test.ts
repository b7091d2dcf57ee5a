import { test } from 'node:test';
import assert from 'node:assert/strict';
import { l2NormalizeRows, poolHidden } from '../../lib/embed/pooling.js';

// batch 2, seq 3, dim 2; second row has one padded position.
const hidden = [1, 2, 3, 4, 5, 6, /* row 2 */ -1, 0, 7, 1, 100, 100];
const mask = [1n, 1n, 1n, 1n, 1n, 0n];

test('mean pooling averages the unmasked token vectors (hand-computed)', () => {
  const v = poolHidden(hidden, mask, [2, 3, 2], 'mean');
  assert.deepEqual([...v], [3, 4, 3, 0.5]);
});

test('cls pooling takes the first token', () => {
  assert.deepEqual([...poolHidden(hidden, mask, [2, 3, 2], 'cls')], [1, 2, -1, 0]);
});

test('an all-zero mask gives a zero vector, and sizes are checked', () => {
  assert.deepEqual([...poolHidden([1, 2, 3, 4], [0, 0], [1, 2, 2], 'mean')], [0, 0]);
  assert.throws(() => poolHidden(hidden, mask, [2, 3, 3], 'mean'), /hidden has 12 values; expected 2 x 3 x 3/);
  assert.throws(() => poolHidden(hidden, [1, 1], [2, 3, 2], 'mean'), /attention_mask has 2 values/);
  assert.throws(() => poolHidden(hidden, mask, [2, 3, 2], 'median' as 'mean'), /unsupported pooling 'median'; use 'mean', 'cls', 'pooler', 'last_token', 'max', 'mean_sqrt_len' or 'weightedmean'/);
});

test('l2NormalizeRows gives unit rows and leaves zero rows at zero', () => {
  const v = l2NormalizeRows(new Float32Array([3, 4, 0, 0]), 2);
  assert.deepEqual([...v], [Math.fround(0.6), Math.fround(0.8), 0, 0]);
  assert.throws(() => l2NormalizeRows(new Float32Array(3), 2), /not a whole number of rows/);
});

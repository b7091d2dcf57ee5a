import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedBootstrap, percentile } from '../../lib/eval/bootstrap.js';
import { createRng } from '../../lib/util/rng.js';

test('percentile: linear interpolation', () => {
  assert.equal(percentile([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(percentile([0, 10], 0.25), 2.5);
  assert.equal(percentile([7], 0.975), 7);
});

test('pairedBootstrap: constant shift gives a zero-width interval at the shift', () => {
  const before = { a: 0.1, b: 0.5, c: 0.9 };
  const after = { a: 0.3, b: 0.7, c: 1.1, extra: 1 };
  const ci = pairedBootstrap(before, after);
  assert.equal(ci.queries, 3);
  assert.ok(Math.abs(ci.delta - 0.2) < 1e-12 && Math.abs(ci.low - 0.2) < 1e-12 && Math.abs(ci.high - 0.2) < 1e-12);
});

test('pairedBootstrap: covers the true mean, matches the normal approximation, seeded', () => {
  const rng = createRng(3);
  const before: Record<string, number> = {};
  const after: Record<string, number> = {};
  const d: number[] = [];
  for (let i = 0; i < 400; i++) {
    before[`q${i}`] = rng.next();
    d.push(0.05 + 0.2 * rng.normal());
    after[`q${i}`] = before[`q${i}`] + d[i];
  }
  const ci = pairedBootstrap(before, after, { resamples: 2000, seed: 1 });
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (d.length - 1));
  const se = sd / Math.sqrt(d.length);
  assert.ok(Math.abs(ci.delta - mean) < 1e-12);
  assert.ok(ci.low < 0.05 && 0.05 < ci.high, `[${ci.low}, ${ci.high}]`);
  // percentile interval ≈ mean ± 1.96·se for a symmetric statistic with n = 400
  assert.ok(Math.abs(ci.high - ci.low - 2 * 1.96 * se) < 0.2 * 2 * 1.96 * se, `${ci.high - ci.low} vs ${2 * 1.96 * se}`);
  assert.deepEqual(pairedBootstrap(before, after, { resamples: 2000, seed: 1 }), ci);
  assert.notDeepEqual(pairedBootstrap(before, after, { resamples: 2000, seed: 2 }).low, ci.low);
  assert.throws(() => pairedBootstrap({ a: 1 }, { b: 1 }), /share no query id/);
  assert.throws(() => pairedBootstrap({ a: 1 }, { a: NaN }), /query 'a'/);
});

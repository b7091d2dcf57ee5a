import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedBootstrap, pairedBootstrapOfGroupMean, percentile } from '../../lib/eval/bootstrap.js';
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

test('pairedBootstrapOfGroupMean: mean of group means, interval of that mean (narrower than the mean of group bounds)', () => {
  const rng = createRng(5);
  const groups: Record<string, { before: Record<string, number>; after: Record<string, number> }> = {};
  const sizes = { de: 300, zh: 150, ar: 600 };
  const shifts = { de: 0.1, zh: -0.05, ar: 0.02 };
  const se2: number[] = [];
  const groupMeans: number[] = [];
  for (const [g, n] of Object.entries(sizes)) {
    const before: Record<string, number> = {};
    const after: Record<string, number> = {};
    const d: number[] = [];
    for (let i = 0; i < n; i++) {
      before[`${g}${i}`] = rng.next();
      d.push(shifts[g as keyof typeof shifts] + 0.3 * rng.normal());
      after[`${g}${i}`] = before[`${g}${i}`] + d[i];
    }
    groups[g] = { before, after };
    const m = d.reduce((s, v) => s + v, 0) / n;
    groupMeans.push(m);
    se2.push(d.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1) / n);
  }
  const ci = pairedBootstrapOfGroupMean(groups, { resamples: 2000, seed: 3 });
  // the mean over groups, not the pooled mean over all queries (the groups have different sizes)
  const expected = groupMeans.reduce((s, v) => s + v, 0) / 3;
  assert.ok(Math.abs(ci.delta - expected) < 1e-12);
  assert.equal(ci.groups, 3);
  assert.equal(ci.queries, 1050);
  assert.ok(ci.low < ci.delta && ci.delta < ci.high);
  // width ≈ 2·1.96·sqrt(Σ se_g²)/G
  const width = (2 * 1.96 * Math.sqrt(se2.reduce((s, v) => s + v, 0))) / 3;
  assert.ok(Math.abs(ci.high - ci.low - width) < 0.15 * width, `${ci.high - ci.low} vs ${width}`);
  // the old "mean of per-language bounds" is wider
  const per = Object.keys(groups).map((g) => pairedBootstrap(groups[g].before, groups[g].after, { resamples: 2000, seed: 3 }));
  const oldWidth = per.reduce((s, c) => s + (c.high - c.low), 0) / 3;
  assert.ok(ci.high - ci.low < 0.75 * oldWidth, `${ci.high - ci.low} < ${oldWidth}`);
  // one group: the same as pairedBootstrap with the same seed
  const one = pairedBootstrapOfGroupMean({ de: groups.de }, { resamples: 500, seed: 9 });
  const plain = pairedBootstrap(groups.de.before, groups.de.after, { resamples: 500, seed: 9 });
  assert.deepEqual([one.delta, one.low, one.high], [plain.delta, plain.low, plain.high]);
  assert.deepEqual(pairedBootstrapOfGroupMean(groups, { resamples: 2000, seed: 3 }), ci);
  assert.throws(() => pairedBootstrapOfGroupMean({}), /no groups/);
  assert.throws(() => pairedBootstrapOfGroupMean({ de: { before: { a: 1 }, after: { b: 1 } } }), /group 'de': the two score maps share no query id/);
  assert.throws(() => pairedBootstrapOfGroupMean({ zh: { before: { a: 1 }, after: { a: Infinity } } }), /group 'zh', query 'a'/);
});

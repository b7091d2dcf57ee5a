import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlignmentAdapter } from '../../lib/train/adapter.js';
import { AdapterHead } from '../../lib/train/heads/adapter-head.js';
import { embedTrainingSamples } from '../../lib/train/train-adapter.js';
import { learningRate, lossCurveCsv, makeBatches, trainLoop } from '../../lib/train/train-loop.js';
import { syntheticEmbedder, syntheticSamples } from './synthetic.js';

test('makeBatches: every index once, batches ≤ size, no shared group in a batch', () => {
  const order = Array.from({ length: 103 }, (_, i) => (i * 37) % 103);
  const group = (i: number) => `g${i % 20}`;
  const batches = makeBatches(order, 16, group);
  assert.deepEqual(batches.flat().sort((a, b) => a - b), [...order].sort((a, b) => a - b));
  for (const b of batches) {
    assert.ok(b.length <= 16 && b.length >= 2);
    assert.equal(new Set(b.map(group)).size, b.length);
  }
  assert.deepEqual(makeBatches([0, 1, 2, 3, 4], 2), [[0, 1], [2, 3]]); // a batch of 1 is dropped
});

test('learningRate: linear warmup then linear decay to 0, or constant', () => {
  assert.equal(learningRate(0, 100, 1, 'linear', 0.1), 1 / 11);
  assert.equal(learningRate(9, 100, 1, 'linear', 0.1), 10 / 11);
  assert.equal(learningRate(10, 100, 1, 'linear', 0.1), 1);
  assert.equal(learningRate(55, 100, 1, 'linear', 0.1), 0.5);
  assert.equal(learningRate(99, 100, 1, 'linear', 0), 0.01);
  assert.equal(learningRate(99, 100, 2, 'constant', 0.1), 2);
});

test('trainLoop: the adapter learns to remove a language bias; loss curve CSV; seeded', async () => {
  const samples = syntheticSamples(240, 1);
  const cached = await embedTrainingSamples(syntheticEmbedder(24), samples);
  const run = (lossCsv?: string) => {
    const adapter = AlignmentAdapter.create(24);
    const result = trainLoop(new AdapterHead(adapter, cached), samples.length, { batchSize: 16, epochs: 8, lr: 1e-2, lossCsv, progress: false, groupOf: (i) => samples[i].docId });
    return { adapter, result };
  };
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-loop-'));
  const { adapter, result } = run(join(dir, 'loss.csv'));
  const h = result.history;
  assert.equal(result.steps, 8 * 15);
  const mean = (rows: typeof h) => rows.reduce((s, r) => s + r.loss, 0) / rows.length;
  assert.ok(mean(h.slice(-15)) < 0.7 * mean(h.slice(0, 15)), `last epoch ${mean(h.slice(-15))} vs first ${mean(h.slice(0, 15))}`);
  // Cross-lingual retrieval: a target query against all pivot documents, top-1 accuracy.
  const top1 = (q: Float32Array, d: Float32Array) => {
    let hits = 0;
    for (let i = 0; i < samples.length; i++) {
      let best = -1;
      let bestScore = -Infinity;
      for (let j = 0; j < samples.length; j++) {
        let s = 0;
        for (let k = 0; k < 24; k++) s += q[i * 24 + k] * d[j * 24 + k];
        if (s > bestScore) [best, bestScore] = [j, s];
      }
      if (best === i) hits++;
    }
    return hits / samples.length;
  };
  // Mixed pool: does the target query put its pivot document above every *other-language* (target) distractor?
  const pivotAboveTargets = (q: Float32Array, dp: Float32Array, dt: Float32Array) => {
    let ok = 0;
    for (let i = 0; i < samples.length; i++) {
      const dot = (a: Float32Array, j: number) => {
        let s = 0;
        for (let k = 0; k < 24; k++) s += q[i * 24 + k] * a[j * 24 + k];
        return s;
      };
      const own = dot(dp, i);
      let above = true;
      for (let j = 0; j < samples.length; j++) if (j !== i && dot(dt, j) >= own) above = false;
      if (above) ok++;
    }
    return ok / samples.length;
  };
  const after = (m: Float32Array) => adapter.apply(m, samples.length, 24);
  const before = pivotAboveTargets(cached.queryTarget, cached.docPivot, cached.docTarget);
  const afterRate = pivotAboveTargets(after(cached.queryTarget), after(cached.docPivot), after(cached.docTarget));
  assert.ok(afterRate > before + 0.2, `pivot doc above all target distractors: before ${before}, after ${afterRate}`);
  assert.ok(top1(after(cached.queryTarget), after(cached.docPivot)) >= top1(cached.queryTarget, cached.docPivot));
  const csv = readFileSync(join(dir, 'loss.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'step,epoch,loss,lr,infoNCE,jsdQueries,jsdDocuments,jsd');
  assert.equal(csv.length, 1 + result.steps);
  assert.equal(csv.join('\n') + '\n', lossCurveCsv(h));
  assert.equal(Number(csv[1].split(',')[2]), h[0].loss);
  // same seed, same weights
  assert.deepEqual(Array.from(run().adapter.delta!), Array.from(adapter.delta!));
  assert.equal((result.config as { seed: number }).seed, 42);
});

test('trainLoop: bad options are named', () => {
  const head = { forward: () => { throw new Error('unused'); }, backward() {}, step() {} };
  assert.throws(() => trainLoop(head, 1), /need at least 2 samples, got 1/);
  assert.throws(() => trainLoop(head, 10, { batchSize: 1 }), /batchSize must be an integer >= 2, got 1/);
  assert.throws(() => trainLoop(head, 10, { schedule: 'cosine' as never }), /unsupported schedule 'cosine'; use 'constant', 'linear'/);
});

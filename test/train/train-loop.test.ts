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
  const run = async (lossCsv?: string) => {
    const adapter = AlignmentAdapter.create(24);
    const result = await trainLoop(new AdapterHead(adapter, cached), samples.length, { batchSize: 16, epochs: 8, lr: 1e-2, lossCsv, progress: false, groupOf: (i) => samples[i].docId });
    return { adapter, result };
  };
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-loop-'));
  const { adapter, result } = await run(join(dir, 'loss.csv'));
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
  assert.deepEqual(Array.from((await run()).adapter.delta!), Array.from(adapter.delta!));
  assert.equal((result.config as { seed: number }).seed, 42);
});

test('trainLoop: bad options are named', async () => {
  const head = { forward: async () => { throw new Error('unused'); }, backward: async () => {}, step: async () => {}, getConfig: () => ({}) };
  await assert.rejects(trainLoop(head, 1), /need at least 2 samples, got 1/);
  await assert.rejects(trainLoop(head, 10, { batchSize: 1 }), /batchSize must be an integer >= 2, got 1/);
  await assert.rejects(trainLoop(head, 10, { schedule: 'cosine' as never }), /unsupported schedule 'cosine'; use 'constant', 'linear', 'linear-floor'/);
  await assert.rejects(trainLoop(head, 10, { lrFloor: 2 }), /lrFloor must be in \[0, 1\], got 2/);
});

test('learningRate linear-floor: warmup, then linear from lr to lrFloor·lr', () => {
  assert.equal(learningRate(0, 10, 0.02, 'linear-floor', 0, 0.1), 0.02);
  assert.equal(learningRate(5, 10, 0.02, 'linear-floor', 0, 0.1), 0.02 * (1 - 0.9 * 0.5));
  assert.ok(Math.abs(learningRate(10, 10, 1, 'linear-floor', 0, 0.1) - 0.1) < 1e-15);
  assert.equal(learningRate(0, 100, 1, 'linear-floor', 0.1, 0.5), 1 / 11);
  assert.equal(learningRate(10, 100, 1, 'linear-floor', 0.1, 0.5), 1);
  assert.equal(learningRate(55, 100, 1, 'linear-floor', 0.1, 0.5), 0.75);
});

/** An async head over fixed vectors that records the order of calls and the lr of each step. */
function recordingHead(dim: number, n: number) {
  const calls: string[] = [];
  const lrs: number[] = [];
  let pending = 0;
  const rows = (batch: readonly number[], shift: number) => {
    const data = new Float32Array(batch.length * dim);
    batch.forEach((i, b) => {
      data[b * dim + ((i + shift) % dim)] = 1;
    });
    return { data, rows: batch.length, cols: dim };
  };
  const head = {
    async forward(batch: readonly number[]) {
      await new Promise((r) => setTimeout(r, 1)); // really async: the loop must await
      calls.push(`forward ${batch.length}`);
      return { queryPivot: rows(batch, 0), queryTarget: rows(batch, 1), docPivot: rows(batch, 0), docTarget: rows(batch, 1) };
    },
    async backward() {
      await new Promise((r) => setTimeout(r, 1));
      calls.push('backward');
      pending++;
    },
    async step(lr: number) {
      await new Promise((r) => setTimeout(r, 1));
      calls.push(`step ${pending}`);
      pending = 0;
      lrs.push(lr);
    },
    getConfig: () => ({ head: 'recording', weightDecay: 0 }),
  };
  return { head, calls, lrs, n };
}

test('trainLoop drives an async TrainableHead: forward -> backward -> step(lr) per batch, lr from the schedule, head config merged', async () => {
  const { head, calls, lrs } = recordingHead(8, 20);
  const epochs: number[] = [];
  const r = await trainLoop(head, 20, { batchSize: 8, epochs: 2, lr: 0.5, warmupRatio: 0.25, progress: false, onEpoch: (e, mean) => epochs.push(e, mean) });
  // 20 samples in batches of 8 -> 8, 8, 4: 3 steps an epoch
  assert.equal(r.steps, 6);
  assert.deepEqual(calls.slice(0, 6), ['forward 8', 'backward', 'step 1', 'forward 8', 'backward', 'step 1']);
  assert.deepEqual(lrs, [0, 1, 2, 3, 4, 5].map((s) => learningRate(s, 6, 0.5, 'linear', 0.25)));
  assert.deepEqual(r.history.map((h) => h.lr), lrs);
  assert.equal(r.config.head, 'recording');
  assert.equal(r.config.weightDecay, 0);
  assert.equal(r.epochLosses.length, 2);
  const mean0 = r.history.slice(0, 3).reduce((s, h) => s + h.loss, 0) / 3;
  assert.equal(r.epochLosses[0], mean0);
  assert.deepEqual(epochs, [1, r.epochLosses[0], 2, r.epochLosses[1]]);
});

test('trainLoop batches option: custom batches drawn from the seeded generator, one call per epoch', async () => {
  const { head, calls } = recordingHead(8, 12);
  const seen: number[][][] = [];
  const batches = (rng: { int(n: number): number }) => {
    const first = rng.int(2) === 0 ? [0, 1, 2] : [3, 4, 5];
    const b = [first, [6, 7]];
    seen.push(b);
    return b;
  };
  const r = await trainLoop(head, 12, { batches, epochs: 3, seed: 5, progress: false });
  assert.equal(seen.length, 3);
  assert.equal(r.steps, 6);
  assert.equal(r.config.batches, 'custom');
  assert.deepEqual(calls.filter((c) => c.startsWith('forward')), ['forward 3', 'forward 2', 'forward 3', 'forward 2', 'forward 3', 'forward 2']);
});

test('trainLoop off a terminal: progress lines on stderr (stage, steps done/total), none with progress: false', async () => {
  const written: string[] = [];
  const write = process.stderr.write;
  const tty = process.stderr.isTTY;
  const env = process.env.XLALIGN_PROGRESS_MS;
  process.env.XLALIGN_PROGRESS_MS = '0'; // a line on every step instead of every ~10 s
  (process.stderr as { isTTY?: boolean }).isTTY = false;
  process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    await trainLoop(recordingHead(8, 20).head, 20, { batchSize: 8, epochs: 1 });
    const lines = written.filter((l) => l.startsWith('progress: train'));
    assert.ok(lines.length >= 3, written.join(''));
    assert.match(lines.at(-1)!, /progress: train 3\/3 steps/);
    written.length = 0;
    await trainLoop(recordingHead(8, 20).head, 20, { batchSize: 8, epochs: 1, progress: false });
    assert.deepEqual(written.filter((l) => l.startsWith('progress:')), []);
  } finally {
    process.stderr.write = write;
    (process.stderr as { isTTY?: boolean }).isTTY = tty;
    if (env === undefined) delete process.env.XLALIGN_PROGRESS_MS;
    else process.env.XLALIGN_PROGRESS_MS = env;
  }
});

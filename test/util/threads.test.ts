import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { exactTopK } from '../../lib/retrieve/exact-topk.js';
import { defaultThreads, setThreads } from '../../lib/util/threads.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

env.allowRemoteModels = false;

// Record the options of every ONNX Runtime session created in this process (transformers.js
// and exactTopK both go through onnxruntime-node's InferenceSession.create).
const ort = createRequire(import.meta.url)('onnxruntime-node') as { InferenceSession: { create: (...a: unknown[]) => Promise<unknown> } };
const created: Record<string, unknown>[] = [];
const original = ort.InferenceSession.create;
ort.InferenceSession.create = function (this: unknown, ...args: unknown[]) {
  created.push((args.find((a) => a && typeof a === 'object' && !(a instanceof Uint8Array)) ?? {}) as Record<string, unknown>);
  return original.apply(this, args);
};
const { dir } = writeTinyModel({ dim: 8, seed: 3 });
after(() => {
  ort.InferenceSession.create = original;
  setThreads(undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('defaultThreads is every available core; setThreads overrides and validates', () => {
  assert.equal(defaultThreads(), Math.max(1, availableParallelism()));
  setThreads(1);
  assert.equal(defaultThreads(), 1);
  setThreads(undefined);
  assert.throws(() => setThreads(0), /integer >= 1/);
});

test('a thread count above the cores warns and is capped: setThreads and XLALIGN_THREADS', () => {
  const cores = availableParallelism();
  const notices: string[] = [];
  setThreads(cores + 1000, (l) => notices.push(l));
  assert.equal(defaultThreads(), cores);
  assert.deepEqual(notices, [`warning: --threads ${cores + 1000} is above the ${cores} available cores; using ${cores}`]);
  setThreads(cores + 1000, (l) => notices.push(l));
  assert.equal(notices.length, 1, 'the same count again: no second warning');
  setThreads(cores, (l) => notices.push(l));
  assert.equal(defaultThreads(), cores);
  assert.equal(notices.length, 1, 'no warning at the core count');
  setThreads(undefined);
  const env = process.env.XLALIGN_THREADS;
  process.env.XLALIGN_THREADS = String(cores + 7);
  const write = process.stderr.write;
  const lines: string[] = [];
  process.stderr.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stderr.write;
  try {
    assert.equal(defaultThreads(), cores);
    assert.equal(defaultThreads(), cores);
  } finally {
    process.stderr.write = write;
    if (env === undefined) delete process.env.XLALIGN_THREADS;
    else process.env.XLALIGN_THREADS = env;
  }
  assert.deepEqual(lines, [`warning: XLALIGN_THREADS ${cores + 7} is above the ${cores} available cores; using ${cores}\n`], 'warned once');
});

test('the encoder session gets intraOpNumThreads: all cores by default, --threads N when set', async () => {
  created.length = 0;
  const a = await loadEmbedder(dir, { cache: false });
  await a.dispose();
  assert.equal(created.at(-1)?.intraOpNumThreads, availableParallelism());
  const b = await loadEmbedder(dir, { cache: false, threads: 3 });
  await b.dispose();
  assert.equal(created.at(-1)?.intraOpNumThreads, 3);
  await assert.rejects(loadEmbedder(dir, { cache: false, threads: 0 }), /threads must be an integer >= 1/);
});

test('exactTopK sessions get the thread count (default all cores, setThreads, or options.threads)', async () => {
  const q = Float32Array.of(1, 0);
  const d = Float32Array.of(0, 1, 1, 0);
  created.length = 0;
  setThreads(1); // the first exactTopK session of this process: a new session
  const r = await exactTopK(q, d, 2, { k: 1 });
  assert.equal(r.backend, 'ort');
  assert.deepEqual([...r.indices], [1]);
  assert.equal(created.at(-1)?.intraOpNumThreads, 1);
  setThreads(undefined);
  await exactTopK(q, d, 2, { k: 1, threads: 7 });
  assert.equal(created.at(-1)?.intraOpNumThreads, 7);
  await assert.rejects(exactTopK(q, d, 2, { k: 1, threads: -1 }), /threads = -1/);
});

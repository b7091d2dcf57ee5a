import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { EmbeddingCache, textKey } from '../../lib/embed/cache.js';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { childTexts, slowIdentityAdapter } from '../fixtures/embed-child-texts.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

env.allowRemoteModels = false;
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-cache-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const KEY = { model: 'tiny@sha256:0123', pooling: 'mean', normalize: true, maxLength: 512, dtype: 'fp32' };
const vec = (i: number, dim: number) => Float32Array.from({ length: dim }, (_, d) => i * 10 + d + 0.25);

test('put then getInto returns the same vectors; keys are order-independent; a new instance sees the chunks', () => {
  const root = join(scratch, 'basic');
  const cache = EmbeddingCache.open(root, KEY);
  const texts = ['a', 'b', 'c'];
  const keys = texts.map(textKey);
  const vectors = new Float32Array(9);
  texts.forEach((_, i) => vectors.set(vec(i, 3), i * 3));
  cache.put(keys, vectors, 3);
  cache.put(keys.slice(0, 1), vec(0, 3), 3); // already cached: nothing written
  assert.equal(cache.chunkCount, 1);
  const reordered = EmbeddingCache.open(root, { dtype: 'fp32', maxLength: 512, normalize: true, pooling: 'mean', model: KEY.model });
  assert.equal(reordered.dir, cache.dir);
  assert.equal(reordered.size, 3);
  const out = new Float32Array(4 * 3);
  const found = reordered.getInto([keys[2], textKey('zzz'), keys[0], keys[1]], out, 3);
  assert.deepEqual(found, [true, false, true, true]);
  assert.deepEqual([...out], [...vec(2, 3), 0, 0, 0, ...vec(0, 3), ...vec(1, 3)]);
  assert.deepEqual(reordered.getInto([keys[0]], new Float32Array(4), 4), [false], 'another dim is a miss');
  const other = EmbeddingCache.open(root, { ...KEY, pooling: 'cls' });
  assert.notEqual(other.dir, cache.dir);
  assert.equal(other.size, 0);
  assert.deepEqual(JSON.parse(readFileSync(join(cache.dir, 'meta.json'), 'utf8')).key.pooling, 'mean');
});

test('a torn or foreign chunk file is ignored, stale temporary files of dead processes are removed, bad input is named', () => {
  const root = join(scratch, 'torn');
  const cache = EmbeddingCache.open(root, KEY);
  cache.put([textKey('x'), textKey('y')], new Float32Array([1, 2, 3, 4]), 2);
  const [chunk] = readdirSync(cache.dir).filter((f) => f.endsWith('.bin'));
  truncateSync(join(cache.dir, chunk), statSync(join(cache.dir, chunk)).size - 3);
  writeFileSync(join(cache.dir, 'chunk-zzz-foreign.bin'), 'not a chunk');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  const stale = join(cache.dir, `chunk-0-1-a.bin.${dead}.abc123.tmp`);
  writeFileSync(stale, 'partial');
  const again = EmbeddingCache.open(root, KEY);
  assert.equal(again.size, 0);
  again.compact({ minFiles: 100 });
  assert.ok(!existsSync(stale));
  assert.throws(() => again.put(['nothex'], new Float32Array(2), 2), /keys\[0\] 'nothex' is not a sha256 hex digest/);
  assert.throws(() => again.put([textKey('q')], new Float32Array([1, Number.NaN]), 2), /component 1 is NaN/);
  assert.throws(() => EmbeddingCache.open(root, { pooling: 'mean' }), /key\.model must be a non-empty string/);
});

test('compact merges small chunks into one without changing any vector', () => {
  const root = join(scratch, 'compact');
  const cache = EmbeddingCache.open(root, KEY);
  const keys = Array.from({ length: 40 }, (_, i) => textKey(`t${i}`));
  for (let c = 0; c < 20; c++) {
    const v = new Float32Array(2 * 5);
    v.set(vec(2 * c, 5), 0);
    v.set(vec(2 * c + 1, 5), 5);
    cache.put(keys.slice(2 * c, 2 * c + 2), v, 5);
  }
  assert.equal(cache.chunkCount, 20);
  assert.equal(cache.compact({ minFiles: 30 }), 0);
  assert.equal(cache.compact(), 20);
  assert.equal(cache.chunkCount, 1);
  assert.equal(readdirSync(cache.dir).filter((f) => f.endsWith('.bin')).length, 1);
  const out = new Float32Array(40 * 5);
  const fresh = EmbeddingCache.open(root, KEY);
  assert.ok(fresh.getInto(keys, out, 5).every(Boolean));
  for (let i = 0; i < 40; i++) assert.deepEqual(out.subarray(i * 5, (i + 1) * 5), vec(i, 5));
});

function countChunks(root: string): number {
  if (!existsSync(root)) return 0;
  let n = 0;
  for (const d of readdirSync(root)) {
    const p = join(root, d);
    if (statSync(p).isDirectory()) n += readdirSync(p).filter((f) => f.startsWith('chunk-') && f.endsWith('.bin')).length;
  }
  return n;
}

function runChild(args: object): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'embed-child.ts'), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

test('a run killed with SIGKILL midway resumes from its cache: only unfinished texts are recomputed, vectors equal an uncached run', async () => {
  const { dir: model } = writeTinyModel({ dim: 16, seed: 21 });
  const cache = join(scratch, 'resume');
  const n = 480;
  const batchSize = 8;
  const out = join(scratch, 'resume-vectors.bin');
  try {
    // 1. Start, wait until at least 10 batches are cached, kill -9.
    const first = runChild({ model, cache, n, batchSize, sleepMs: 60, out });
    const deadline = Date.now() + 60_000;
    while (countChunks(cache) < 10) {
      if (Date.now() > deadline || first.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL', `the child should be killed midway, not finish (stderr: ${killed.stderr})`);
    assert.ok(!existsSync(out));

    // 2. What it left: whole chunks only, fewer than n texts.
    const [ns] = readdirSync(cache).filter((d) => statSync(join(cache, d)).isDirectory());
    const meta = JSON.parse(readFileSync(join(cache, ns, 'meta.json'), 'utf8'));
    const left = EmbeddingCache.open(cache, meta.key);
    const files = readdirSync(left.dir).filter((f) => f.endsWith('.bin'));
    assert.equal(left.chunkCount, files.length, 'every chunk file on disk is whole and readable');
    const cached = left.size;
    assert.ok(cached >= 10 * batchSize && cached < n, `cached ${cached} of ${n}`);
    assert.equal(cached % batchSize, 0, 'chunks are whole batches');

    // 3. Rerun to the end: exactly the missing texts are computed.
    const second = await runChild({ model, cache, n, batchSize, sleepMs: 0, out }).done;
    assert.equal(second.code, 0, second.stderr);
    const stats = JSON.parse(second.stdout.trim().split('\n').at(-1)!);
    assert.equal(stats.cacheHits, cached);
    assert.equal(stats.computed, n - cached);

    // 4. Same vectors as an uncached run in this process.
    const buf = readFileSync(out);
    const resumed = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const emb = await loadEmbedder(model, { cache: false, batchSize, adapter: slowIdentityAdapter(0) });
    const fresh = await emb.embed(childTexts(n));
    await emb.dispose();
    assert.equal(resumed.length, n * 16);
    let maxDiff = 0;
    for (let i = 0; i < fresh.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fresh[i] - resumed[i]));
    assert.ok(maxDiff <= 1e-6, `max |diff| ${maxDiff}`);
    // After the finished run the cache was compacted into a few files.
    assert.ok(countChunks(cache) < files.length, `${countChunks(cache)} chunks after compaction`);
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('a few rows of a big chunk are read by position and equal the whole-file read', () => {
  const root = join(scratch, 'rows');
  const cache = EmbeddingCache.open(root, KEY);
  const keys = Array.from({ length: 64 }, (_, i) => textKey(`r${i}`));
  const all = new Float32Array(64 * 3);
  for (let i = 0; i < 64; i++) all.set(vec(i, 3), i * 3);
  cache.put(keys, all, 3);
  const few = new Float32Array(2 * 3);
  assert.deepEqual(cache.getInto([keys[50], keys[7]], few, 3), [true, true]);
  assert.deepEqual([...few], [...vec(50, 3), ...vec(7, 3)]);
  const many = new Float32Array(64 * 3);
  assert.ok(cache.getInto(keys, many, 3).every(Boolean));
  assert.deepEqual(many, all);
});

test('two processes filling the same cache at once both finish with correct vectors and leave a consistent cache', async () => {
  const { dir: model } = writeTinyModel({ dim: 8, seed: 22 });
  const cache = join(scratch, 'concurrent');
  const n = 240;
  try {
    const outs = [join(scratch, 'conc-a.bin'), join(scratch, 'conc-b.bin')];
    const runs = await Promise.all(outs.map((out, k) => runChild({ model, cache, n, batchSize: 4, sleepMs: 5 + 3 * k, out }).done));
    runs.forEach((r) => assert.equal(r.code, 0, r.stderr));
    const stats = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!));
    stats.forEach((s) => assert.equal(s.cacheHits + s.computed, n));
    const emb = await loadEmbedder(model, { cache: false, batchSize: 4, adapter: slowIdentityAdapter(0) });
    const fresh = await emb.embed(childTexts(n));
    await emb.dispose();
    for (const out of outs) {
      const buf = readFileSync(out);
      assert.deepEqual(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), fresh);
    }
    const [ns] = readdirSync(cache).filter((d) => statSync(join(cache, d)).isDirectory());
    const meta = JSON.parse(readFileSync(join(cache, ns, 'meta.json'), 'utf8'));
    const after = EmbeddingCache.open(cache, meta.key);
    assert.equal(after.size, n);
    const got = new Float32Array(n * 8);
    assert.ok(after.getInto(childTexts(n).map(textKey), got, 8).every(Boolean));
    assert.deepEqual(got, fresh);
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

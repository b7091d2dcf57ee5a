import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '@huggingface/transformers';
import { EmbeddingCache, textKey } from '../../lib/embed/cache.js';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { createRng } from '../../lib/util/rng.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

env.allowRemoteModels = false;
const scratch = mkdtempSync(join(tmpdir(), 'xlalign-cache-verify-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const chunks = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('chunk-'));

function filled(root: string, notices: string[]) {
  const cache = EmbeddingCache.open(root, { model: 'm@sha256:1', dim: 4 }, { notice: (l) => notices.push(l) });
  const keys = ['a', 'b', 'c'].map(textKey);
  cache.put(keys, Float32Array.from({ length: 12 }, (_, i) => i / 10), 4);
  return { cache, keys, file: join(cache.dir, chunks(cache.dir)[0]) };
}

test('a chunk with garbage in its vectors fails its checksum: named, removed, reported as missing', () => {
  const notices: string[] = [];
  const { cache, keys, file } = filled(join(scratch, 'vec'), notices);
  const buf = readFileSync(file);
  buf.writeFloatLE(123.5, buf.length - 4); // a finite but wrong value: only a checksum sees it
  writeFileSync(file, buf);
  const reopened = EmbeddingCache.open(join(scratch, 'vec'), { model: 'm@sha256:1', dim: 4 }, { notice: (l) => notices.push(l) });
  const out = new Float32Array(12);
  assert.deepEqual(reopened.getInto(keys, out, 4), [false, false, false]);
  assert.equal(notices.length, 1);
  assert.ok(notices[0].includes(file) && /checksum mismatch; removed/.test(notices[0]), notices[0]);
  assert.ok(!existsSync(file));
  assert.equal(reopened.size, 0);
  assert.ok(cache);
});

test('random bytes over a whole chunk: bad header, named and removed when the folder is scanned', () => {
  const notices: string[] = [];
  const { keys, file } = filled(join(scratch, 'rand'), notices);
  const rng = createRng(7);
  writeFileSync(file, Uint8Array.from({ length: statSync(file).size }, () => rng.int(256)));
  const reopened = EmbeddingCache.open(join(scratch, 'rand'), { model: 'm@sha256:1', dim: 4 }, { notice: (l) => notices.push(l) });
  assert.equal(reopened.size, 0);
  assert.match(notices[0], /not an XLEC v2 chunk/);
  assert.ok(!existsSync(file));
  assert.deepEqual(reopened.getInto(keys, new Float32Array(12), 4), [false, false, false]);
});

test('the embedder recomputes the vectors of a damaged chunk and gives the same vectors as before', async () => {
  const { dir } = writeTinyModel({ dim: 8, seed: 11 });
  const cacheRoot = join(scratch, 'emb');
  const texts = ['The cats sleep.', 'кошка', '猫睡', 'doggy dog'];
  const a = await loadEmbedder(dir, { cache: cacheRoot });
  const v1 = await a.embed(texts);
  await a.dispose();
  const ns = a.cache!.dir;
  const [chunk] = chunks(ns);
  const buf = readFileSync(join(ns, chunk));
  for (let i = buf.length - 32; i < buf.length; i++) buf[i] ^= 0x5a;
  writeFileSync(join(ns, chunk), buf);
  const b = await loadEmbedder(dir, { cache: cacheRoot });
  const v2 = await b.embed(texts);
  assert.equal(b.stats.computed, texts.length, 'every text of the bad chunk recomputed');
  assert.deepEqual(v2, v1);
  // --force: never read the cache
  const c = await loadEmbedder(dir, { cache: cacheRoot, force: true });
  await c.embed(texts);
  assert.equal(c.stats.cacheHits, 0);
  for (const e of [b, c]) await e.dispose();
  rmSync(dir, { recursive: true, force: true });
});

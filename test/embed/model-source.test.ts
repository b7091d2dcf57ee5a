import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelIdentity, resolveModelSource } from '../../lib/embed/model-source.js';
import { writeStaticModel } from '../../lib/models/static/format.js';
import { tinyStaticModel } from '../fixtures/tiny-model.js';

const scratch = mkdtempSync(join(tmpdir(), 'xlalign-model-source-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('resolveModelSource: existing folder -> local, owner/name -> hub, path-like missing -> error naming it', () => {
  assert.deepEqual(resolveModelSource(scratch), { kind: 'local', dir: scratch });
  assert.deepEqual(resolveModelSource('Xenova/multilingual-e5-small'), { kind: 'hub', id: 'Xenova/multilingual-e5-small' });
  assert.deepEqual(resolveModelSource('bert-base-uncased'), { kind: 'hub', id: 'bert-base-uncased' });
  assert.throws(() => resolveModelSource('models/a/b'), /model folder .*models\/a\/b does not exist/);
  assert.throws(() => resolveModelSource('./local-model'), /local-model does not exist/);
  assert.deepEqual(resolveModelSource(`${scratch}/`), { kind: 'local', dir: scratch });
});

test('modelIdentity: hub id@revision; a local folder hashes its content (memoised on disk for big files) and changes when retrained', () => {
  assert.equal(modelIdentity({ kind: 'hub', id: 'Xenova/multilingual-e5-small' }, { dtype: 'q8', revision: 'main' }), 'Xenova/multilingual-e5-small@main');
  const dir = join(scratch, 'big-model');
  const memo = join(scratch, 'memo');
  // 23 tokens x 20000 dims x 4 bytes = 1.8 MB: above the 1 MiB memo threshold.
  writeStaticModel(dir, tinyStaticModel({ dim: 20000, seed: 1 }));
  const a = modelIdentity({ kind: 'local', dir }, { dtype: 'fp32', revision: 'main', hashMemo: memo });
  assert.match(a, /^big-model@sha256:[0-9a-f]{16}$/);
  const memoFile = join(memo, 'file-hashes.json');
  assert.ok(existsSync(memoFile));
  assert.ok(Object.keys(JSON.parse(readFileSync(memoFile, 'utf8'))).some((p) => p.endsWith('model.onnx')));
  assert.equal(modelIdentity({ kind: 'local', dir }, { dtype: 'fp32', revision: 'main', hashMemo: memo }), a);
  writeStaticModel(dir, tinyStaticModel({ dim: 20000, seed: 2 }));
  const b = modelIdentity({ kind: 'local', dir }, { dtype: 'fp32', revision: 'main', hashMemo: memo });
  assert.notEqual(b, a);
  // Same content in another folder name: the same hash part.
  const copy = join(scratch, 'copy');
  writeStaticModel(copy, tinyStaticModel({ dim: 20000, seed: 2 }));
  assert.equal(modelIdentity({ kind: 'local', dir: copy }, { dtype: 'fp32', revision: 'main' }).split('@')[1], b.split('@')[1]);
  assert.throws(() => modelIdentity({ kind: 'local', dir }, { dtype: 'fp16', revision: 'main' }), /has no model_fp16\.onnx \(dtype 'fp16'\)/);
  assert.throws(() => modelIdentity({ kind: 'local', dir: scratch }, { dtype: 'fp32', revision: 'main' }), /config\.json is missing/);
});

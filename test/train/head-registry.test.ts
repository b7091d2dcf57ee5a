import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { HEAD_NAMES, HEADS, headForModel, resolveHead } from '../../lib/train/heads/registry.js';
import { writeTinyEncoder } from '../models/transformer/tiny-encoders.js';

test('the head registry: one entry per head, the static head under its name and the deprecated alias', () => {
  assert.deepEqual([...HEAD_NAMES], ['static', 'adapter', 'encoder']);
  for (const h of HEAD_NAMES) assert.equal(HEADS[h].name, h);
  assert.equal(resolveHead('static').entry, HEADS.static);
  assert.equal(resolveHead('static').note, undefined);
  const alias = resolveHead('model');
  assert.equal(alias.entry, HEADS.static);
  assert.match(alias.note!, /deprecated.*--head static/);
  assert.throws(() => resolveHead('table'), /unknown head 'table'; use static, adapter, encoder/);
  assert.deepEqual(HEADS.adapter.options.map((o) => o.key), ['rank']);
  assert.deepEqual(HEADS.encoder.options.map((o) => o.key), ['wordEmbeddings', 'topLayers', 'microBatch', 'encoderTrain']);
});

test('the head is chosen by the folder; each head says which models it cannot train', () => {
  const staticDir = resolve('data/models/xlalign-static-v1');
  assert.equal(headForModel('default'), 'static');
  assert.equal(headForModel(staticDir), 'static');
  assert.equal(headForModel('intfloat/multilingual-e5-base'), 'encoder');
  const { dir } = writeTinyEncoder('bert');
  try {
    assert.equal(headForModel(dir), 'encoder');
    assert.equal(HEADS.encoder.checkModel(dir, 'folder'), undefined);
    assert.match(HEADS.static.checkModel(dir, 'folder')!, /is not a static model folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(HEADS.static.checkModel('default', 'special'), undefined);
  assert.match(HEADS.static.checkModel('owner/name', 'hub')!, /is a hub model/);
  assert.match(HEADS.encoder.checkModel('default', 'special')!, /is a static model .* --head static/);
  assert.match(HEADS.encoder.checkModel(staticDir, 'folder')!, /is a static model/);
  for (const h of HEAD_NAMES) assert.equal(HEADS[h].checkModel('owner/name', 'hub') === undefined, h !== 'static');
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

env.allowRemoteModels = false;
const { dir } = writeTinyModel({ dim: 8, seed: 2 });
// a model whose tokenizer allows 6 tokens ([CLS] + 4 + [SEP])
const cfgPath = join(dir, 'tokenizer_config.json');
writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), model_max_length: 6 }));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--max-length above the model limit is an error; the default is the limit', async () => {
  await assert.rejects(loadEmbedder(dir, { cache: false, maxLength: 10 }), /maxLength 10 is above the limit of .* \(tokenizer model_max_length 6\); use --max-length 6 or less/);
  const emb = await loadEmbedder(dir, { cache: false });
  assert.equal(emb.config.maxLength, 6);
  assert.equal(emb.config.modelMaxLength, 6);
  await emb.dispose();
});

test('countTruncated counts texts longer than maxLength tokens (prefix included), once per distinct text', async () => {
  const emb = await loadEmbedder(dir, { cache: false, maxLength: 5, queryPrefix: 'query: ' });
  // [CLS] the cat ##s sleep . [SEP] = 7 tokens; [CLS] кошка [SEP] = 3; 'query: кошка' = 5
  assert.equal(emb.countTruncated(['The cats sleep.', 'кошка', 'The cats sleep.'], 'passage'), 2);
  assert.equal(emb.countTruncated(['кошка'], 'query'), 0);
  assert.equal(emb.countTruncated(['кошка кошка'], 'query'), 1);
  assert.equal(emb.stats.truncated, 2, 'distinct texts cut');
  await emb.dispose();
});

test('xlalign eval records the model content hash, the effective length and truncation per pool in config.json', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-trunc-'));
  const r = spawnSync(resolve('node_modules/.bin/tsx'), [resolve('lib/cli/main.ts'), 'eval', '--retriever', dir, '--langs', 'de', '--scenarios', 'mono', '--max-length', '4', '--no-cache', '--metrics', 'ndcg@10', '--out', 'o'], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(cwd, 'o', 'config.json'), 'utf8'));
  const entry = config.retrievers.find((x: { model: string }) => x.model === dir);
  assert.match(entry.modelId, /@sha256:[0-9a-f]{16}$/);
  assert.equal(entry.maxLength, 4);
  assert.equal(entry.modelMaxLength, 6);
  const t = config.truncation[entry.name]['mono.de'];
  assert.equal(t.maxLength, 4);
  assert.equal(t.docs, 240, 'every paragraph is longer than 4 tokens');
  assert.ok(t.queries > 1000, `${t.queries} queries cut`);
  assert.match(r.stderr, /mono\.de: 240 documents and \d+ queries longer than 4 tokens were truncated/);
  const over = spawnSync(resolve('node_modules/.bin/tsx'), [resolve('lib/cli/main.ts'), 'eval', '--retriever', dir, '--langs', 'de', '--scenarios', 'mono', '--max-length', '7', '--out', 'o2'], { cwd, encoding: 'utf8' });
  assert.equal(over.status, 2, 'an input error');
  assert.match(over.stderr, /maxLength 7 is above the limit/);
});

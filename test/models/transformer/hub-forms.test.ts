import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { readSafetensors, writeSafetensors } from '../../../lib/nn/safetensors.js';
import { resolveEncoderFolder } from '../../../lib/models/transformer/hub.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { PYTHON, writeStFolder } from './st-folders.js';

/**
 * Hub ids (served here by a local HTTP server in the hub's URL layout): a repository with
 * sharded safetensors, or sentence-transformers modules with a Dense layer in
 * pytorch_model.bin, is fetched into transformers.js's cache by resolveEncoderFolder, and
 * loadEmbedder reads the module chain of a hub id too.
 */
const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `PyTorch is not available at ${PYTHON}`;

async function serve(root: string, fn: (requests: string[]) => Promise<void>): Promise<void> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    const m = /^\/xlalign-test\/[^/]+\/resolve\/main\/(.+)$/.exec(req.url!);
    const file = m && join(root, decodeURIComponent(m[1]));
    if (!file || !existsSync(file)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const saved = { remoteHost: env.remoteHost, cacheDir: env.cacheDir, allow: env.allowRemoteModels };
  const cache = mkdtempSync(join(tmpdir(), 'xlalign-hub-cache-'));
  try {
    env.remoteHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    env.cacheDir = cache;
    env.allowRemoteModels = true;
    await fn(requests);
  } finally {
    env.remoteHost = saved.remoteHost;
    env.cacheDir = saved.cacheDir;
    env.allowRemoteModels = saved.allow;
    server.close();
    rmSync(cache, { recursive: true, force: true });
  }
}

test('a hub repository with sentence-transformers modules (Dense in pytorch_model.bin) and sharded weights: fetched, fine-tunable, embedded through its module chain', { skip }, async () => {
  const dir = writeStFolder({ pooling: { pooling_mode_mean_tokens: true }, dense: [{ out: 16, activation: 'Tanh', bin: true }], normalize: true, stConfig: { prompts: { query: 'query: ', document: 'passage: ' } } });
  // shard the weights as the hub does
  const whole = readSafetensors(join(dir, 'model.safetensors'));
  const names = [...whole.tensors.keys()];
  const weightMap: Record<string, string> = {};
  [names.slice(0, 5), names.slice(5)].forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(dir, file), { tensors: new Map(part.map((n) => [n, whole.tensors.get(n)!])) });
    for (const n of part) weightMap[n] = file;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  rmSync(join(dir, 'model.safetensors'));
  try {
    await serve(dir, async (requests) => {
      const got = await resolveEncoderFolder('xlalign-test/tiny-st');
      for (const f of ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'modules.json', '1_Pooling/config.json', '2_Dense/config.json', '2_Dense/pytorch_model.bin', 'config_sentence_transformers.json']) assert.ok(existsSync(join(got, f)), f);
      assert.ok(requests.some((u) => u.endsWith('/model.safetensors')), 'model.safetensors is tried first');
      const enc = await TransformerEncoder.load(got, { threads: 1 });
      assert.equal(enc.outDim, 16);
      assert.equal(enc.moduleChain?.queryPrefix, 'query: ');
      await enc.dispose();
      const emb = await loadEmbedder('xlalign-test/tiny-st', { cache: false });
      assert.equal(emb.moduleChain.source, 'sentence-transformers');
      assert.equal(emb.dim, 16);
      const local = await loadEmbedder(dir, { cache: false });
      assert.deepEqual(await emb.embed(['the cat'], { kind: 'query' }), await local.embed(['the cat'], { kind: 'query' }));
      await emb.dispose();
      await local.dispose();
    });
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});

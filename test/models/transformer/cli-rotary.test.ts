/**
 * `xlalign train --head encoder` on the gte-multilingual-base and jina-embeddings-v3 twins:
 * the CLI run trains, writes <out>/model in the hub's layout, and the written model embeds
 * through loadEmbedder as the trainer does (jina: per task, `task_id` fed by xlalign).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../../lib/embed/transformers-embedder.js';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { readSafetensors } from '../../../lib/models/transformer/safetensors.js';
import { writeTinyEncoder } from './tiny-encoders.js';

env.allowRemoteModels = false;
const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');
const QUERY = 'Represent the query for retrieving evidence documents: ';
const PASSAGE = 'Represent the document for retrieval: ';

function xlalign(args: string[], cwd: string) {
  return spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

for (const family of ['gte', 'jina'] as const) {
  test(`xlalign train --head encoder on a ${family} twin: trains, writes <out>/model that loadEmbedder embeds as the trainer does`, async () => {
    const { dir } = writeTinyEncoder(family);
    const cwd = mkdtempSync(join(tmpdir(), `cli-train-${family}-`));
    const pooling = family === 'gte' ? 'cls' : 'mean';
    const embedFlags = family === 'gte' ? ['--pooling', 'cls'] : ['--pooling', 'mean', '--query-prefix', QUERY, '--passage-prefix', PASSAGE];
    const r = xlalign(['train', '--head', 'encoder', '--retriever', dir, ...embedFlags, '--samples', '24', '--epochs', '1', '--train-batch-size', '8', '--lr', '1e-2', '--max-length', '32', '--langs', 'de', '--scenarios', 'mixed-target', '--resamples', '50', '--no-cache', '--out', 'out'], cwd);
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['model/config.json', 'model/model.safetensors', 'model/onnx/model.onnx', 'model/tokenizer.json', 'model/modules.json', 'model/1_Pooling/config.json', 'loss.csv', 'before-after.json', 'config.json']) assert.ok(existsSync(join(cwd, 'out', f)), f);
    const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
    assert.equal(config.head, 'encoder');
    assert.equal(config.loop.steps, 3);
    const before = readSafetensors(join(dir, 'model.safetensors')).tensors;
    const after = readSafetensors(join(cwd, 'out/model/model.safetensors')).tensors;
    const moved = [...after.keys()].filter((n) => after.get(n)!.data!.some((v, i) => v !== before.get(n)!.data![i]));
    if (family === 'jina') {
      // adapters mode: only LoRA factors move, and only in the slices of tasks 0 and 1 (retrieval.query / retrieval.passage).
      assert.ok(moved.includes('embeddings.word_embeddings.parametrizations.weight.0.lora_A') && moved.includes('encoder.layers.1.mlp.fc2.parametrizations.weight.0.lora_B'), `moved: ${moved.join(', ')}`);
      assert.ok(moved.every((n) => /\.lora_[AB]$/.test(n)), `moved: ${moved.join(', ')}`);
      for (const n of moved) {
        const t = after.get(n)!;
        const per = t.data!.length / t.shape[0];
        const changedTasks = new Set<number>();
        t.data!.forEach((v, i) => v !== before.get(n)!.data![i] && changedTasks.add(Math.floor(i / per)));
        assert.ok([...changedTasks].every((k) => k === 0 || k === 1), `${n}: tasks ${[...changedTasks]} changed`);
      }
    } else assert.ok(moved.includes('encoder.layer.1.mlp.up_gate_proj.weight') && moved.includes('embeddings.LayerNorm.weight'), `moved: ${moved.join(', ')}`);
    const enc = await TransformerEncoder.load(join(cwd, 'out/model'), { pooling, threads: 1 });
    const emb = await loadEmbedder(join(cwd, 'out/model'), { pooling, normalize: false, cache: false, queryPrefix: family === 'jina' ? QUERY : '', passagePrefix: family === 'jina' ? PASSAGE : '' });
    for (const kind of ['query', 'passage'] as const) {
      const texts = ['Wo schläft die Katze?', 'the cat sleeps'];
      const prefix = family === 'jina' ? (kind === 'query' ? QUERY : PASSAGE) : '';
      const mine = (await enc.forward(enc.tokenize(texts.map((t) => prefix + t), kind))).pooled;
      const theirs = await emb.embed(texts, { kind });
      assert.ok(mine.every((v, i) => Math.abs(v - theirs[i]) < 1e-4), `${kind}: transformers.js vs trainer`);
    }
    await emb.dispose();
    await enc.dispose();
    rmSync(cwd, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { TransformerEncoder } from '../../../lib/models/transformer/encoder.js';
import { graphParamNames } from '../../../lib/models/transformer/graph.js';
import { createRng } from '../../../lib/util/rng.js';
import { writeTinyEncoder } from './tiny-encoders.js';

/**
 * PyTorch (autograd, float64) as an independent reference for the forward pass and every
 * gradient. Needs Debian's python3-torch and python3-numpy at /usr/bin/python3
 * (`apt-get install python3-torch python3-numpy`); skipped with a message otherwise.
 */
const PYTHON = process.env.XLALIGN_TORCH_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `PyTorch is not available at ${PYTHON} (install Debian's python3-torch and python3-numpy): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;

const TEXTS = ['The cats sleep.', 'кошка спит', 'query: the dog sleeps', 'γάτα 猫睡'];

for (const family of ['bert', 'xlm-roberta'] as const) {
  for (const pooling of ['mean', 'pooler'] as const) {
    test(`${family}: forward and all gradients (${pooling} pooling) equal PyTorch autograd in float64`, { skip }, async () => {
      const { dir } = writeTinyEncoder(family);
      try {
        const enc = await TransformerEncoder.load(dir, { pooling, threads: 1 });
        const tok = enc.tokenize(TEXTS);
        const rng = createRng(9);
        const gp = Float32Array.from({ length: tok.batch * enc.dim }, () => rng.normal());
        const { pooled } = await enc.forward(tok);
        const names = graphParamNames(enc.config, pooling);
        const g = await enc.backward(tok, gp, names, true);
        const emb = enc.scatterEmbeddingGrads(tok, g.inputsEmbeds!);
        const rows = (a: ArrayLike<number | bigint>, w: number) => Array.from({ length: tok.batch }, (_, b) => Array.from(a as ArrayLike<number>, Number).slice(b * w, (b + 1) * w));
        const req = { ids: rows(tok.ids, tok.seq), mask: rows(Array.from(tok.mask, Number), tok.seq), pooling, grad_pooled: rows(gp, enc.dim) };
        const r = spawnSync(PYTHON, ['scripts/encoder-torch-reference.py', 'check', dir], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 1 << 28 });
        assert.equal(r.status, 0, r.stderr);
        const ref = JSON.parse(r.stdout) as { pooled: number[][]; grads: Record<string, number[]> };
        const flat = ref.pooled.flat();
        let d = 0;
        flat.forEach((v, i) => (d = Math.max(d, Math.abs(v - pooled[i]))));
        assert.ok(d < 1e-4, `pooled: max |diff| ${d}`);
        const compare = (name: string, mine: ArrayLike<number>, theirs: ArrayLike<number>) => {
          let diff = 0;
          let scale = 0;
          for (let i = 0; i < theirs.length; i++) {
            diff = Math.max(diff, Math.abs(mine[i] - theirs[i]));
            scale = Math.max(scale, Math.abs(theirs[i]));
          }
          assert.ok(diff <= 1e-3 * Math.max(scale, 1e-2), `${name}: max |diff| ${diff}, max |grad| ${scale}`);
        };
        for (const n of names) compare(n, g.params.get(n)!, ref.grads[n]);
        const H = enc.dim;
        const word = ref.grads['embeddings.word_embeddings.weight'];
        emb.wordRows.forEach((id, j) => compare(`word row ${id}`, emb.wordGrads.subarray(j * H, (j + 1) * H), word.slice(id * H, (id + 1) * H)));
        compare('embeddings.position_embeddings.weight', emb.position, ref.grads['embeddings.position_embeddings.weight']);
        compare('embeddings.token_type_embeddings.weight', emb.tokenType, ref.grads['embeddings.token_type_embeddings.weight']);
        await enc.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

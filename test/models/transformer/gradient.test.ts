import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { TransformerEncoder, type EncoderTokens } from '../../../lib/models/transformer/encoder.js';
import { graphParamNames } from '../../../lib/models/transformer/graph.js';
import { param } from '../../../lib/models/transformer/weights.js';
import { createRng } from '../../../lib/util/rng.js';
import { writeTinyEncoder } from './tiny-encoders.js';
import { directionalDifference, quadraticProbe, type GradGroup } from './finite-differences.js';

const TEXTS = ['The cats sleep.', 'кошка спит', 'query: the dog sleeps'];

/**
 * Central finite differences of L(θ) = Σ r ⊙ pooled + ½ Σ pooled² (r random, fixed) along a
 * random unit direction u of each parameter group: (L(θ + εu) − L(θ − εu)) / 2ε against the
 * analytic ∇L·u from the ONNX backward graph. Float32 forward, ε = 1e-2, L summed in float64.
 */
async function checkFamily(family: 'bert' | 'xlm-roberta', pooling: 'mean' | 'cls' | 'pooler'): Promise<void> {
  const { dir } = writeTinyEncoder(family);
  try {
    const enc = await TransformerEncoder.load(dir, { pooling, threads: 1 });
    const tok: EncoderTokens = enc.tokenize(TEXTS);
    const rng = createRng(3);
    const lossOf = quadraticProbe(async () => (await enc.forward(tok)).pooled, TEXTS.length * enc.dim, rng);
    const names = graphParamNames(enc.config, pooling);
    const { grad } = await lossOf();
    const g = await enc.backward(tok, grad, names, true);
    const emb = enc.scatterEmbeddingGrads(tok, g.inputsEmbeds!);
    const H = enc.dim;
    // Each group: the parameter values, the indices perturbed, the analytic gradient at those indices.
    const groups: GradGroup[] = names.map((n) => ({
      name: n, values: param(enc.weights, n), idx: [...param(enc.weights, n).keys()], grad: g.params.get(n)!,
    }));
    const wordIdx: number[] = [];
    for (const id of emb.wordRows) for (let d = 0; d < H; d++) wordIdx.push(id * H + d);
    groups.push({ name: 'embeddings.word_embeddings.weight (rows of the batch)', values: param(enc.weights, 'embeddings.word_embeddings.weight'), idx: wordIdx, grad: emb.wordGrads });
    const posIdx = [...new Set(tok.positions)].flatMap((p) => Array.from({ length: H }, (_, d) => p * H + d));
    groups.push({ name: 'embeddings.position_embeddings.weight', values: param(enc.weights, 'embeddings.position_embeddings.weight'), idx: posIdx, grad: posIdx.map((i) => emb.position[i]) });
    groups.push({ name: 'embeddings.token_type_embeddings.weight', values: param(enc.weights, 'embeddings.token_type_embeddings.weight'), idx: [...Array(H).keys()], grad: emb.tokenType.subarray(0, H) });
    const eps = 1e-2;
    for (const grp of groups) {
      const { fd, analytic, gnorm } = await directionalDifference(grp, async () => (await lossOf()).loss, rng, eps);
      if (grp.name.endsWith('attention.self.key.bias')) {
        // Softmax is shift-invariant: a key bias adds q·b to a whole row of scores, so its gradient is 0.
        assert.ok(gnorm < 1e-4 && Math.abs(fd) < 1e-3, `${family}/${pooling} ${grp.name}: gradient should vanish, |g| ${gnorm}, fd ${fd}`);
        continue;
      }
      assert.ok(gnorm > 1e-3, `${family}/${pooling} ${grp.name}: gradient is trivially small (${gnorm})`);
      const err = Math.abs(fd - analytic);
      assert.ok(err <= 1e-2 * Math.abs(analytic) + 2e-3 * gnorm, `${family}/${pooling} ${grp.name}: finite difference ${fd} vs analytic ${analytic} (|g| ${gnorm})`);
    }
    await enc.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const family of ['bert', 'xlm-roberta'] as const) {
  for (const pooling of ['mean', 'cls', 'pooler'] as const) {
    test(`${family}: the gradient of every parameter group (${pooling} pooling) equals central finite differences`, () => checkFamily(family, pooling));
  }
}

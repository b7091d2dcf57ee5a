/**
 * An independent forward pass of BERT / XLM-R in plain TypeScript, float64, written from the
 * Hugging Face modelling code (BertEmbeddings, BertSelfAttention, BertLayer, BertPooler),
 * not from xlalign's graph: per-token loops, no ONNX. Slow; for tiny test models only.
 */
import type { EncoderConfig } from '../../../lib/models/transformer/config.js';
import { param, type EncoderWeights } from '../../../lib/models/transformer/weights.js';

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse; use a series / continued fraction with 1e-15 accuracy.
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = 0;
    let term = t;
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

function layerNorm(x: Float64Array, g: Float32Array, b: Float32Array, eps: number): Float64Array {
  const n = x.length;
  let mu = 0;
  for (const v of x) mu += v;
  mu /= n;
  let varr = 0;
  for (const v of x) varr += (v - mu) ** 2;
  varr /= n;
  const r = 1 / Math.sqrt(varr + eps);
  return Float64Array.from(x, (v, i) => (v - mu) * r * g[i] + b[i]);
}

function linear(x: Float64Array, w: Float32Array, b: Float32Array, out: number): Float64Array {
  const inn = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b[o];
    for (let i = 0; i < inn; i++) s += w[o * inn + i] * x[i];
    y[o] = s;
  }
  return y;
}

/**
 * Last hidden state of one text (`ids`, no padding) as `T` rows of `H`, and its position ids
 * computed from the family's rule here again (BERT: t; XLM-R: pad + 1 + t).
 */
export function referenceForward(w: EncoderWeights, ids: number[]): Float64Array[] {
  const c: EncoderConfig = w.config;
  const H = c.hiddenSize;
  const nh = c.numHeads;
  const dh = H / nh;
  const p = (n: string) => param(w, n);
  const T = ids.length;
  let h: Float64Array[] = ids.map((id, t) => {
    const pos = c.modelType === 'bert' ? t : c.padTokenId + 1 + t;
    const v = new Float64Array(H);
    for (let d = 0; d < H; d++) v[d] = p('embeddings.word_embeddings.weight')[id * H + d] + p('embeddings.token_type_embeddings.weight')[d] + p('embeddings.position_embeddings.weight')[pos * H + d];
    return layerNorm(v, p('embeddings.LayerNorm.weight'), p('embeddings.LayerNorm.bias'), c.layerNormEps);
  });
  for (let l = 0; l < c.numLayers; l++) {
    const L = (n: string) => p(`encoder.layer.${l}.${n}`);
    const q = h.map((x) => linear(x, L('attention.self.query.weight'), L('attention.self.query.bias'), H));
    const k = h.map((x) => linear(x, L('attention.self.key.weight'), L('attention.self.key.bias'), H));
    const v = h.map((x) => linear(x, L('attention.self.value.weight'), L('attention.self.value.bias'), H));
    const ctx = h.map(() => new Float64Array(H));
    for (let head = 0; head < nh; head++) {
      for (let i = 0; i < T; i++) {
        const s = new Float64Array(T);
        for (let j = 0; j < T; j++) {
          let dot = 0;
          for (let d = 0; d < dh; d++) dot += q[i][head * dh + d] * k[j][head * dh + d];
          s[j] = dot / Math.sqrt(dh);
        }
        const m = Math.max(...s);
        let z = 0;
        for (let j = 0; j < T; j++) z += (s[j] = Math.exp(s[j] - m));
        for (let j = 0; j < T; j++) for (let d = 0; d < dh; d++) ctx[i][head * dh + d] += (s[j] / z) * v[j][head * dh + d];
      }
    }
    const h1 = h.map((x, t) => {
      const a = linear(ctx[t], L('attention.output.dense.weight'), L('attention.output.dense.bias'), H);
      return layerNorm(a.map((val, d) => val + x[d]), L('attention.output.LayerNorm.weight'), L('attention.output.LayerNorm.bias'), c.layerNormEps);
    });
    h = h1.map((x) => {
      const inter = linear(x, L('intermediate.dense.weight'), L('intermediate.dense.bias'), c.intermediateSize).map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2)));
      const o = linear(inter, L('output.dense.weight'), L('output.dense.bias'), H);
      return layerNorm(o.map((val, d) => val + x[d]), L('output.LayerNorm.weight'), L('output.LayerNorm.bias'), c.layerNormEps);
    });
  }
  return h;
}

/** Pooled vector of one text: mean of the rows, the first row, or tanh(W h_0 + b). */
export function referencePooled(w: EncoderWeights, ids: number[], pooling: 'mean' | 'cls' | 'pooler'): Float64Array {
  const h = referenceForward(w, ids);
  const H = w.config.hiddenSize;
  if (pooling === 'cls') return h[0];
  if (pooling === 'pooler') return linear(h[0], param(w, 'pooler.dense.weight'), param(w, 'pooler.dense.bias'), H).map(Math.tanh);
  const out = new Float64Array(H);
  for (const row of h) for (let d = 0; d < H; d++) out[d] += row[d] / h.length;
  return out;
}

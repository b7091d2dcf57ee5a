// Test helper (not a test file): a synthetic bilingual world whose English bias is known.
// Words map to seeded random vectors; a text's embedding is the normalised sum of its word
// vectors plus a strong language direction b_lang, so same-language texts look alike
// regardless of meaning: exactly the bias the adapter must learn to remove (a linear map
// can, by projecting the language directions out).
import type { TrainingSample } from '../../lib/train/samples.js';
import { createRng } from '../../lib/util/rng.js';

export function wordVector(word: string, dim: number): Float64Array {
  let h = 2166136261;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
  const rng = createRng(h >>> 0);
  return Float64Array.from({ length: dim }, () => rng.normal());
}

/** Embedder over texts of the form `<lang>|w1 w2 ...`. */
export function syntheticEmbedder(dim: number, bias = 2.5) {
  let calls = 0;
  return {
    id: `synthetic-${dim}`,
    dim,
    get calls() {
      return calls;
    },
    async embed(texts: string[]): Promise<Float32Array> {
      calls++;
      const out = new Float32Array(texts.length * dim);
      texts.forEach((t, i) => {
        const [lang, body] = t.split('|');
        const v = new Float64Array(dim);
        for (const w of body.split(' ')) wordVector(w, dim).forEach((x, k) => (v[k] += x));
        let n = Math.hypot(...v);
        v.forEach((x, k) => (v[k] = x / n));
        const b = wordVector(`__lang_${lang}`, dim);
        const bn = Math.hypot(...b);
        v.forEach((x, k) => (v[k] = x + (bias * b[k]) / bn));
        n = Math.hypot(...v);
        v.forEach((x, k) => (out[i * dim + k] = x / n));
      });
      return out;
    },
    async dispose() {},
  };
}

/** `n` samples: a document of 8 words, its query = 3 of them; the target version uses the same words. */
export function syntheticSamples(n: number, seed: number, langs = ['de', 'th']): TrainingSample[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: 8 }, () => `w${rng.int(400)}`);
    const q = words.slice(0, 3).join(' ');
    const d = words.join(' ');
    const lang = langs[i % langs.length];
    return { lang, id: `s${i}`, queryPivot: `en|${q}`, queryTarget: `${lang}|${q}`, docPivot: `en|${d}`, docTarget: `${lang}|${d}`, docId: `d${i}` };
  });
}

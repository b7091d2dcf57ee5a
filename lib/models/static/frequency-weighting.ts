import { xlError } from '../../util/errors.js';
import type { StaticEmbeddingModel } from './table.js';

/**
 * Post-training reweighting of a static table, so that plain mean pooling (what the
 * transformers.js artifact does) behaves like a frequency-weighted mean:
 *
 * - **SIF weights** (Arora et al. 2017, "A Simple but Tough-to-Beat Baseline for Sentence
 *   Embeddings", §3): row t is scaled by w_t = a / (a + p_t), p_t the share of token t among
 *   all tokens of a reference corpus. Frequent tokens (`[CLS]`, `[SEP]`, function words)
 *   shrink, rare content tokens keep their length, so the mean of a text is dominated by
 *   its content words (as IDF does in BM25). model2vec applies a similar (Zipf) weighting
 *   to its token vectors.
 * - **Centering**: the mean text vector c (unnormalised mean pooling, averaged over the
 *   reference texts) is subtracted from every row; since pooling is a mean, every text
 *   vector then loses c, the direction all texts share (Arora et al. remove the first
 *   principal component; the mean is the simpler, deterministic variant).
 *
 * Hand-written: two loops over the table; no library does this on a transformers.js table.
 */

/** Options of {@link applyFrequencyWeighting}; all have defaults. */
export interface FrequencyWeightingOptions {
  /** SIF parameter a (smaller = stronger down-weighting of frequent tokens); 0 turns weighting off. Default 1e-3. */
  sifA?: number;
  /** Subtract the mean text vector of the reference texts from every row. Default true. */
  center?: boolean;
}

/** What {@link applyFrequencyWeighting} did (for build-info.json). */
export interface FrequencyWeightingResult {
  sifA: number;
  center: boolean;
  /** Reference texts and their tokens. */
  texts: number;
  tokens: number;
}

/**
 * SIF weight of every row: w_t = a / (a + count_t / total) over the tokens of `texts`
 * (`[CLS]` and `[SEP]` counted once per text, as pooling sees them); unseen tokens get 1.
 * @throws XlalignError for no texts or a not-positive `a`.
 * @example const w = sifWeights(model, ['the cat', 'a dog'], 1e-3); // w[idOf('the')] < w[idOf('cat')]
 */
export function sifWeights(model: StaticEmbeddingModel, texts: readonly string[], a: number): Float64Array {
  if (texts.length === 0) throw xlError('sifWeights', 'need at least one reference text');
  if (!(a > 0)) throw xlError('sifWeights', `a must be > 0, got ${a}`);
  const counts = new Float64Array(model.vocabSize);
  let total = 0;
  for (const ids of model.encode(texts)) {
    for (const i of ids) counts[i]++;
    total += ids.length;
  }
  return counts.map((c) => a / (a + c / total));
}

/**
 * Reweight (SIF) and center the rows of `model.table` in place, from token statistics of
 * the reference `texts` (the training texts; never the evaluation data).
 *
 * Contract: afterwards, row t = w_t · T[t] − c with c = mean over `texts` of the mean of
 * their weighted rows (c = 0 when `center` is false; w = 1 when `sifA` is 0).
 * @throws XlalignError for no texts or a negative `sifA`.
 * @example applyFrequencyWeighting(model, corpusTexts(corpus.train).de, { sifA: 1e-3, center: true });
 */
export function applyFrequencyWeighting(model: StaticEmbeddingModel, texts: readonly string[], options: FrequencyWeightingOptions = {}): FrequencyWeightingResult {
  const { sifA = 1e-3, center = true } = options;
  if (!(sifA >= 0)) throw xlError('applyFrequencyWeighting', `sifA must be >= 0 (0 = no weighting), got ${sifA}`);
  if (texts.length === 0) throw xlError('applyFrequencyWeighting', 'need at least one reference text');
  const { table, dim } = model;
  if (sifA > 0) {
    const w = sifWeights(model, texts, sifA);
    for (let r = 0; r < model.vocabSize; r++) for (let j = r * dim; j < (r + 1) * dim; j++) table[j] *= w[r];
  }
  const encoded = model.encode(texts);
  if (center) {
    const c = new Float64Array(dim);
    for (const ids of encoded) {
      for (const i of ids) for (let j = 0; j < dim; j++) c[j] += table[i * dim + j] / ids.length;
    }
    for (let j = 0; j < dim; j++) c[j] /= encoded.length;
    for (let r = 0; r < model.vocabSize; r++) for (let j = 0; j < dim; j++) table[r * dim + j] -= c[j];
  }
  return { sifA, center, texts: texts.length, tokens: encoded.reduce((s, ids) => s + ids.length, 0) };
}

import { xlError } from '../../util/errors.js';
import { createRng } from '../../util/rng.js';
import { readStaticModel, writeStaticModel } from './format.js';
import { AdamW } from '../../nn/adamw.js';
import type { FloatArray, Matrix } from '../../nn/matrix.js';
import { WordPiece, tokenizerConfigJson, tokenizerJson } from './wordpiece.js';

/**
 * The static embedding model as a trainable head: one vector per token, a text's vector
 * is the L2-normalised mean of its tokens' vectors (special tokens `[CLS]`/`[SEP]` included,
 * as transformers.js feeds them):
 *
 *   m = (1/n) Σ_k E[t_k],   e = m / max(‖m‖, 1e-12)
 *
 * Backward, given g = dL/de:  dL/dm = (g − e (e·g)) / ‖m‖,  dL/dE[t] += (c_t / n) dL/dm
 * for each distinct token t occurring c_t times. Only the rows of tokens in the batch get
 * a gradient (sparse), and {@link StaticEmbeddingModel.step} applies lazy AdamW to them.
 *
 * Hand-written (no autograd library in TypeScript that runs on plain typed arrays); the
 * gradient is checked against finite differences in
 * `test/models/static/table.test.ts`, and the forward against transformers.js.
 */

/** The forward pass of a batch, kept for {@link backwardStatic}. */
export interface StaticForward {
  /** `B x dim` normalised text vectors (a {@link Matrix} for the losses). */
  embeddings: Matrix;
  /** Token ids of each text. */
  ids: readonly (readonly number[])[];
  /** ‖m‖ of each text (before the 1e-12 floor). */
  norms: Float64Array;
}

/** Sparse gradient of the table: `rows[r]` gets `rowGrads[r*dim .. r*dim+dim)`; rows are distinct. */
export interface SparseRows {
  rows: Int32Array;
  rowGrads: Float64Array;
}

/**
 * Forward a batch of token-id lists through a `vocabSize x dim` table (Float32Array, or
 * Float64Array for gradient checks; the output has the table's type).
 *
 * @throws XlalignError for an empty id list or an id outside the table.
 * @example const f = forwardStatic(table, 256, [[2, 17, 3]]); f.embeddings.data // 256 values, norm 1
 */
export function forwardStatic(table: FloatArray, dim: number, ids: readonly (readonly number[])[]): StaticForward {
  const vocabSize = table.length / dim;
  // Same storage type as the table: Float32 for training, Float64 for gradient checks.
  const out = table instanceof Float64Array ? new Float64Array(ids.length * dim) : new Float32Array(ids.length * dim);
  const norms = new Float64Array(ids.length);
  const acc = new Float64Array(dim);
  ids.forEach((list, b) => {
    if (list.length === 0) throw xlError('forwardStatic', `text ${b} has no token; the tokenizer adds [CLS]/[SEP], so pass encoded ids`);
    acc.fill(0);
    for (const id of list) {
      if (!(id >= 0 && id < vocabSize)) throw xlError('forwardStatic', `text ${b}: token id ${id} is outside the table [0, ${vocabSize})`);
      const o = id * dim;
      for (let d = 0; d < dim; d++) acc[d] += table[o + d];
    }
    let ss = 0;
    for (let d = 0; d < dim; d++) {
      acc[d] /= list.length;
      ss += acc[d] * acc[d];
    }
    const norm = Math.sqrt(ss);
    norms[b] = norm;
    const inv = 1 / Math.max(norm, 1e-12);
    for (let d = 0; d < dim; d++) out[b * dim + d] = acc[d] * inv;
  });
  return { embeddings: { data: out, rows: ids.length, cols: dim }, ids, norms };
}

/**
 * Backward of {@link forwardStatic}: the sparse table gradient for dL/d(embeddings).
 *
 * @param grad `B x dim` values, dL/de for each text of the forward.
 * @throws XlalignError when `grad` has the wrong length.
 * @example const { rows, rowGrads } = backwardStatic(f, gradOfLoss);
 */
export function backwardStatic(fwd: StaticForward, grad: ArrayLike<number>): SparseRows {
  const { rows: B, cols: dim, data: e } = fwd.embeddings;
  if (grad.length !== B * dim) throw xlError('backwardStatic', `grad has ${grad.length} values, expected ${B} x ${dim}`);
  const index = new Map<number, number>();
  const rowsList: number[] = [];
  const acc: number[][] = [];
  const dm = new Float64Array(dim);
  for (let b = 0; b < B; b++) {
    const o = b * dim;
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += e[o + d] * grad[o + d];
    const inv = 1 / Math.max(fwd.norms[b], 1e-12);
    const list = fwd.ids[b];
    const scale = inv / list.length;
    for (let d = 0; d < dim; d++) dm[d] = (grad[o + d] - e[o + d] * dot) * scale;
    for (const id of list) {
      let r = index.get(id);
      if (r === undefined) {
        r = rowsList.length;
        index.set(id, r);
        rowsList.push(id);
        acc.push(new Array<number>(dim).fill(0));
      }
      const g = acc[r];
      for (let d = 0; d < dim; d++) g[d] += dm[d];
    }
  }
  const rowGrads = new Float64Array(rowsList.length * dim);
  acc.forEach((g, r) => rowGrads.set(g, r * dim));
  return { rows: Int32Array.from(rowsList), rowGrads };
}

/** Options of {@link StaticEmbeddingModel.create}. */
export interface CreateStaticOptions {
  /** Vector size. Default 256. */
  dim?: number;
  /** Seed of the initial table. Default 42. */
  seed?: number;
  /** Standard deviation of the N(0, σ²) initial entries. Default 0.1. */
  initStd?: number;
}

/** Options of {@link StaticEmbeddingModel.save}. */
export interface SaveStaticOptions {
  /** Model name in config.json. Default: the loaded name or `'xlalign-static'`. */
  name?: string;
  /** README.md (model card). Default: the loaded card or a generated one. */
  card?: string;
}

/**
 * A trainable static embedding model: table + WordPiece tokenizer, loaded from and saved
 * to the folder format of `lib/models/static/format.ts` (which transformers.js loads).
 *
 * Continue training (alignment fine-tuning):
 * @example
 * const model = StaticEmbeddingModel.load('data/models/xlalign-static-v1');
 * const opt = new AdamW({ lr: 1e-3, weightDecay: 0 });
 * const q = model.forward(['Wer schrieb Faust?']);
 * const d = model.forward(['Goethe wrote Faust.']);
 * const { loss, grads } = infoNCE(q.embeddings, d.embeddings, (i) => [i]);
 * // one optimizer step per batch: merge the sparse gradients of both sides first
 * model.step(opt, addSparse(model.dim, model.backward(q, grads.anchors), model.backward(d, grads.candidates)));
 * model.save('runs/ft/model');
 */
export class StaticEmbeddingModel {
  /** `vocabSize x dim`, row-major; updated in place by {@link step}. */
  readonly table: Float32Array;
  readonly vocabSize: number;
  readonly dim: number;
  /** The tokenizer (identical to transformers.js on the same tokenizer.json). */
  readonly tokenizer: WordPiece;
  readonly tokenizerJson: object;
  readonly tokenizerConfig: object;
  name: string;
  card: string | undefined;

  constructor(table: Float32Array, dim: number, tokenizerJsonObject: object, options: { tokenizerConfig?: object; name?: string; card?: string } = {}) {
    if (table.length % dim !== 0) throw xlError('StaticEmbeddingModel', `table length ${table.length} is not a multiple of dim ${dim}`);
    this.table = table;
    this.dim = dim;
    this.vocabSize = table.length / dim;
    this.tokenizerJson = tokenizerJsonObject;
    this.tokenizer = WordPiece.fromTokenizerJson(tokenizerJsonObject);
    if (this.tokenizer.vocab.length > this.vocabSize) {
      throw xlError('StaticEmbeddingModel', `tokenizer has ${this.tokenizer.vocab.length} tokens but the table ${this.vocabSize} rows`);
    }
    this.tokenizerConfig = options.tokenizerConfig ?? tokenizerConfigJson();
    this.name = options.name ?? 'xlalign-static';
    this.card = options.card;
  }

  /**
   * A fresh model for a vocabulary, table drawn from N(0, initStd²) with a seeded generator.
   * @example const m = StaticEmbeddingModel.create(vocab, { dim: 256, seed: 42 });
   */
  static create(vocab: readonly string[], options: CreateStaticOptions = {}): StaticEmbeddingModel {
    const { dim = 256, seed = 42, initStd = 0.1 } = options;
    if (!Number.isInteger(dim) || dim <= 0) throw xlError('StaticEmbeddingModel.create', `dim must be a positive integer, got ${dim}`);
    const rng = createRng(seed);
    const table = new Float32Array(vocab.length * dim);
    for (let i = 0; i < table.length; i++) table[i] = rng.normal() * initStd;
    return new StaticEmbeddingModel(table, dim, tokenizerJson(vocab));
  }

  /**
   * Load a model folder written by `writeStaticModel` (tokenizer must be this WordPiece kind).
   * @throws XlalignError (from readStaticModel) for a missing or broken folder.
   */
  static load(dir: string): StaticEmbeddingModel {
    const m = readStaticModel(dir);
    return new StaticEmbeddingModel(m.embeddings, m.dim, m.tokenizer, { tokenizerConfig: m.tokenizerConfig, name: m.name, card: m.card });
  }

  /** Token ids of each text (with `[CLS]`/`[SEP]`). */
  encode(texts: readonly string[]): number[][] {
    return texts.map((t) => this.tokenizer.encode(t));
  }

  /** Forward a batch of texts (keep the result for {@link backward}). */
  forward(texts: readonly string[]): StaticForward {
    return forwardStatic(this.table, this.dim, this.encode(texts));
  }

  /** Normalised vectors of texts, `texts.length x dim`, no gradient bookkeeping. */
  embed(texts: readonly string[]): Float32Array {
    return this.forward(texts).embeddings.data as Float32Array;
  }

  /** Sparse table gradient for dL/d(embeddings) of a forward. */
  backward(fwd: StaticForward, grad: ArrayLike<number>): SparseRows {
    return backwardStatic(fwd, grad);
  }

  /** One lazy-AdamW step on the rows of a sparse gradient (in place on {@link table}). */
  step(optimizer: AdamW, grad: SparseRows): void {
    optimizer.stepRows('static-embedding', this.table, this.dim, grad.rows, grad.rowGrads);
  }

  /** Write the model folder (transformers.js-loadable) with `writeStaticModel`. */
  save(dir: string, options: SaveStaticOptions = {}): void {
    writeStaticModel(dir, {
      embeddings: this.table,
      vocabSize: this.vocabSize,
      dim: this.dim,
      tokenizer: this.tokenizerJson,
      tokenizerConfig: this.tokenizerConfig,
      name: options.name ?? this.name,
      card: options.card ?? this.card,
    });
  }
}

/** Merge sparse gradients (e.g. both sides of a pair batch) into one with distinct rows. */
export function addSparse(dim: number, ...parts: SparseRows[]): SparseRows {
  const index = new Map<number, number>();
  const rows: number[] = [];
  const grads: FloatArray[] = [];
  for (const p of parts) {
    for (let r = 0; r < p.rows.length; r++) {
      const id = p.rows[r];
      let k = index.get(id);
      if (k === undefined) {
        k = rows.length;
        index.set(id, k);
        rows.push(id);
        grads.push(new Float64Array(dim));
      }
      const g = grads[k];
      for (let d = 0; d < dim; d++) g[d] += p.rowGrads[r * dim + d];
    }
  }
  const rowGrads = new Float64Array(rows.length * dim);
  grads.forEach((g, k) => rowGrads.set(g, k * dim));
  return { rows: Int32Array.from(rows), rowGrads };
}

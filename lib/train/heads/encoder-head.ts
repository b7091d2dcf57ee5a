import { xlError } from '../../util/errors.js';
import { AdamWF32 } from '../../nn/adamw-f32.js';
import { matrix, normalizeRows, normalizeRowsBackward, type Matrix } from '../../nn/matrix.js';
import type { EncoderTokens, TransformerEncoder } from '../../models/transformer/encoder.js';
import { graphParamNames } from '../../models/transformer/graph.js';
import { EMBEDDING_PARAMS, layerParamNames, param, POOLER_PARAMS } from '../../models/transformer/weights.js';
import type { TrainableHead } from '../head.js';
import type { ParallelBatch, ParallelGrads } from '../losses/types.js';
import type { TrainingSample } from '../samples.js';

const ROLES = ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const;
type Role = (typeof ROLES)[number];

/** What happens to the word-embedding table (most of a multilingual model's parameters). */
export const WORD_EMBEDDING_MODES = ['frozen', 'sparse'] as const;
export type WordEmbeddingMode = (typeof WORD_EMBEDDING_MODES)[number];

/** Options of {@link EncoderHead}; every field optional. */
export interface EncoderHeadOptions {
  /** Texts per forward/backward run of ONNX Runtime (GradCache chunk). Default 16. */
  microBatch?: number;
  /** `'frozen'` (default): the word table is not trained; `'sparse'`: the rows of each batch's tokens get lazy-AdamW steps. */
  wordEmbeddings?: WordEmbeddingMode;
  /** Train only the top N transformer layers (and the pooler); the embedding block is then frozen. Default: all layers and the embedding block (position and token-type tables, embedding LayerNorm). */
  topLayers?: number;
  /** Prepended to the two questions (e5: `'query: '`). Default: the encoder's module chain (the folder's `query` prompt or the name preset), else `''`. */
  queryPrefix?: string;
  /** Prepended to the two paragraphs (e5: `'passage: '`). Default: the encoder's module chain (`document`/`passage` prompt or the preset), else `''`. */
  passagePrefix?: string;
  /** AdamW decoupled weight decay (not on biases and LayerNorm weights). Default 0.01. */
  weightDecay?: number;
}

/**
 * {@link TrainableHead} for a transformer encoder (BERT / XLM-R), GradCache style
 * (Gao et al., "Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup",
 * RepL4NLP 2021):
 *
 * 1. `forward(batch)`: embed the 4·B texts in micro-batches with the forward-only graph (no
 *    activations kept), pool, L2-normalise -> the loss sees the whole batch (in-batch
 *    negatives over all B samples);
 * 2. `backward(grads)`: per micro-batch, recompute the forward pass and back-propagate
 *    dL/d(pooled) (through the normalisation) in one ONNX graph; parameter gradients are
 *    summed over micro-batches, so memory depends on `microBatch`, not on B;
 * 3. `step(lr)`: AdamW (float32 moments, {@link AdamWF32}) on every trainable parameter;
 *    word rows sparse (lazy Adam) when `wordEmbeddings: 'sparse'`.
 *
 * The result equals full-batch back-propagation exactly (the loss depends on the
 * parameters only through the embeddings).
 *
 * @example
 * const enc = await TransformerEncoder.load('models/e5-small', { pooling: 'mean' });
 * const head = new EncoderHead(enc, samples, { queryPrefix: 'query: ', passagePrefix: 'passage: ' });
 * const emb = await head.forward([0, 1, 2, 3]); const r = loss.forward(emb);
 * await head.backward(r.grads); await head.step(2e-5);
 */
export class EncoderHead implements TrainableHead {
  readonly optimizer: AdamWF32;
  readonly microBatch: number;
  readonly wordEmbeddings: WordEmbeddingMode;
  readonly topLayers: number;
  /** Graph parameters trained (canonical names). */
  readonly trainable: string[];
  /** Whether the position / token-type tables and embedding LayerNorm are trained. */
  readonly trainEmbeddingBlock: boolean;
  private last?: { tokens: Record<Role, EncoderTokens[]>; unit: Record<Role, Matrix>; norms: Record<Role, Float64Array> };
  private readonly acc = new Map<string, Float32Array>();
  private readonly wordAcc = new Map<number, Float32Array>();
  private readonly prefixes: Record<Role, string>;

  constructor(
    readonly encoder: TransformerEncoder,
    readonly samples: readonly TrainingSample[],
    options: EncoderHeadOptions = {},
  ) {
    const where = 'EncoderHead';
    const L = encoder.config.numLayers;
    const chain = encoder.moduleChain;
    const { microBatch = 16, wordEmbeddings = 'frozen', topLayers = L, queryPrefix = chain?.queryPrefix ?? '', passagePrefix = chain?.passagePrefix ?? '', weightDecay = 0.01 } = options;
    if (!Number.isInteger(microBatch) || microBatch < 1) throw xlError(where, `microBatch must be an integer >= 1, got ${microBatch}`);
    if (!(WORD_EMBEDDING_MODES as readonly string[]).includes(wordEmbeddings)) throw xlError(where, `unsupported wordEmbeddings '${wordEmbeddings}'; use 'frozen' or 'sparse'`);
    if (!Number.isInteger(topLayers) || topLayers < 1 || topLayers > L) throw xlError(where, `topLayers must be an integer in [1, ${L}] (the model has ${L} layers), got ${topLayers}`);
    if (topLayers < L && wordEmbeddings === 'sparse') throw xlError(where, `wordEmbeddings 'sparse' trains the embedding block, which topLayers ${topLayers} < ${L} freezes; use one or the other`);
    this.microBatch = microBatch;
    this.wordEmbeddings = wordEmbeddings;
    this.topLayers = topLayers;
    this.trainEmbeddingBlock = topLayers === L;
    this.trainable = [];
    if (this.trainEmbeddingBlock) this.trainable.push(EMBEDDING_PARAMS[3], EMBEDDING_PARAMS[4]);
    for (let i = L - topLayers; i < L; i++) this.trainable.push(...layerParamNames(i));
    if (encoder.pooling === 'pooler') this.trainable.push(...POOLER_PARAMS);
    // sentence-transformers' Dense modules after pooling train with the encoder
    for (const d of encoder.dense) this.trainable.push(d.weight, ...(d.bias ? [d.bias] : []));
    const graphNames = graphParamNames(encoder.config, encoder.pooling, encoder.dense);
    for (const t of this.trainable) if (!graphNames.includes(t)) throw xlError(where, `internal: '${t}' is not a graph parameter`);
    this.optimizer = new AdamWF32({ lr: 1e-5, weightDecay });
    this.prefixes = { queryPivot: queryPrefix, queryTarget: queryPrefix, docPivot: passagePrefix, docTarget: passagePrefix };
    this.promptTokens = { queryPivot: encoder.promptTokens(queryPrefix), queryTarget: encoder.promptTokens(queryPrefix), docPivot: encoder.promptTokens(passagePrefix), docTarget: encoder.promptTokens(passagePrefix) };
  }
  /** Leading positions kept out of pooling per role (`include_prompt: false`). */
  private readonly promptTokens: Record<Role, number>;

  /** Normalised embeddings of the batch's four texts per sample (no activations kept). */
  async forward(batch: readonly number[]): Promise<ParallelBatch> {
    for (const i of batch) if (!Number.isInteger(i) || i < 0 || i >= this.samples.length) throw xlError('EncoderHead.forward', `sample index ${i} is outside [0, ${this.samples.length})`);
    const H = this.encoder.outDim;
    const tokens = {} as Record<Role, EncoderTokens[]>;
    const unit = {} as Record<Role, Matrix>;
    const norms = {} as Record<Role, Float64Array>;
    for (const role of ROLES) {
      const texts = batch.map((i) => this.prefixes[role] + this.samples[i][role]);
      tokens[role] = [];
      const m = matrix(batch.length, H);
      for (let s = 0; s < texts.length; s += this.microBatch) {
        const tok = this.encoder.tokenize(texts.slice(s, s + this.microBatch), this.promptTokens[role]);
        tokens[role].push(tok);
        m.data.set((await this.encoder.forward(tok)).pooled, s * H);
      }
      norms[role] = normalizeRows(m);
      unit[role] = m;
    }
    this.last = { tokens, unit, norms };
    return { queryPivot: unit.queryPivot, queryTarget: unit.queryTarget, docPivot: unit.docPivot, docTarget: unit.docTarget };
  }

  /** Recompute each micro-batch and accumulate parameter gradients for dL/d(embeddings). */
  async backward(grads: ParallelGrads): Promise<void> {
    if (!this.last) throw xlError('EncoderHead.backward', 'no forward to go back through; call forward(batch) first');
    const H = this.encoder.outDim;
    for (const role of ROLES) {
      const dPooled = normalizeRowsBackward(grads[role], this.last.unit[role], this.last.norms[role]);
      let row = 0;
      for (const tok of this.last.tokens[role]) {
        const g = Float32Array.from(dPooled.subarray(row * H, (row + tok.batch) * H));
        row += tok.batch;
        const r = await this.encoder.backward(tok, g, this.trainable, this.trainEmbeddingBlock);
        for (const [name, grad] of r.params) addInto(this.accFor(name, grad.length), grad);
        if (r.inputsEmbeds) {
          const e = this.encoder.scatterEmbeddingGrads(tok, r.inputsEmbeds);
          addInto(this.accFor(EMBEDDING_PARAMS[1], e.position.length), e.position);
          addInto(this.accFor(EMBEDDING_PARAMS[2], e.tokenType.length), e.tokenType);
          if (this.wordEmbeddings === 'sparse') {
            e.wordRows.forEach((id, j) => {
              let a = this.wordAcc.get(id);
              if (!a) this.wordAcc.set(id, (a = new Float32Array(H)));
              addInto(a, e.wordGrads.subarray(j * H, (j + 1) * H));
            });
          }
        }
      }
    }
  }

  private accFor(name: string, n: number): Float32Array {
    let a = this.acc.get(name);
    if (!a) this.acc.set(name, (a = new Float32Array(n)));
    return a;
  }

  /** AdamW at learning rate `lr` on the accumulated gradients, then clear them. */
  async step(lr: number): Promise<void> {
    this.optimizer.lr = lr;
    const w = this.encoder.weights;
    for (const [name, g] of this.acc) {
      this.optimizer.step(name, param(w, name), g, noDecay(name) ? 0 : this.optimizer.weightDecay);
      g.fill(0);
    }
    if (this.wordAcc.size > 0) {
      const rows = [...this.wordAcc.keys()].sort((a, b) => a - b);
      const H = this.encoder.dim;
      const g = new Float32Array(rows.length * H);
      rows.forEach((id, j) => g.set(this.wordAcc.get(id)!, j * H));
      this.optimizer.stepRows(EMBEDDING_PARAMS[0], param(w, EMBEDDING_PARAMS[0]), H, rows, g);
      this.wordAcc.clear();
    }
  }

  getConfig(): Record<string, unknown> {
    const c = this.encoder.config;
    return {
      head: 'encoder',
      modelType: c.modelType,
      layers: c.numLayers,
      hidden: c.hiddenSize,
      pooling: this.encoder.pooling,
      ...(this.encoder.dense.length ? { dense: this.encoder.dense.map((d) => ({ weight: d.weight, out: d.out, activation: d.activation, bias: d.bias !== undefined })) } : {}),
      ...(this.encoder.includePrompt ? {} : { includePrompt: false }),
      maxLength: this.encoder.maxLength,
      microBatch: this.microBatch,
      wordEmbeddings: this.wordEmbeddings,
      topLayers: this.topLayers,
      queryPrefix: this.prefixes.queryPivot,
      passagePrefix: this.prefixes.docPivot,
      optimizer: this.optimizer.getConfig(),
    };
  }
}

/** Biases and LayerNorm weights take no weight decay (Hugging Face's `no_decay = ['bias', 'LayerNorm.weight']`). */
function noDecay(name: string): boolean {
  return name.endsWith('.bias') || name.endsWith('LayerNorm.weight');
}

function addInto(acc: Float32Array, g: ArrayLike<number>): void {
  for (let i = 0; i < acc.length; i++) acc[i] += g[i];
}

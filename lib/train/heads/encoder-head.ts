import { xlError } from '../../util/errors.js';
import { AdamWF32 } from '../../nn/adamw-f32.js';
import { matrix, normalizeRows, normalizeRowsBackward, type Matrix } from '../../nn/matrix.js';
import type { EncoderTokens, KeptActivations, TransformerEncoder } from '../../models/transformer/encoder.js';
import { embeddingNames, loraLayerParamNames, rotaryLayerParamNames } from '../../models/transformer/families.js';
import { graphParamNames } from '../../models/transformer/graph.js';
import { estimateActivationBytes, RUN_PEAK_FACTOR, rowsPerRun } from '../../models/transformer/memory.js';
import { layerParamNames, param, POOLER_PARAMS } from '../../models/transformer/weights.js';
import type { TrainableHead } from '../head.js';
import type { ParallelBatch, ParallelGrads } from '../losses/types.js';
import type { TrainingSample } from '../samples.js';

const ROLES = ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const;
type Role = (typeof ROLES)[number];

/** What happens to the word-embedding table (most of a multilingual model's parameters). */
export const WORD_EMBEDDING_MODES = ['frozen', 'sparse'] as const;
export type WordEmbeddingMode = (typeof WORD_EMBEDDING_MODES)[number];

/**
 * What a model with task LoRA adapters (jina-embeddings-v3) trains: `'adapters'` (its default)
 * the adapters of the retrieval tasks (`retrieval.query` through the queries,
 * `retrieval.passage` through the passages) in every linear layer, all else frozen, as Jina
 * trained them (`lora_main_params_trainable: false`): ~1 % of the parameters, AdamW state
 * to match, and the other tasks (classification, separation, text-matching) keep the weights
 * they were trained with; `'full'`: every parameter, as for the other families (the shared
 * weights move under all five tasks' adapters). Models without adapters train `'full'`.
 */
export const ENCODER_TRAIN_MODES = ['full', 'adapters'] as const;
export type EncoderTrainMode = (typeof ENCODER_TRAIN_MODES)[number];

/** Options of {@link EncoderHead}; every field optional. */
export interface EncoderHeadOptions {
  /** Texts per forward/backward run of ONNX Runtime (GradCache chunk); fewer where the encoder's `runBudgetMiB` allows fewer at that length. Default 16. */
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
  /** Models with task adapters: `'adapters'` (default) or `'full'`; see {@link ENCODER_TRAIN_MODES}. */
  train?: EncoderTrainMode;
  /**
   * Activations kept between `forward` and `backward` (MiB, estimated by `estimateActivationBytes`).
   * Micro-batches whose activations fit (in order, while the running total stays under it,
   * and each under the encoder's run budget) run forward once, keeping what the backward
   * reads; the rest are recomputed in `backward` (GradCache). Both give the same gradients.
   * 0 = always recompute. Default 2048.
   */
  keepBudgetMiB?: number;
  /** Sort each role's texts by token count before cutting micro-batches, so that texts of similar length share one (less padding). Default true. */
  sortByLength?: boolean;
}

/** Counters of an {@link EncoderHead} since it was built. */
export interface EncoderHeadStats {
  /** Token slots run (texts x padded length, summed over micro-batches). */
  tokenSlots: number;
  /** Of which padding. */
  paddingSlots: number;
  /** Micro-batches whose activations were kept (one forward). */
  keptRuns: number;
  /** Micro-batches recomputed in the backward (GradCache). */
  recomputedRuns: number;
}

interface Chunk {
  tok: EncoderTokens;
  /** Row of each text in the batch (role order). */
  rows: number[];
  kept?: KeptActivations;
}

/**
 * {@link TrainableHead} for a transformer encoder (BERT / XLM-R), GradCache style
 * (Gao et al., "Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup",
 * RepL4NLP 2021):
 *
 * 1. `forward(batch)`: embed the 4·B texts in micro-batches (each role's texts sorted by
 *    length, so a micro-batch pads little; at most `microBatch` texts and one run's budget),
 *    pool, L2-normalise -> the loss sees the whole batch (in-batch negatives over all B
 *    samples). Micro-batches whose activations fit `keepBudgetMiB` run the forward half of
 *    the training graph and keep what the backward reads; the others run the forward-only
 *    graph (no activations kept);
 * 2. `backward(grads)`: per micro-batch, back-propagate dL/d(pooled) (through the
 *    normalisation) from the kept activations (one pass in all), or recompute the forward
 *    and back-propagate in one ONNX graph (GradCache's second pass); parameter gradients are
 *    summed over micro-batches, so memory depends on the budgets, not on B;
 * 3. `step(lr)`: AdamW (float32 moments, {@link AdamWF32}) on every trainable parameter;
 *    word rows sparse (lazy Adam) when `wordEmbeddings: 'sparse'`.
 *
 * Both paths give full-batch back-propagation's gradients (the loss depends on the
 * parameters only through the embeddings; up to float32 rounding: test/models/transformer/memory.test.ts).
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
  /** `'adapters'` (task LoRA only) or `'full'`. */
  readonly train: EncoderTrainMode;
  /** Whether the embedding tables' LoRA factors of the retrieval tasks are trained (`'adapters'` with all layers). */
  readonly trainEmbeddingLora: boolean;
  readonly keepBudgetMiB: number;
  readonly sortByLength: boolean;
  readonly stats: EncoderHeadStats = { tokenSlots: 0, paddingSlots: 0, keptRuns: 0, recomputedRuns: 0 };
  private last?: { chunks: Record<Role, Chunk[]>; unit: Record<Role, Matrix>; norms: Record<Role, Float64Array> };
  private readonly acc = new Map<string, Float32Array>();
  private readonly wordAcc = new Map<number, Float32Array>();
  /** Word-table LoRA `lora_A` rows per task (sparse, as the word rows). */
  private readonly wordLoraAcc = new Map<number, Map<number, Float32Array>>();
  private readonly prefixes: Record<Role, string>;

  constructor(
    readonly encoder: TransformerEncoder,
    readonly samples: readonly TrainingSample[],
    options: EncoderHeadOptions = {},
  ) {
    const where = 'EncoderHead';
    const L = encoder.config.numLayers;
    const c = encoder.config;
    const chain = encoder.moduleChain;
    const { microBatch = 16, wordEmbeddings = 'frozen', topLayers = L, queryPrefix = chain?.queryPrefix ?? '', passagePrefix = chain?.passagePrefix ?? '', weightDecay = 0.01, train = c.lora ? 'adapters' : 'full', keepBudgetMiB = 2048, sortByLength = true } = options;
    if (!(ENCODER_TRAIN_MODES as readonly string[]).includes(train)) throw xlError(where, `unsupported train '${train}'; use 'full' or 'adapters'`);
    if (train === 'adapters' && !c.lora) throw xlError(where, `train 'adapters' needs a model with task LoRA adapters (jina-embeddings-v3); model_type '${c.modelType}' has none: use 'full'`);
    if (train === 'adapters' && wordEmbeddings === 'sparse') throw xlError(where, `wordEmbeddings 'sparse' trains the word table, which train 'adapters' freezes; use one or the other`);
    if (!(keepBudgetMiB >= 0)) throw xlError(where, `keepBudgetMiB must be >= 0, got ${keepBudgetMiB}`);
    this.keepBudgetMiB = keepBudgetMiB;
    this.sortByLength = sortByLength;
    if (!Number.isInteger(microBatch) || microBatch < 1) throw xlError(where, `microBatch must be an integer >= 1, got ${microBatch}`);
    if (!(WORD_EMBEDDING_MODES as readonly string[]).includes(wordEmbeddings)) throw xlError(where, `unsupported wordEmbeddings '${wordEmbeddings}'; use 'frozen' or 'sparse'`);
    if (!Number.isInteger(topLayers) || topLayers < 1 || topLayers > L) throw xlError(where, `topLayers must be an integer in [1, ${L}] (the model has ${L} layers), got ${topLayers}`);
    if (topLayers < L && wordEmbeddings === 'sparse') throw xlError(where, `wordEmbeddings 'sparse' trains the embedding block, which topLayers ${topLayers} < ${L} freezes; use one or the other`);
    this.microBatch = microBatch;
    this.wordEmbeddings = wordEmbeddings;
    this.topLayers = topLayers;
    this.train = train;
    this.trainEmbeddingBlock = topLayers === L && train === 'full';
    this.trainEmbeddingLora = topLayers === L && train === 'adapters';
    this.trainable = [];
    const e = embeddingNames(c);
    if (this.trainEmbeddingBlock) this.trainable.push(e.lnWeight, e.lnBias);
    for (let i = L - topLayers; i < L; i++) {
      if (train === 'adapters') this.trainable.push(...loraLayerParamNames(c, i));
      else this.trainable.push(...(c.layout === 'bert' ? layerParamNames(i) : rotaryLayerParamNames(c, i)));
    }
    if (encoder.pooling === 'pooler' && train === 'full') this.trainable.push(...POOLER_PARAMS);
    // sentence-transformers' Dense modules after pooling train with the encoder (train 'full'; 'adapters' trains the task adapters only)
    if (train === 'full') for (const d of encoder.dense) this.trainable.push(d.weight, ...(d.bias ? [d.bias] : []));
    const graphNames = graphParamNames(encoder.config, encoder.pooling, encoder.dense);
    for (const t of this.trainable) if (!graphNames.includes(t)) throw xlError(where, `internal: '${t}' is not a graph parameter`, { kind: 'internal' });
    this.optimizer = new AdamWF32({ lr: 1e-5, weightDecay });
    this.prefixes = { queryPivot: queryPrefix, queryTarget: queryPrefix, docPivot: passagePrefix, docTarget: passagePrefix };
    this.promptTokens = { queryPivot: encoder.promptTokens(queryPrefix), queryTarget: encoder.promptTokens(queryPrefix), docPivot: encoder.promptTokens(passagePrefix), docTarget: encoder.promptTokens(passagePrefix) };
  }
  /** Whether a backward also returns dL/d(inputs_embeds) (for the embedding block or the embedding tables' LoRA factors). */
  private get embeddingsGrad(): boolean {
    return this.trainEmbeddingBlock || this.trainEmbeddingLora;
  }
  /** Leading positions kept out of pooling per role (`include_prompt: false`). */
  private readonly promptTokens: Record<Role, number>;

  /** Normalised embeddings of the batch's four texts per sample (activations kept within `keepBudgetMiB`, see the options). */
  async forward(batch: readonly number[]): Promise<ParallelBatch> {
    for (const i of batch) if (!Number.isInteger(i) || i < 0 || i >= this.samples.length) throw xlError('EncoderHead.forward', `sample index ${i} is outside [0, ${this.samples.length})`);
    this.last = undefined; // drop activations kept by a forward never followed by a backward
    const H = this.encoder.outDim;
    const chunks = {} as Record<Role, Chunk[]>;
    const unit = {} as Record<Role, Matrix>;
    const norms = {} as Record<Role, Float64Array>;
    let keptBytes = 0;
    const budget = this.keepBudgetMiB * 2 ** 20;
    const runBudget = this.encoder.runBudgetMiB * 2 ** 20;
    for (const role of ROLES) {
      chunks[role] = this.microBatches(batch.map((i) => this.prefixes[role] + this.samples[i][role]), role.startsWith('query') ? 'query' : 'passage', this.promptTokens[role]);
      const m = matrix(batch.length, H);
      for (const c of chunks[role]) {
        const est = estimateActivationBytes(this.encoder.config, c.tok.batch, c.tok.seq);
        const peak = RUN_PEAK_FACTOR * est;
        let pooled: Float32Array;
        if (budget > 0 && peak <= runBudget && keptBytes + est <= budget) {
          const r = await this.encoder.forwardKeep(c.tok, this.trainable, this.embeddingsGrad);
          c.kept = r.kept;
          keptBytes += est;
          pooled = r.pooled;
        } else {
          pooled = (await this.encoder.forward(c.tok)).pooled;
        }
        c.rows.forEach((row, j) => m.data.set(pooled.subarray(j * H, (j + 1) * H), row * H));
      }
      norms[role] = normalizeRows(m);
      unit[role] = m;
    }
    this.last = { chunks, unit, norms };
    return { queryPivot: unit.queryPivot, queryTarget: unit.queryTarget, docPivot: unit.docPivot, docTarget: unit.docTarget };
  }

  /** Tokenize `texts` and cut them into micro-batches (by token count when `sortByLength`), each padded to its own longest text. */
  private microBatches(texts: string[], kind: 'query' | 'passage', promptTokens: number): Chunk[] {
    const all = this.encoder.tokenize(texts, kind, promptTokens);
    const T = all.seq;
    const len = (r: number) => {
      let n = 0;
      for (let t = 0; t < T; t++) n += all.mask[r * T + t] !== 0n ? 1 : 0;
      return n;
    };
    const lengths = texts.map((_, r) => len(r));
    const order = texts.map((_, r) => r);
    if (this.sortByLength) order.sort((a, b) => lengths[b] - lengths[a] || a - b);
    const out: Chunk[] = [];
    for (let s = 0; s < order.length; ) {
      // at most microBatch texts, and no more than one run's budget allows at this length
      const first = Math.max(...order.slice(s, s + this.microBatch).map((r) => lengths[r]));
      const n = Math.min(this.microBatch, rowsPerRun(this.encoder.config, first, this.encoder.runBudgetMiB));
      const rows = order.slice(s, s + n);
      s += n;
      const seq = Math.max(...rows.map((r) => lengths[r]));
      const ids = new Int32Array(rows.length * seq);
      const mask = new BigInt64Array(rows.length * seq);
      rows.forEach((r, j) => {
        ids.set(all.ids.subarray(r * T, r * T + seq), j * seq);
        mask.set(all.mask.subarray(r * T, r * T + seq), j * seq);
      });
      const tok: EncoderTokens = { ...this.encoder.fromIds(ids, mask, rows.length, seq, all.task), promptTokens };
      this.stats.tokenSlots += rows.length * seq;
      this.stats.paddingSlots += rows.reduce((a, r) => a + seq - lengths[r], 0);
      out.push({ tok, rows });
    }
    return out;
  }

  /** Back-propagate each micro-batch (from its kept activations, or recomputing its forward) and accumulate parameter gradients for dL/d(embeddings). */
  async backward(grads: ParallelGrads): Promise<void> {
    if (!this.last) throw xlError('EncoderHead.backward', 'no forward to go back through; call forward(batch) first');
    const H = this.encoder.outDim;
    for (const role of ROLES) {
      const dPooled = normalizeRowsBackward(grads[role], this.last.unit[role], this.last.norms[role]);
      for (const c of this.last.chunks[role]) {
        const g = new Float32Array(c.rows.length * H);
        c.rows.forEach((row, j) => {
          for (let d = 0; d < H; d++) g[j * H + d] = dPooled[row * H + d];
        });
        if (c.kept) this.stats.keptRuns++;
        else this.stats.recomputedRuns++;
        // (a LoRA factor's gradient is for the micro-batch's task: summed under `name@task`)
        const dEmb = await this.encoder.backwardInto(c.tok, g, this.trainable, this.embeddingsGrad, this.acc, c.kept);
        c.kept = undefined; // a second backward of the same forward recomputes
        if (dEmb) {
          const tok = c.tok;
          const e = this.encoder.scatterEmbeddingGrads(tok, dEmb);
          const names = embeddingNames(this.encoder.config);
          if (names.position) addInto(this.accFor(names.position, e.position.length), e.position);
          if (this.trainEmbeddingLora && e.lora && names.wordLora && names.tokenTypeLora) {
            const t = tok.task!;
            addInto(this.accFor(`${names.wordLora.b}@${t}`, e.lora.wordB.length), e.lora.wordB);
            addInto(this.accFor(`${names.tokenTypeLora.a}@${t}`, e.lora.typeA.length), e.lora.typeA);
            addInto(this.accFor(`${names.tokenTypeLora.b}@${t}`, e.lora.typeB.length), e.lora.typeB);
            let rows = this.wordLoraAcc.get(t);
            if (!rows) this.wordLoraAcc.set(t, (rows = new Map()));
            const rank = this.encoder.config.lora!.rank;
            e.wordRows.forEach((id, j) => {
              let a = rows!.get(id);
              if (!a) rows!.set(id, (a = new Float32Array(rank)));
              addInto(a, e.lora!.wordA.subarray(j * rank, (j + 1) * rank));
            });
            continue;
          }
          if (names.tokenType) addInto(this.accFor(names.tokenType, e.tokenType.length), e.tokenType);
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

  /** The gradients accumulated since the last `step` (by parameter name; word rows not included). For tests. */
  accumulatedGradients(): ReadonlyMap<string, Float32Array> {
    return this.acc;
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
      const word = embeddingNames(this.encoder.config).word;
      this.optimizer.stepRows(word, param(w, word), H, rows, g);
      this.wordAcc.clear();
    }
    for (const [t, acc] of this.wordLoraAcc) {
      // The word table's LoRA A of task t: lazy Adam on the rows the batches used, as the word rows.
      const name = `${embeddingNames(this.encoder.config).wordLora!.a}@${t}`;
      const rank = this.encoder.config.lora!.rank;
      const rows = [...acc.keys()].sort((a, b) => a - b);
      const g = new Float32Array(rows.length * rank);
      rows.forEach((id, j) => g.set(acc.get(id)!, j * rank));
      this.optimizer.stepRows(name, param(w, name), rank, rows, g);
    }
    this.wordLoraAcc.clear();
  }

  getConfig(): Record<string, unknown> {
    const c = this.encoder.config;
    return {
      head: 'encoder',
      modelType: c.modelType,
      layout: c.layout,
      train: this.train,
      layers: c.numLayers,
      hidden: c.hiddenSize,
      pooling: this.encoder.pooling,
      ...(this.encoder.dense.length ? { dense: this.encoder.dense.map((d) => ({ weight: d.weight, out: d.out, activation: d.activation, bias: d.bias !== undefined })) } : {}),
      ...(this.encoder.includePrompt ? {} : { includePrompt: false }),
      maxLength: this.encoder.maxLength,
      microBatch: this.microBatch,
      sortByLength: this.sortByLength,
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
  return name.endsWith('.bias') || /(LayerNorm|_ln|norm\d)\.weight$/.test(name);
}

function addInto(acc: Float32Array, g: ArrayLike<number>): void {
  for (let i = 0; i < acc.length; i++) acc[i] += g[i];
}

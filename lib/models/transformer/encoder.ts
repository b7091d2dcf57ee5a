/**
 * A BERT / XLM-R encoder that runs forward and backward on ONNX Runtime in graphs built by
 * {@link buildTrainGraph}. Parameters live in JavaScript (views of the safetensors tensors)
 * and are fed to every run, so an optimizer step needs no graph rebuild.
 *
 * The three embedding tables are read in JavaScript (a row lookup per token): the graph
 * starts at `inputs_embeds` and returns dL/d(inputs_embeds), which is scattered into the
 * word rows of the batch (sparse update of the 250k-row table), the position rows and the
 * token-type rows.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { tokenizeBatch } from '../../embed/tokenize-batch.js';
import { checkDevice, trainingSessionOptions, type OrtDevice } from '../../nn/ort-device.js';
import { checkOneOf, xlError } from '../../util/errors.js';
import { positionIds, type EncoderConfig } from './config.js';
import { buildSplitTrainGraphs, buildTrainGraph, ENCODER_POOLINGS, graphParamNames, type EncoderPooling } from './graph.js';
import { DEFAULT_RUN_BUDGET_MIB, rowsPerRun } from './memory.js';
import { EMBEDDING_PARAMS, hasPooler, param, paramShapes, readEncoderWeights, type EncoderWeights } from './weights.js';

/** Options of {@link TransformerEncoder.load}. */
export interface EncoderOptions {
  /** Pooling of the token vectors. Default `'mean'`. `'pooler'` needs pooler weights. */
  pooling?: EncoderPooling;
  /** Tokens kept per text (special tokens kept). Default: min(tokenizer model_max_length, positions the family allows, 512). */
  maxLength?: number;
  /** ONNX Runtime intra-op threads. Default: all cores (`os.availableParallelism()`). */
  threads?: number;
  /** `'cpu'` (default) or `'cuda'` (ONNX Runtime's CUDA execution provider; checked at construction, see `lib/nn/ort-device.ts`). */
  device?: OrtDevice;
  /** Activation memory of one ONNX Runtime training run (MiB, estimated by `memory.ts`): a backward over more texts runs in row chunks under it, gradients summed. Default 512. */
  runBudgetMiB?: number;
}

/** Activations of one forward run kept for its backward ({@link TransformerEncoder.forwardKeep}). */
export interface KeptActivations {
  tok: EncoderTokens;
  key: string;
  values: Record<string, ort.Tensor>;
  /** Their size in bytes. */
  bytes: number;
}

/** A tokenized, right-padded batch. */
export interface EncoderTokens {
  batch: number;
  seq: number;
  /** `batch x seq` token ids. */
  ids: Int32Array;
  /** `batch x seq` 1 at tokens, 0 at padding. */
  mask: BigInt64Array;
  /** `batch x seq` position ids (family rule). */
  positions: Int32Array;
}

/** Gradients of one backward run. */
export interface EncoderGrads {
  /** dL/d(param) for each trainable graph parameter (canonical name). */
  params: Map<string, Float32Array>;
  /** dL/d(inputs_embeds), `batch·seq x hidden`, when embedding gradients were asked for. */
  inputsEmbeds?: Float32Array;
}

/** A loaded encoder: config, weights, tokenizer, and lazily created ONNX Runtime sessions. */
export class TransformerEncoder {
  readonly config: EncoderConfig;
  readonly shapes: Map<string, number[]>;
  readonly pooling: EncoderPooling;
  readonly maxLength: number;
  readonly threads: number;
  readonly device: OrtDevice;
  readonly runBudgetMiB: number;
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  /** One ort.Tensor per graph parameter, over the weights' own Float32Array (no copy: the binding hands ONNX Runtime that memory; an optimizer step writes it in place). */
  private readonly paramTensors = new Map<string, ort.Tensor>();
  /** Preallocated gradient outputs (ONNX Runtime writes into them; reused by every backward run). */
  private readonly gradOut = new Map<string, ort.Tensor>();
  /** Forward/backward halves of the training graph, by trainable set ({@link forwardKeep}). */
  private readonly split = new Map<string, { key: string; forward: Promise<ort.InferenceSession>; backward: Promise<ort.InferenceSession>; saved: string[] }>();

  constructor(
    readonly weights: EncoderWeights,
    readonly tokenizer: PreTrainedTokenizer | undefined,
    readonly sourceDir: string,
    options: EncoderOptions = {},
  ) {
    const where = 'TransformerEncoder';
    this.config = weights.config;
    this.shapes = paramShapes(this.config);
    this.pooling = checkOneOf(where, 'pooling', options.pooling ?? 'mean', ENCODER_POOLINGS);
    if (this.pooling === 'pooler' && !hasPooler(weights)) throw xlError(where, `pooling 'pooler' needs pooler.dense.* in ${sourceDir}/model.safetensors; use 'mean' or 'cls'`);
    const c = this.config;
    const familyMax = c.modelType === 'bert' ? c.maxPositions : c.maxPositions - c.padTokenId - 1;
    const tokMax = Number((tokenizer as unknown as { model_max_length?: number } | undefined)?.model_max_length);
    const dflt = Math.min(512, familyMax, Number.isInteger(tokMax) && tokMax > 0 ? tokMax : Infinity);
    this.maxLength = options.maxLength ?? dflt;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2 || this.maxLength > familyMax) {
      throw xlError(where, `maxLength must be an integer in [2, ${familyMax}] (max_position_embeddings ${c.maxPositions} for model_type '${c.modelType}'), got ${this.maxLength}`);
    }
    this.threads = options.threads ?? availableParallelism();
    this.device = checkDevice(where, options.device ?? 'cpu');
    this.runBudgetMiB = options.runBudgetMiB ?? DEFAULT_RUN_BUDGET_MIB;
    if (!(this.runBudgetMiB > 0)) throw xlError(where, `runBudgetMiB must be > 0, got ${this.runBudgetMiB}`);
  }

  /**
   * Load a model folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json).
   * @throws XlalignError as {@link readEncoderWeights}, or when the tokenizer cannot be loaded.
   * @example const enc = await TransformerEncoder.load('models/tiny-bert'); const v = await enc.embed(['hello']);
   */
  static async load(dir: string, options: EncoderOptions = {}): Promise<TransformerEncoder> {
    const root = resolve(dir);
    const weights = readEncoderWeights(root);
    let tokenizer: PreTrainedTokenizer;
    try {
      tokenizer = await AutoTokenizer.from_pretrained(root, { local_files_only: true });
    } catch (e) {
      throw xlError('TransformerEncoder.load', `cannot load the tokenizer of ${root} (tokenizer.json, tokenizer_config.json): ${(e as Error).message}`, { cause: e });
    }
    return new TransformerEncoder(weights, tokenizer, root, options);
  }

  /** Hidden size (= pooled vector size). */
  get dim(): number {
    return this.config.hiddenSize;
  }

  /** Tokenize `texts` (special tokens kept on truncation, right padding; see `tokenizeBatch`). */
  tokenize(texts: readonly string[]): EncoderTokens {
    if (!this.tokenizer) throw xlError('TransformerEncoder.tokenize', 'this encoder was created without a tokenizer; pass token ids with fromIds');
    const enc = tokenizeBatch(this.tokenizer, texts, { maxLength: this.maxLength });
    const [batch, seq] = enc.input_ids.dims as number[];
    const ids = Int32Array.from(enc.input_ids.data as BigInt64Array, (v) => Number(v));
    return this.fromIds(ids, enc.attention_mask.data as BigInt64Array, batch, seq);
  }

  /** A batch from padded ids and mask (`batch x seq`, row-major). */
  fromIds(ids: Int32Array, mask: BigInt64Array, batch: number, seq: number): EncoderTokens {
    const positions = new Int32Array(batch * seq);
    for (let b = 0; b < batch; b++) positionIds(this.config, ids.subarray(b * seq, (b + 1) * seq), positions.subarray(b * seq, (b + 1) * seq));
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= this.config.vocabSize) throw xlError('TransformerEncoder', `token id ${ids[i]} is outside the vocabulary [0, ${this.config.vocabSize})`);
    }
    return { batch, seq, ids, mask, positions };
  }

  /** word(id) + token_type(0) + position(pos) per token, `batch·seq x hidden` float32 (summed in that order, as the export graph does). */
  inputsEmbeds(tok: EncoderTokens): Float32Array {
    const H = this.dim;
    const word = param(this.weights, EMBEDDING_PARAMS[0]);
    const pos = param(this.weights, EMBEDDING_PARAMS[1]);
    const type = param(this.weights, EMBEDDING_PARAMS[2]);
    const out = new Float32Array(tok.ids.length * H);
    for (let i = 0; i < tok.ids.length; i++) {
      const w = tok.ids[i] * H;
      const p = tok.positions[i] * H;
      const o = i * H;
      for (let d = 0; d < H; d++) {
        out[o + d] = word[w + d] + type[d];
        out[o + d] += pos[p + d];
      }
    }
    return out;
  }

  /** The pooling matrix `batch x (batch·seq)`: mask/count per row for 'mean', a one at each row's first token otherwise. */
  poolMatrix(tok: EncoderTokens): Float32Array {
    const { batch, seq, mask } = tok;
    const M = batch * seq;
    const p = new Float32Array(batch * M);
    for (let b = 0; b < batch; b++) {
      if (this.pooling !== 'mean') {
        p[b * M + b * seq] = 1;
        continue;
      }
      let n = 0;
      for (let t = 0; t < seq; t++) n += Number(mask[b * seq + t]);
      for (let t = 0; t < seq; t++) if (mask[b * seq + t]) p[b * M + b * seq + t] = 1 / n;
    }
    return p;
  }

  private session(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(build(), trainingSessionOptions(this.threads, this.device));
      this.sessions.set(key, s);
    }
    return s;
  }

  private feeds(tok: EncoderTokens, names: string[]): Record<string, ort.Tensor> {
    const H = this.dim;
    const M = tok.batch * tok.seq;
    const f: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', this.inputsEmbeds(tok), [M, H]),
      attention_mask: new ort.Tensor('int64', tok.mask, [tok.batch, tok.seq]),
      pool: new ort.Tensor('float32', this.poolMatrix(tok), [tok.batch, M]),
    };
    for (const n of names) f[n] = this.paramTensor(n);
    return f;
  }

  private paramTensor(n: string): ort.Tensor {
    const data = param(this.weights, n);
    let t = this.paramTensors.get(n);
    // re-wrap if the weights' array was replaced (e.g. a reload into the same encoder)
    if (!t || t.data !== data) this.paramTensors.set(n, (t = new ort.Tensor('float32', data, this.shapes.get(n)!)));
    return t;
  }

  /** Pooled vectors (`batch x hidden`, not normalised) and the last hidden state (`batch·seq x hidden`). */
  async forward(tok: EncoderTokens): Promise<{ pooled: Float32Array; lastHidden: Float32Array }> {
    const names = graphParamNames(this.config, this.pooling);
    const s = await this.session('forward', () => buildTrainGraph(this.config, { pooling: this.pooling, shapes: this.shapes }));
    const out = await s.run(this.feeds(tok, names));
    return { pooled: out.pooled.data as Float32Array, lastHidden: out.last_hidden_state.data as Float32Array };
  }

  /** Pooled vectors of `texts` (`texts.length x hidden`, not normalised). */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    return (await this.forward(this.tokenize(texts))).pooled;
  }

  /**
   * Recompute the forward pass of `tok` and back-propagate `gradPooled` (dL/d pooled, `batch x hidden`).
   * @param trainable  graph parameters to differentiate (canonical names of {@link graphParamNames}).
   * @param embeddingsGrad  also return dL/d(inputs_embeds).
   * The parameter gradients are written into arrays this encoder reuses: the next `backward` overwrites them (add them into a sum first).
   */
  async backward(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean): Promise<EncoderGrads> {
    this.checkBackward(tok, gradPooled, trainable);
    if (tok.batch > rowsPerRun(this.config, tok.seq, this.runBudgetMiB)) {
      const params = new Map<string, Float32Array>();
      const inputsEmbeds = await this.backwardInto(tok, gradPooled, trainable, embeddingsGrad, params);
      return { params, inputsEmbeds };
    }
    return this.backwardRun(tok, gradPooled, trainable, embeddingsGrad);
  }

  private checkBackward(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[]): void {
    const names = graphParamNames(this.config, this.pooling);
    for (const t of trainable) if (!names.includes(t)) throw xlError('TransformerEncoder.backward', `'${t}' is not a graph parameter of this encoder`);
    if (gradPooled.length !== tok.batch * this.dim) throw xlError('TransformerEncoder.backward', `gradPooled has ${gradPooled.length} values; expected ${tok.batch} x ${this.dim}`);
  }

  /**
   * Like {@link backward}, but adds the parameter gradients into `acc` (created per name when
   * missing), running the rows of `tok` in chunks of at most `rowsPerRun` texts (the run
   * budget) or, with `kept` from {@link forwardKeep} on the same `tok`, one backward-only run
   * with no recomputation. Returns dL/d(inputs_embeds) (`batch·seq x hidden`) when asked for.
   */
  async backwardInto(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean, acc: Map<string, Float32Array>, kept?: KeptActivations): Promise<Float32Array | undefined> {
    this.checkBackward(tok, gradPooled, trainable);
    const add = (params: Map<string, Float32Array>) => {
      for (const [n, g] of params) {
        let a = acc.get(n);
        if (!a) acc.set(n, (a = new Float32Array(g.length)));
        for (let i = 0; i < a.length; i++) a[i] += g[i];
      }
    };
    if (kept) {
      if (kept.tok !== tok || kept.key !== this.trainKey(trainable, embeddingsGrad)) throw xlError('TransformerEncoder.backwardInto', 'kept activations are of another batch or another set of trainable parameters');
      const r = await this.backwardKept(kept, gradPooled, trainable, embeddingsGrad);
      add(r.params);
      return r.inputsEmbeds;
    }
    const H = this.dim;
    const rows = rowsPerRun(this.config, tok.seq, this.runBudgetMiB);
    const dEmb = embeddingsGrad ? new Float32Array(tok.batch * tok.seq * H) : undefined;
    for (let r0 = 0; r0 < tok.batch; r0 += rows) {
      const r1 = Math.min(tok.batch, r0 + rows);
      const sub = rowSlice(tok, r0, r1);
      const r = await this.backwardRun(sub, gradPooled.subarray(r0 * H, r1 * H), trainable, embeddingsGrad);
      add(r.params);
      if (dEmb && r.inputsEmbeds) dEmb.set(r.inputsEmbeds, r0 * tok.seq * H);
    }
    return dEmb;
  }

  private trainKey(trainable: readonly string[], embeddingsGrad: boolean): string {
    return `${embeddingsGrad}:${trainable.join('|')}`;
  }

  private splitGraphs(trainable: readonly string[], embeddingsGrad: boolean) {
    const key = this.trainKey(trainable, embeddingsGrad);
    let g = this.split.get(key);
    if (!g) {
      const b = buildSplitTrainGraphs(this.config, { pooling: this.pooling, shapes: this.shapes, trainable, embeddingsGrad });
      const mk = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, trainingSessionOptions(this.threads, this.device));
      this.split.set(key, (g = { key, forward: mk(b.forward), backward: mk(b.backward), saved: b.saved }));
    }
    return g;
  }

  /**
   * Forward pass that keeps the activations the backward reads (the first half of the
   * training graph, `buildSplitTrainGraphs`): pooled vectors and the kept values, for one
   * {@link backwardInto} without recomputation. Memory: see `memory.ts` (estimateActivationBytes).
   */
  async forwardKeep(tok: EncoderTokens, trainable: readonly string[], embeddingsGrad: boolean): Promise<{ pooled: Float32Array; kept: KeptActivations }> {
    const g = this.splitGraphs(trainable, embeddingsGrad);
    const s = await g.forward;
    const feeds = this.feeds(tok, graphParamNames(this.config, this.pooling));
    const want = new Set([...s.inputNames]);
    for (const k of Object.keys(feeds)) if (!want.has(k)) delete feeds[k];
    const out = await s.run(feeds);
    const values: Record<string, ort.Tensor> = {};
    let bytes = 0;
    for (const n of g.saved) {
      values[n] = out[n];
      bytes += (out[n].data as ArrayBufferView).byteLength;
    }
    return { pooled: out.pooled.data as Float32Array, kept: { tok, key: g.key, values, bytes } };
  }

  private async backwardKept(kept: KeptActivations, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean): Promise<EncoderGrads> {
    const g = this.splitGraphs(trainable, embeddingsGrad);
    const s = await g.backward;
    const all = this.feeds(kept.tok, graphParamNames(this.config, this.pooling));
    const feeds: Record<string, ort.Tensor> = { ...kept.values, grad_pooled: new ort.Tensor('float32', gradPooled, [kept.tok.batch, this.dim]) };
    for (const n of s.inputNames) if (!(n in feeds)) feeds[n] = all[n];
    const out = await s.run(feeds, this.gradFetches(trainable, embeddingsGrad));
    const params = new Map<string, Float32Array>();
    for (const t of trainable) params.set(t, out[`grad.${t}`].data as Float32Array);
    return { params, inputsEmbeds: embeddingsGrad ? (out['grad.inputs_embeds'].data as Float32Array) : undefined };
  }

  /** One run of the whole training graph on `tok`. */
  private async backwardRun(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean): Promise<EncoderGrads> {
    const names = graphParamNames(this.config, this.pooling);
    const key = `train:${embeddingsGrad}:${trainable.join('|')}`;
    const s = await this.session(key, () => buildTrainGraph(this.config, { pooling: this.pooling, shapes: this.shapes, backward: true, trainable, embeddingsGrad }));
    const feeds = this.feeds(tok, names);
    feeds.grad_pooled = new ort.Tensor('float32', gradPooled, [tok.batch, this.dim]);
    const out = await s.run(feeds, this.gradFetches(trainable, embeddingsGrad));
    const params = new Map<string, Float32Array>();
    for (const t of trainable) params.set(t, out[`grad.${t}`].data as Float32Array);
    return { params, inputsEmbeds: embeddingsGrad ? (out['grad.inputs_embeds'].data as Float32Array) : undefined };
  }

  /**
   * Fetches of a backward run: every parameter gradient into a preallocated tensor (ONNX
   * Runtime writes into it: no buffer of ORT's own and no copy into a new JavaScript array
   * per run; the next backward run overwrites it, so callers add it into their sums first).
   */
  private gradFetches(trainable: readonly string[], embeddingsGrad: boolean): ort.InferenceSession.FetchesType {
    const f: Record<string, ort.Tensor | null> = {};
    for (const t of trainable) {
      const name = `grad.${t}`;
      let g = this.gradOut.get(name);
      if (!g) this.gradOut.set(name, (g = new ort.Tensor('float32', new Float32Array(param(this.weights, t).length), this.shapes.get(t)!)));
      f[name] = g;
    }
    if (embeddingsGrad) f['grad.inputs_embeds'] = null;
    return f;
  }

  /**
   * Scatter dL/d(inputs_embeds) (`batch·seq x hidden`) into the three embedding tables:
   * dWord[id] += g_i, dPosition[pos] += g_i, dTokenType[0] += g_i over tokens i (padding
   * included: a padded token's gradient is exactly zero, as nothing reads it). Word rows come
   * back sparse: the distinct ids of the batch (ascending) and their summed gradients.
   */
  scatterEmbeddingGrads(tok: EncoderTokens, g: Float32Array): { wordRows: Int32Array; wordGrads: Float32Array; position: Float32Array; tokenType: Float32Array } {
    const H = this.dim;
    const c = this.config;
    const rows = Int32Array.from(new Set(tok.ids.filter((_, i) => tok.mask[i] !== 0n))).sort();
    const slot = new Map<number, number>();
    rows.forEach((id, i) => slot.set(id, i));
    const wordGrads = new Float32Array(rows.length * H);
    const position = new Float32Array(c.maxPositions * H);
    const tokenType = new Float32Array(c.typeVocabSize * H);
    for (let i = 0; i < tok.ids.length; i++) {
      if (tok.mask[i] === 0n) continue;
      const w = slot.get(tok.ids[i])! * H;
      const p = tok.positions[i] * H;
      for (let d = 0; d < H; d++) {
        const v = g[i * H + d];
        wordGrads[w + d] += v;
        position[p + d] += v;
        tokenType[d] += v;
      }
    }
    return { wordRows: rows, wordGrads, position, tokenType };
  }

  /** Release the ONNX Runtime sessions. */
  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    for (const g of this.split.values()) for (const s of [g.forward, g.backward]) await (await s).release();
    this.sessions.clear();
    this.split.clear();
    this.gradOut.clear();
  }
}

/** Rows [r0, r1) of a batch (views, no copy). */
export function rowSlice(tok: EncoderTokens, r0: number, r1: number): EncoderTokens {
  const T = tok.seq;
  return { batch: r1 - r0, seq: T, ids: tok.ids.subarray(r0 * T, r1 * T), mask: tok.mask.subarray(r0 * T, r1 * T), positions: tok.positions.subarray(r0 * T, r1 * T) };
}

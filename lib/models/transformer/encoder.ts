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
import { readModuleChain, type ModuleChain } from '../../embed/st-modules.js';
import { tokenizeBatch } from '../../embed/tokenize-batch.js';
import { checkDevice, trainingSessionOptions, type OrtDevice } from '../../nn/ort-device.js';
import { checkOneOf, xlError } from '../../util/errors.js';
import { maxTextPositions, positionIds, ropeInvFreq, type EncoderConfig } from './config.js';
import { embeddingNames, graphShape, isTaskParam } from './families.js';
import { buildSplitTrainGraphs, buildTrainGraph, ENCODER_POOLINGS, graphParamNames, type DenseSpec, type EncoderPooling } from './graph.js';
import { DEFAULT_RUN_BUDGET_MIB, rowsPerRun } from './memory.js';
import { hasPooler, param, paramShapes, readEncoderWeights, type EncoderWeights } from './weights.js';

/** jina-embeddings-v3's adapters for the two sides of retrieval (the task chosen from the prompt name: query or passage). */
export const RETRIEVAL_TASKS = { query: 'retrieval.query', passage: 'retrieval.passage' } as const;

/**
 * Whether a module chain can be fine-tuned (one pooling mode of {@link ENCODER_POOLINGS}; Dense
 * activations Identity or Tanh), checked before any long work.
 * @throws XlalignError naming the folder and what cannot be trained.
 */
export function checkTrainableChain(chain: ModuleChain, sourceDir: string): void {
  const where = 'TransformerEncoder';
  if (chain.pooling.length > 1) throw xlError(where, `${sourceDir}: pooling ${chain.pooling.join('+')} (several modes concatenated) cannot be fine-tuned; pass one pooling (${ENCODER_POOLINGS.join(', ')})`);
  checkOneOf(where, 'pooling', chain.pooling[0], ENCODER_POOLINGS);
  for (const d of chain.dense) {
    if (d.activation !== 'identity' && d.activation !== 'tanh') throw xlError(where, `${sourceDir}/${d.path}: Dense activation '${d.activationClass}' cannot be fine-tuned (Identity and Tanh can)`);
  }
}

/** Options of {@link TransformerEncoder.load}. */
export interface EncoderOptions {
  /**
   * Pooling of the token vectors. Default: the folder's sentence-transformers Pooling module,
   * else the name preset, else `'mean'` (`lib/embed/st-modules.ts`, as `loadEmbedder`). `'pooler'` needs pooler weights.
   */
  pooling?: EncoderPooling;
  /** Apply the name preset to a folder without sentence-transformers files. Default true. */
  preset?: boolean;
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
  /** The LoRA task (index in `lora_adaptations`) the batch runs with (jina-embeddings-v3). */
  task?: number;
  /** Leading positions left out of pooling (sentence-transformers' `include_prompt: false`). Default 0. */
  promptTokens?: number;
}

/** Gradients of one backward run. */
export interface EncoderGrads {
  /** dL/d(param) for each trainable graph parameter (canonical name). */
  params: Map<string, Float32Array>;
  /** dL/d(inputs_embeds), `batch·seq x hidden`, when embedding gradients were asked for. */
  inputsEmbeds?: Float32Array;
}

/** Gradients of the embedding tables from dL/d(inputs_embeds) ({@link TransformerEncoder.scatterEmbeddingGrads}). */
export interface EmbeddingGrads {
  /** Distinct word ids of the batch (ascending) and their summed gradients (`rows x hidden`). */
  wordRows: Int32Array;
  wordGrads: Float32Array;
  /** The absolute position table's gradient (BERT / XLM-R; empty otherwise). */
  position: Float32Array;
  /** The token-type table's gradient (empty without one). */
  tokenType: Float32Array;
  /**
   * jina-embeddings-v3: gradients of the batch task's embedding LoRA factors: the word
   * table's `lora_A` rows of `wordRows` (`rows x r`), its `lora_B` (`r x hidden`), and the
   * token-type table's `lora_A` (`types x r`) and `lora_B` (`r x hidden`).
   */
  lora?: { wordA: Float32Array; wordB: Float32Array; typeA: Float32Array; typeB: Float32Array };
}

/** A loaded encoder: config, weights, tokenizer, and lazily created ONNX Runtime sessions. */
export class TransformerEncoder {
  readonly config: EncoderConfig;
  readonly shapes: Map<string, number[]>;
  readonly pooling: EncoderPooling;
  readonly maxLength: number;
  readonly threads: number;
  /** The Dense modules after pooling, as graph parameters. */
  readonly dense: DenseSpec[] = [];
  /** Whether prompt tokens take part in pooling (sentence-transformers' `include_prompt`). */
  readonly includePrompt: boolean;
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
    /** The folder's module chain (pooling, Dense, prompts; `lib/embed/st-modules.ts`); none: `options.pooling` or mean, no Dense. */
    readonly moduleChain?: ModuleChain,
  ) {
    const where = 'TransformerEncoder';
    this.config = weights.config;
    this.shapes = paramShapes(this.config);
    const chain = moduleChain;
    if (chain) checkTrainableChain(chain, sourceDir);
    this.pooling = checkOneOf(where, 'pooling', chain ? chain.pooling[0] : (options.pooling ?? 'mean'), ENCODER_POOLINGS);
    // sentence-transformers' Dense modules are trained with the encoder: parameters '<path>/linear.weight' and '<path>/linear.bias'
    weights.dense = chain?.dense ?? [];
    let inDim = this.config.hiddenSize;
    for (const d of weights.dense) {
      if (d.inFeatures !== inDim) throw xlError(where, `${sourceDir}/${d.path}: in_features ${d.inFeatures} does not match the ${inDim} values before it`);
      inDim = d.outFeatures;
      this.shapes.set(`${d.path}/linear.weight`, [d.outFeatures, d.inFeatures]);
      if (d.bias) this.shapes.set(`${d.path}/linear.bias`, [d.outFeatures]);
      this.dense.push({ weight: `${d.path}/linear.weight`, bias: d.bias ? `${d.path}/linear.bias` : undefined, out: d.outFeatures, activation: d.activation as DenseSpec['activation'] });
    }
    this.includePrompt = chain?.includePrompt ?? true;
    if (this.pooling === 'pooler' && !hasPooler(weights)) throw xlError(where, `pooling 'pooler' needs pooler.dense.* in ${sourceDir}/model.safetensors; use 'mean' or 'cls'`);
    const c = this.config;
    const familyMax = maxTextPositions(c);
    const tokMax = Number((tokenizer as unknown as { model_max_length?: number } | undefined)?.model_max_length);
    const dflt = Math.min(512, familyMax, Number.isInteger(tokMax) && tokMax > 0 ? tokMax : Infinity, chain?.maxSeqLength ?? Infinity);
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
    const chain = readModuleChain(root, dir, { pooling: options.pooling }, { preset: options.preset !== false });
    return new TransformerEncoder(weights, tokenizer, root, options, chain);
  }

  /** Hidden size. */
  get dim(): number {
    return this.config.hiddenSize;
  }

  /**
   * The LoRA task of texts embedded as `kind` (jina-embeddings-v3: `retrieval.query` /
   * `retrieval.passage`); undefined for a model without task adapters.
   * @throws XlalignError when the model has adapters but not that task.
   */
  taskFor(kind: 'query' | 'passage'): number | undefined {
    const lora = this.config.lora;
    if (!lora) return undefined;
    const t = lora.tasks.indexOf(RETRIEVAL_TASKS[kind]);
    if (t < 0) throw xlError('TransformerEncoder', `${this.sourceDir}: lora_adaptations [${lora.tasks.join(', ')}] has no '${RETRIEVAL_TASKS[kind]}' task for ${kind} texts`);
    return t;
  }

  /** Size of the pooled vectors (after the Dense modules; the hidden size without). */
  get outDim(): number {
    return this.dense.length ? this.dense[this.dense.length - 1].out : this.config.hiddenSize;
  }

  /** Positions a prompt takes out of pooling when `include_prompt` is false: `len(tokenize(prompt)) - 1`, as sentence-transformers; 0 otherwise. */
  promptTokens(prompt: string): number {
    if (this.includePrompt || !prompt || !this.tokenizer) return 0;
    return Math.max(0, (this.tokenizer.encode(this.moduleChain?.lowercase ? prompt.toLowerCase() : prompt) as number[]).length - 1);
  }

  /**
   * Tokenize `texts` (special tokens kept on truncation, right padding; see `tokenizeBatch`).
   * @param kind  picks the LoRA task (models with task adapters; default passage).
   * @param promptTokens  leading positions left out of pooling (see {@link promptTokens}).
   */
  tokenize(texts: readonly string[], kind: 'query' | 'passage' = 'passage', promptTokens = 0): EncoderTokens {
    if (!this.tokenizer) throw xlError('TransformerEncoder.tokenize', 'this encoder was created without a tokenizer; pass token ids with fromIds');
    const enc = tokenizeBatch(this.tokenizer, this.moduleChain?.lowercase ? texts.map((t) => t.toLowerCase()) : texts, { maxLength: this.maxLength });
    const [batch, seq] = enc.input_ids.dims as number[];
    const ids = Int32Array.from(enc.input_ids.data as BigInt64Array, (v) => Number(v));
    return { ...this.fromIds(ids, enc.attention_mask.data as BigInt64Array, batch, seq, this.taskFor(kind)), promptTokens };
  }

  /** A batch from padded ids and mask (`batch x seq`, row-major); `task`: the LoRA task (models with adapters; default: the passage task). */
  fromIds(ids: Int32Array, mask: BigInt64Array, batch: number, seq: number, task: number | undefined = this.taskFor('passage')): EncoderTokens {
    const positions = new Int32Array(batch * seq);
    for (let b = 0; b < batch; b++) positionIds(this.config, ids.subarray(b * seq, (b + 1) * seq), positions.subarray(b * seq, (b + 1) * seq));
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= this.config.vocabSize) throw xlError('TransformerEncoder', `token id ${ids[i]} is outside the vocabulary [0, ${this.config.vocabSize})`);
    }
    if (this.config.lora && (task === undefined || !Number.isInteger(task) || task < 0 || task >= this.config.lora.tasks.length)) {
      throw xlError('TransformerEncoder', `task ${task} is outside [0, ${this.config.lora.tasks.length}) (lora_adaptations of ${this.sourceDir})`);
    }
    return { batch, seq, ids, mask, positions, ...(this.config.lora ? { task } : {}) };
  }

  /**
   * word(id) + token_type(0) + position(pos) per token, `batch·seq x hidden` float32 (summed in
   * that order, as the export graph does); the rotary layouts have no position table, and
   * jina-embeddings-v3 adds each table's LoRA row for the batch's task, (α/r)·A_t[id] B_t.
   */
  inputsEmbeds(tok: EncoderTokens): Float32Array {
    const H = this.dim;
    const e = embeddingNames(this.config);
    const word = this.loraTable(e.word, e.wordLora, tok.task, tok.ids);
    const pos = e.position ? param(this.weights, e.position) : undefined;
    const type = e.tokenType ? this.loraTable(e.tokenType, e.tokenTypeLora, tok.task, [0]).subarray(0, H) : undefined;
    const out = new Float32Array(tok.ids.length * H);
    for (let i = 0; i < tok.ids.length; i++) {
      const w = e.wordLora ? i * H : tok.ids[i] * H;
      const p = tok.positions[i] * H;
      const o = i * H;
      for (let d = 0; d < H; d++) {
        out[o + d] = type ? word[w + d] + type[d] : word[w + d];
        if (pos) out[o + d] += pos[p + d];
      }
    }
    return out;
  }

  /** A table, or (with LoRA) its rows `ids` of W + (α/r)·A_t B_t, rounded to float32 as PyTorch's merged weight is. */
  private loraTable(name: string, lora: { a: string; b: string } | undefined, task: number | undefined, ids: ArrayLike<number>): Float32Array {
    const w = param(this.weights, name);
    if (!lora) return w;
    const H = this.dim;
    const r = this.config.lora!.rank;
    const s = this.config.lora!.alpha / r;
    const a = param(this.weights, `${lora.a}@${task}`);
    const b = param(this.weights, `${lora.b}@${task}`);
    const out = new Float32Array(ids.length * H);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      for (let d = 0; d < H; d++) {
        let ab = 0;
        for (let k = 0; k < r; k++) ab += a[id * r + k] * b[k * H + d];
        out[i * H + d] = w[id * H + d] + Math.fround(Math.fround(ab) * s);
      }
    }
    return out;
  }

  /** Per-token cos / sin tables `batch·seq x dh` of pos·invFreq (the angle rounded to float32, as PyTorch's float32 cache). */
  ropeTables(tok: EncoderTokens): { cos: Float32Array; sin: Float32Array } {
    const inv = ropeInvFreq(this.config);
    const half = inv.length;
    const dh = 2 * half;
    const n = tok.ids.length;
    const cos = new Float32Array(n * dh);
    const sin = new Float32Array(n * dh);
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < half; d++) {
        const angle = Math.fround(tok.positions[i] * inv[d]);
        cos[i * dh + d] = cos[i * dh + d + half] = Math.cos(angle);
        sin[i * dh + d] = sin[i * dh + d + half] = Math.sin(angle);
      }
    }
    return { cos, sin };
  }

  /**
   * The pooling matrix `batch x (batch·seq)` (pooled = P · hidden), over the pooling mask m (the
   * attention mask without the first `tok.promptTokens` positions): `mean` m/Σm; `mean_sqrt_len`
   * m/√Σm; `weightedmean` (t+1)·m / Σ(t+1)·m; `last_token` a one at the last t with m = 1;
   * `cls` a one at the first t with m = 1 (token 0 unless a prompt is left out); `pooler` at
   * token 0 (as `lib/embed/pooling.ts` and sentence-transformers 5).
   */
  poolMatrix(tok: EncoderTokens): Float32Array {
    const { batch, seq, mask } = tok;
    const skip = tok.promptTokens ?? 0;
    const M = batch * seq;
    const p = new Float32Array(batch * M);
    const m = (b: number, t: number) => (t < skip ? 0 : Number(mask[b * seq + t]));
    for (let b = 0; b < batch; b++) {
      const row = b * M + b * seq;
      if (this.pooling === 'pooler') {
        p[row] = 1;
        continue;
      }
      if (this.pooling === 'cls') {
        let first = 0;
        while (first < seq && !m(b, first)) first++;
        p[row + (first === seq ? 0 : first)] = 1;
        continue;
      }
      if (this.pooling === 'last_token') {
        for (let t = seq - 1; t >= 0; t--) if (m(b, t)) { p[row + t] = 1; break; }
        continue;
      }
      const w = (t: number) => m(b, t) * (this.pooling === 'weightedmean' ? t + 1 : 1);
      let n = 0;
      for (let t = 0; t < seq; t++) n += w(t);
      if (n === 0) continue;
      const div = this.pooling === 'mean_sqrt_len' ? Math.sqrt(n) : n;
      for (let t = 0; t < seq; t++) if (w(t)) p[row + t] = w(t) / div;
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
    if (this.config.rope) {
      const { cos, sin } = this.ropeTables(tok);
      const dh = this.dim / this.config.numHeads;
      f.rope_cos = new ort.Tensor('float32', cos, [M, dh]);
      f.rope_sin = new ort.Tensor('float32', sin, [M, dh]);
    }
    for (const n of names) f[n] = this.paramTensor(n, tok);
    return f;
  }

  /** The weights' key of graph parameter `name` for a batch: `name@task` for a LoRA factor (one task's slice), else `name`. */
  paramKey(name: string, tok: EncoderTokens): string {
    return isTaskParam(name) ? `${name}@${tok.task}` : name;
  }

  /**
   * The ort.Tensor of graph parameter `n` for a batch, over the weights' own Float32Array (no
   * copy: the binding hands ONNX Runtime that memory; an optimizer step writes it in place);
   * a LoRA factor is one task's slice (a view), cached per task.
   */
  private paramTensor(n: string, tok: EncoderTokens): ort.Tensor {
    const key = this.paramKey(n, tok);
    const data = param(this.weights, key);
    let t = this.paramTensors.get(key);
    // re-wrap only if the memory changed (a reload into the same encoder); a task slice is a new view of the same memory on every call
    const old = t?.data as Float32Array | undefined;
    if (!t || !old || old.buffer !== data.buffer || old.byteOffset !== data.byteOffset || old.length !== data.length) {
      this.paramTensors.set(key, (t = new ort.Tensor('float32', data, graphShape(n, this.shapes.get(n)!))));
    }
    return t;
  }

  /** Pooled vectors (`batch x hidden`, not normalised) and the last hidden state (`batch·seq x hidden`). */
  async forward(tok: EncoderTokens): Promise<{ pooled: Float32Array; lastHidden: Float32Array }> {
    const names = graphParamNames(this.config, this.pooling, this.dense);
    const s = await this.session('forward', () => buildTrainGraph(this.config, { pooling: this.pooling, shapes: this.shapes, dense: this.dense }));
    const out = await s.run(this.feeds(tok, names));
    return { pooled: out.pooled.data as Float32Array, lastHidden: out.last_hidden_state.data as Float32Array };
  }

  /** Pooled vectors of `texts` (after the Dense modules: `texts.length x outDim`, not normalised). */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    return (await this.forward(this.tokenize(texts))).pooled;
  }

  /**
   * Recompute the forward pass of `tok` and back-propagate `gradPooled` (dL/d pooled, `batch x outDim`).
   * @param trainable  graph parameters to differentiate (canonical names of {@link graphParamNames}).
   * @param embeddingsGrad  also return dL/d(inputs_embeds).
   * The parameter gradients are written into arrays this encoder reuses: the next `backward` overwrites them (add them into a sum first).
   */
  async backward(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean): Promise<EncoderGrads> {
    this.checkBackward(tok, gradPooled, trainable);
    if (tok.batch > rowsPerRun(this.config, tok.seq, this.runBudgetMiB)) {
      // (summed under the canonical names, as one run returns them)
      const params = new Map<string, Float32Array>();
      const inputsEmbeds = await this.backwardSum(tok, gradPooled, trainable, embeddingsGrad, params, undefined, (n) => n);
      return { params, inputsEmbeds };
    }
    return this.backwardRun(tok, gradPooled, trainable, embeddingsGrad);
  }

  private checkBackward(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[]): void {
    const names = graphParamNames(this.config, this.pooling, this.dense);
    for (const t of trainable) if (!names.includes(t)) throw xlError('TransformerEncoder.backward', `'${t}' is not a graph parameter of this encoder`);
    if (gradPooled.length !== tok.batch * this.outDim) throw xlError('TransformerEncoder.backward', `gradPooled has ${gradPooled.length} values; expected ${tok.batch} x ${this.outDim}`);
  }

  /**
   * Like {@link backward}, but adds the parameter gradients into `acc` (created per name when
   * missing; a LoRA factor under `name@task`), running the rows of `tok` in chunks of at most `rowsPerRun` texts (the run
   * budget) or, with `kept` from {@link forwardKeep} on the same `tok`, one backward-only run
   * with no recomputation. Returns dL/d(inputs_embeds) (`batch·seq x hidden`) when asked for.
   */
  async backwardInto(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean, acc: Map<string, Float32Array>, kept?: KeptActivations): Promise<Float32Array | undefined> {
    this.checkBackward(tok, gradPooled, trainable);
    // summed under the weights' key: `name@task` for a LoRA factor (the batch's task), else the name
    return this.backwardSum(tok, gradPooled, trainable, embeddingsGrad, acc, kept, (n) => this.paramKey(n, tok));
  }

  private async backwardSum(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean, acc: Map<string, Float32Array>, kept: KeptActivations | undefined, keyOf: (name: string) => string): Promise<Float32Array | undefined> {
    const add = (params: Map<string, Float32Array>) => {
      for (const [n, g] of params) {
        const key = keyOf(n);
        let a = acc.get(key);
        if (!a) acc.set(key, (a = new Float32Array(g.length)));
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
    const D = this.outDim;
    const rows = rowsPerRun(this.config, tok.seq, this.runBudgetMiB);
    const dEmb = embeddingsGrad ? new Float32Array(tok.batch * tok.seq * H) : undefined;
    for (let r0 = 0; r0 < tok.batch; r0 += rows) {
      const r1 = Math.min(tok.batch, r0 + rows);
      const sub = rowSlice(tok, r0, r1);
      const r = await this.backwardRun(sub, gradPooled.subarray(r0 * D, r1 * D), trainable, embeddingsGrad);
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
      const b = buildSplitTrainGraphs(this.config, { pooling: this.pooling, shapes: this.shapes, trainable, embeddingsGrad, dense: this.dense });
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
    const feeds = this.feeds(tok, graphParamNames(this.config, this.pooling, this.dense));
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
    const all = this.feeds(kept.tok, graphParamNames(this.config, this.pooling, this.dense));
    const feeds: Record<string, ort.Tensor> = { ...kept.values, grad_pooled: new ort.Tensor('float32', gradPooled, [kept.tok.batch, this.outDim]) };
    for (const n of s.inputNames) if (!(n in feeds)) feeds[n] = all[n];
    const out = await s.run(feeds, this.gradFetches(trainable, embeddingsGrad));
    const params = new Map<string, Float32Array>();
    for (const t of trainable) params.set(t, out[`grad.${t}`].data as Float32Array);
    return { params, inputsEmbeds: embeddingsGrad ? (out['grad.inputs_embeds'].data as Float32Array) : undefined };
  }

  /** One run of the whole training graph on `tok`. */
  private async backwardRun(tok: EncoderTokens, gradPooled: Float32Array, trainable: readonly string[], embeddingsGrad: boolean): Promise<EncoderGrads> {
    const names = graphParamNames(this.config, this.pooling, this.dense);
    const key = `train:${embeddingsGrad}:${trainable.join('|')}`;
    const s = await this.session(key, () => buildTrainGraph(this.config, { pooling: this.pooling, shapes: this.shapes, backward: true, trainable, embeddingsGrad, dense: this.dense }));
    const feeds = this.feeds(tok, names);
    feeds.grad_pooled = new ort.Tensor('float32', gradPooled, [tok.batch, this.outDim]);
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
      if (!g) {
        const shape = graphShape(t, this.shapes.get(t)!);
        this.gradOut.set(name, (g = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape)));
      }
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
  scatterEmbeddingGrads(tok: EncoderTokens, g: Float32Array): EmbeddingGrads {
    const H = this.dim;
    const c = this.config;
    const e = embeddingNames(c);
    const rows = Int32Array.from(new Set(tok.ids.filter((_, i) => tok.mask[i] !== 0n))).sort();
    const slot = new Map<number, number>();
    rows.forEach((id, i) => slot.set(id, i));
    const wordGrads = new Float32Array(rows.length * H);
    const lora = this.embeddingLoraGrads(tok, g, rows, slot);
    const position = new Float32Array(e.position ? c.maxPositions * H : 0);
    const tokenType = new Float32Array(e.tokenType ? c.typeVocabSize * H : 0);
    for (let i = 0; i < tok.ids.length; i++) {
      if (tok.mask[i] === 0n) continue;
      const w = slot.get(tok.ids[i])! * H;
      const p = tok.positions[i] * H;
      for (let d = 0; d < H; d++) {
        const v = g[i * H + d];
        wordGrads[w + d] += v;
        if (e.position) position[p + d] += v;
        if (e.tokenType) tokenType[d] += v;
      }
    }
    return { wordRows: rows, wordGrads, position, tokenType, ...(lora ? { lora } : {}) };
  }

  /**
   * Row v of a LoRA table is W[v] + s·A_t[v] B_t, so for each token i with id v and gradient g_i:
   * dA_t[v] += s·B_t g_i, dB_t += s·A_t[v]ᵀ g_iᵀ (token types: v = 0 for every token).
   */
  private embeddingLoraGrads(tok: EncoderTokens, g: Float32Array, rows: Int32Array, slot: Map<number, number>): EmbeddingGrads['lora'] {
    const e = embeddingNames(this.config);
    const lora = this.config.lora;
    if (!lora || !e.wordLora || !e.tokenTypeLora) return undefined;
    const H = this.dim;
    const r = lora.rank;
    const s = lora.alpha / r;
    const wa = param(this.weights, `${e.wordLora.a}@${tok.task}`);
    const wb = param(this.weights, `${e.wordLora.b}@${tok.task}`);
    const ta = param(this.weights, `${e.tokenTypeLora.a}@${tok.task}`);
    const tb = param(this.weights, `${e.tokenTypeLora.b}@${tok.task}`);
    const out = { wordA: new Float32Array(rows.length * r), wordB: new Float32Array(r * H), typeA: new Float32Array(this.config.typeVocabSize * r), typeB: new Float32Array(r * H) };
    for (let i = 0; i < tok.ids.length; i++) {
      if (tok.mask[i] === 0n) continue;
      const v = tok.ids[i];
      const j = slot.get(v)!;
      for (let k = 0; k < r; k++) {
        let dw = 0;
        let dt = 0;
        for (let d = 0; d < H; d++) {
          const gd = g[i * H + d];
          dw += wb[k * H + d] * gd;
          dt += tb[k * H + d] * gd;
          out.wordB[k * H + d] += s * wa[v * r + k] * gd;
          out.typeB[k * H + d] += s * ta[k] * gd;
        }
        out.wordA[j * r + k] += s * dw;
        out.typeA[k] += s * dt;
      }
    }
    return out;
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
  return { ...tok, batch: r1 - r0, seq: T, ids: tok.ids.subarray(r0 * T, r1 * T), mask: tok.mask.subarray(r0 * T, r1 * T), positions: tok.positions.subarray(r0 * T, r1 * T) };
}

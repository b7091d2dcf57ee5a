/**
 * The one loading path for every dense model: transformers.js `AutoTokenizer` +
 * `AutoModel` (not `pipeline('feature-extraction')`, so that truncation length, pooling,
 * the adapter hook and normalisation are ours, in that order; truncation keeps special
 * tokens as in Python, see {@link tokenizeBatch}), with a length-sorted
 * batching loop, an on-disk cache ({@link EmbeddingCache}) and a progress bar.
 */
import { basename } from 'node:path';
import { AutoModel, AutoTokenizer, env, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { checkOneOf, xlError } from '../util/errors.js';
import { checkDevice, type OrtDevice } from '../nn/ort-device.js';
import { createProgress } from '../util/progress.js';
import { defaultThreads } from '../util/threads.js';
import { EmbeddingCache, textKey } from './cache.js';
import { modelIdentity, probeHubFailure, resolveModelSource, type ModelSource } from './model-source.js';
import { l2NormalizeRows, poolerVectors, poolHidden } from './pooling.js';
import { fetchModuleFiles } from './hub-files.js';
import { applyDense, chainCacheKey, chainDim, chainSummary, describeChain, readModuleChain, type ModuleChain } from './st-modules.js';
import { tokenizeBatch } from './tokenize-batch.js';
import { EMBED_DEFAULTS, EMBED_DTYPES, POOLINGS, type EmbedKind, type EmbedOptions, type Embedder, type VectorAdapter } from './types.js';

/** Counters of one embedder since it was loaded (texts, not batches). */
export interface EmbedStats {
  /** Texts asked for (all `embed` calls). */
  requested: number;
  /** Texts served from the cache. */
  cacheHits: number;
  /** Distinct texts run through the model. */
  computed: number;
  /** Forward passes run. */
  batches: number;
  /** Distinct texts found longer than `maxLength` tokens by {@link TransformersEmbedder.countTruncated}. */
  truncated: number;
}

type Resolved = Required<Omit<EmbedOptions, 'adapter' | 'cache' | 'progress' | 'threads' | 'force' | 'modelConfig' | 'device'>> & {
  device?: OrtDevice;
  adapter?: VectorAdapter;
  cache: string | false;
  progress?: boolean;
  threads: number;
  force: boolean;
  /** The tokenizer's `model_max_length` (when set and sane), the largest allowed `maxLength`. */
  modelMaxLength?: number;
};

/**
 * Load a dense embedding model (hub id or local folder) through transformers.js.
 *
 * Contract: `embed(texts)` returns `texts.length x dim` float32, row `i` for `texts[i]`:
 * `normalize?(adapter?(dense*(pool(model(prefix + text truncated to maxLength tokens)))))`,
 * the module chain of sentence-transformers (`st-modules.ts`): pooling modes, Dense layers,
 * Normalize, prompts and `max_seq_length` are read from the model folder (modules.json,
 * 1_Pooling/, 2_Dense/, config_sentence_transformers.json, sentence_bert_config.json); a
 * folder without them takes the name preset (`presets.ts`), else the defaults. Options set
 * in `options` override the folder; {@link TransformersEmbedder.describe} says what was read
 * and what was overridden, {@link TransformersEmbedder.summary} in one line.
 * Texts are embedded longest first in batches of `batchSize` and put back in order;
 * identical texts are computed once. With a cache, each computed batch is stored at once
 * (atomically), so an interrupted run resumes where it stopped.
 *
 * @param model  a hub id (`Xenova/multilingual-e5-small`) or a model folder, absolute or
 *   relative to the current directory (a folder is detected by existence).
 * @param options  {@link EmbedOptions}; defaults in {@link EMBED_DEFAULTS}, `cache`
 *   `.cache/embeddings` under `process.cwd()`, `progress` for more than 4 batches (a bar on a
 *   TTY, a line every ~10 s otherwise), `threads` every available core.
 * @throws XlalignError for an unknown pooling/dtype, a missing folder, a folder without an
 *   ONNX file for `dtype`, a `maxLength` above the tokenizer's `model_max_length`, or a hub
 *   id that cannot be fetched (the message gives the cause: offline/DNS, not found (404),
 *   permission (401/403), remote models disabled; and how to bring the model as a folder).
 * @example
 * const emb = await loadEmbedder('models/default');
 * const v = await emb.embed(['Wo schläft die Katze?'], { kind: 'query' }); // Float32Array(emb.dim)
 * await emb.dispose();
 */
export async function loadEmbedder(model: string, options: EmbedOptions = {}): Promise<TransformersEmbedder> {
  const where = 'loadEmbedder';
  const { modelConfig, ...given } = options;
  const o: Resolved = {
    ...EMBED_DEFAULTS,
    cache: '.cache/embeddings',
    threads: defaultThreads(),
    force: false,
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
  } as Resolved;
  if (options.pooling !== undefined) checkOneOf(where, 'pooling', o.pooling, POOLINGS);
  checkOneOf(where, 'dtype', o.dtype, EMBED_DTYPES);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw xlError(where, `batchSize must be an integer >= 1, got ${o.batchSize}`);
  if (!Number.isInteger(o.maxLength) || o.maxLength < 1) throw xlError(where, `maxLength must be an integer >= 1, got ${o.maxLength}`);
  if (o.adapter !== undefined && typeof o.adapter.apply !== 'function') throw xlError(where, 'adapter must have apply(vectors, n, dim)');
  if (!Number.isInteger(o.threads) || o.threads < 1) throw xlError(where, `threads must be an integer >= 1, got ${o.threads}`);
  o.device = checkDevice(where, o.device ?? 'cpu');

  const source = resolveModelSource(model);
  const cacheRoot = o.cache === false ? undefined : o.cache;
  const id = modelIdentity(source, { dtype: o.dtype, revision: o.revision, hashMemo: cacheRoot });
  const { tokenizer, encoder } = await loadParts(source, o);
  // the module chain: the folder's sentence-transformers files (a hub id's fetched into the cache), else the name preset, else defaults; options given win
  let chain: ModuleChain;
  try {
    const stDir = modelConfig === false ? undefined : source.kind === 'local' ? source.dir : await fetchModuleFiles(source.id, o.revision, env.allowRemoteModels && !o.localFilesOnly);
    chain = readModuleChain(stDir, model, options, { preset: modelConfig !== false });
    for (const p of chain.pooling) checkOneOf(where, 'pooling', p, POOLINGS);
  } catch (e) {
    await encoder.dispose();
    throw e;
  }
  o.pooling = chain.pooling[0];
  o.queryPrefix = chain.queryPrefix;
  o.passagePrefix = chain.passagePrefix;
  o.normalize = chain.normalize;
  const modelMax = Number((tokenizer as unknown as { model_max_length?: number }).model_max_length);
  if (Number.isInteger(modelMax) && modelMax > 0 && modelMax <= 1_000_000) {
    o.modelMaxLength = modelMax;
    // Not asked for: the folder's max_seq_length, else the model's own limit (a static model: 8192; e5: 512), else 512.
    if (options.maxLength === undefined) o.maxLength = Math.min(modelMax, chain.maxSeqLength ?? modelMax);
    else if (o.maxLength > modelMax) {
      await encoder.dispose();
      throw xlError(where, `maxLength ${o.maxLength} is above the limit of ${model} (tokenizer model_max_length ${modelMax}); use --max-length ${modelMax} or less`);
    }
  }
  if (options.maxLength === undefined && !(o.modelMaxLength && o.modelMaxLength > 0) && chain.maxSeqLength) o.maxLength = chain.maxSeqLength;
  const embedder = new TransformersEmbedder(id, tokenizer, encoder, o, chain);
  await embedder.init(cacheRoot);
  return embedder;
}

async function loadParts(source: ModelSource, o: Resolved): Promise<{ tokenizer: PreTrainedTokenizer; encoder: PreTrainedModel }> {
  const path = source.kind === 'local' ? source.dir : source.id;
  const local = source.kind === 'local';
  const common = { revision: o.revision, local_files_only: local || o.localFilesOnly };
  try {
    const tokenizer = await AutoTokenizer.from_pretrained(path, common);
    // Every ONNX Runtime session on all cores by default (ORT's own default here is one).
    const session_options = { intraOpNumThreads: o.threads, interOpNumThreads: 1 };
    const encoder = await AutoModel.from_pretrained(path, { ...common, dtype: o.dtype, device: o.device ?? 'cpu', session_options });
    return { tokenizer, encoder };
  } catch (e) {
    const cause = (e as Error)?.message ?? String(e);
    if (local) {
      throw xlError('loadEmbedder', `cannot load the model folder ${path} with transformers.js (dtype '${o.dtype}'): ${cause}. Expected layout: config.json, tokenizer.json, tokenizer_config.json, onnx/model${o.dtype === 'fp32' ? '' : '_<dtype suffix>'}.onnx`, { cause: e });
    }
    const remote = env.allowRemoteModels && !o.localFilesOnly;
    const failure = remote ? await probeHubFailure(path, o.revision, env, e) : { kind: 'not-found' as const, message: 'remote models are disabled (env.allowRemoteModels is false or localFilesOnly is set)' };
    const why = failure.message;
    throw xlError(
      'loadEmbedder',
      `could not fetch '${path}' (revision '${o.revision}', dtype '${o.dtype}') from the Hugging Face hub (${env.remoteHost}): ${why}. ` +
        `To use this model without the hub: on a machine with network, download it ` +
        `(e.g. \`huggingface-cli download ${path} --local-dir ${basename(path)}\` or \`git lfs install && git clone https://huggingface.co/${path}\`), copy the folder here and pass its path, ` +
        `e.g. loadEmbedder('models/${basename(path)}'). The folder must hold config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx ` +
        `(onnx/model_quantized.onnx for dtype 'q8', onnx/model_fp16.onnx for 'fp16'). (transformers.js said: ${cause})`,
      // a wrong id or a gated model is the user's input (exit 2); no network or a failing hub is not (exit 1)
      { cause: e, kind: failure.kind === 'not-found' || failure.kind === 'permission' ? 'input' : 'internal' },
    );
  }
}

/** A dense embedder backed by a transformers.js tokenizer + ONNX encoder. Built by {@link loadEmbedder}. */
export class TransformersEmbedder implements Embedder {
  readonly id: string;
  private dimension = 0;
  /** Counters since load; see {@link EmbedStats}. */
  readonly stats: EmbedStats = { requested: 0, cacheHits: 0, computed: 0, batches: 0, truncated: 0 };
  private readonly truncatedMemo = new Map<string, boolean>();
  /** The open cache namespace, if caching is on (and no adapter without id is set). */
  cache?: EmbeddingCache;
  /**
   * Models whose ONNX export takes a `task_id` (jina-embeddings-v3: the index of a LoRA task
   * in config.json's `lora_adaptations`): the task of each kind of text, chosen from the
   * prompt name as sentence-transformers does (`retrieval.query` for queries,
   * `retrieval.passage` for passages). transformers.js does not feed this input; we do.
   */
  readonly tasks?: Record<EmbedKind, { name: string; id: number }>;

  constructor(
    id: string,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly encoder: PreTrainedModel,
    private readonly options: Resolved,
    /** The module chain (pooling modes, Dense, Normalize, prompts) and where it came from. */
    readonly moduleChain: ModuleChain = readModuleChain(undefined, id, options, { preset: false }),
  ) {
    this.id = id;
    const inputs = (encoder as unknown as { sessions?: { model?: { inputNames?: string[] } } }).sessions?.model?.inputNames ?? [];
    if (inputs.includes('task_id')) {
      const tasks = (encoder.config as unknown as { lora_adaptations?: unknown }).lora_adaptations;
      const pick = (name: string) => {
        const i = Array.isArray(tasks) ? tasks.indexOf(name) : -1;
        if (i < 0) throw xlError('loadEmbedder', `${id}: the ONNX model takes a 'task_id' input but config.json's lora_adaptations (${Array.isArray(tasks) ? tasks.join(', ') : 'missing'}) has no '${name}' task`);
        return { name, id: i };
      };
      this.tasks = { query: pick('retrieval.query'), passage: pick('retrieval.passage') };
    }
  }

  /** What was read from the model folder (or preset) and what the options overrode, for printing and config.json. */
  describe(): Record<string, unknown> {
    return { ...describeChain(this.moduleChain), maxLength: this.options.maxLength, dtype: this.options.dtype, dim: this.dimension };
  }

  /** {@link describe} in one line for stderr (`<name>: sentence-transformers files (...): pooling mean, normalize, ...; override: ...`). */
  summary(name: string = this.id): string {
    return chainSummary(name, this.moduleChain);
  }

  /** The text the model sees for `text` of `kind`: prefix + text, lowercased when the folder says `do_lower_case`. */
  private input(text: string, kind: EmbedKind): string {
    const t = (kind === 'query' ? this.options.queryPrefix : this.options.passagePrefix) + text;
    return this.moduleChain.lowercase ? t.toLowerCase() : t;
  }

  /** Leading positions kept out of pooling for `kind` (`include_prompt: false`): `len(tokenize(prompt)) - 1`, as sentence-transformers. */
  private promptLength(kind: EmbedKind): number {
    if (this.moduleChain.includePrompt) return 0;
    let prompt = kind === 'query' ? this.options.queryPrefix : this.options.passagePrefix;
    if (!prompt) return 0;
    if (this.moduleChain.lowercase) prompt = prompt.toLowerCase();
    const cached = this.promptLengths.get(prompt);
    if (cached !== undefined) return cached;
    const n = Math.max(0, (this.tokenizer.encode(prompt) as number[]).length - 1);
    this.promptLengths.set(prompt, n);
    return n;
  }
  private readonly promptLengths = new Map<string, number>();

  get dim(): number {
    return this.dimension;
  }

  /** The resolved options (defaults filled in). */
  get config(): Readonly<Resolved> {
    return this.options;
  }

  /** @internal Probe the output size and open the cache. */
  async init(cacheRoot?: string): Promise<void> {
    this.dimension = (await this.forward(['a'])).length;
    const { adapter } = this.options;
    if (cacheRoot && (!adapter || adapter.id)) {
      const { normalize, maxLength, dtype } = this.options;
      const modules = chainCacheKey(this.moduleChain);
      this.cache = EmbeddingCache.open(cacheRoot, { model: this.id, pooling: this.moduleChain.pooling.join('+'), normalize, maxLength, dtype, adapter: adapter?.id, dim: this.dimension, ...(modules ? { modules } : {}) });
    }
  }

  async embed(texts: string[], options: { kind?: EmbedKind } = {}): Promise<Float32Array> {
    const where = 'embed';
    const kind = checkOneOf(where, 'kind', options.kind ?? 'passage', ['query', 'passage'] as const);
    if (!Array.isArray(texts)) throw xlError(where, 'texts must be an array of strings');
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw xlError(where, `texts[${i}] is ${t === null ? 'null' : typeof t}; expected a string`);
    });
    const inputs = texts.map((t) => this.input(t, kind));
    const dim = this.dimension;
    const out = new Float32Array(inputs.length * dim);
    this.stats.requested += inputs.length;

    let keys: string[] | undefined;
    let found = new Array<boolean>(inputs.length).fill(false);
    if (this.cache) {
      // With task adapters the same text embeds differently as a query and as a passage.
      const task = this.tasks ? `[${this.tasks[kind].name}] ` : '';
      keys = inputs.map((t) => textKey(task + t));
      this.cache.refresh();
      if (!this.options.force) found = this.cache.getInto(keys, out, dim);
      this.stats.cacheHits += found.filter(Boolean).length;
    }
    // Distinct missing texts, longest first (ties by first position, so the order is deterministic).
    const rowsOf = new Map<string, number[]>();
    inputs.forEach((t, i) => {
      if (found[i]) return;
      const rows = rowsOf.get(t);
      if (rows) rows.push(i);
      else rowsOf.set(t, [i]);
    });
    const todo = [...rowsOf.keys()].sort((a, b) => b.length - a.length || rowsOf.get(a)![0] - rowsOf.get(b)![0]);
    const nBatches = Math.ceil(todo.length / this.options.batchSize);
    const show = this.options.progress ?? nBatches > 4;
    const bar = show ? createProgress({ stage: `embed ${basename(this.id)}`, total: todo.length, unit: 'texts', final: this.options.progress === true }) : undefined;
    try {
      for (let s = 0; s < todo.length; s += this.options.batchSize) {
        const batch = todo.slice(s, s + this.options.batchSize);
        const vecs = await this.forward(batch, kind);
        batch.forEach((t, j) => {
          for (const i of rowsOf.get(t)!) out.set(vecs.subarray(j * dim, (j + 1) * dim), i * dim);
        });
        if (this.cache && keys) this.cache.put(batch.map((t) => keys![rowsOf.get(t)![0]]), vecs, dim);
        this.stats.computed += batch.length;
        this.stats.batches += 1;
        bar?.tick(batch.length);
      }
    } finally {
      bar?.done();
    }
    if (this.cache && todo.length > 0) this.cache.compact();
    return out;
  }

  /**
   * How many of `texts` (with the prefix of `kind`) are longer than `maxLength` tokens and so
   * are cut before the model sees them. Memoised per text; a text of at most
   * `(maxLength - 8) / 4` characters is never tokenized (no tokenizer makes more than 4
   * tokens of one UTF-16 unit, special tokens aside). Adds newly found ones to `stats.truncated`.
   * @example const cut = await emb.countTruncated(pool.docs.map((d) => d.text), 'passage');
   */
  countTruncated(texts: readonly string[], kind: EmbedKind = 'passage'): number {
    const { maxLength } = this.options;
    let n = 0;
    for (const t of texts) {
      const text = this.input(t, kind);
      if (4 * text.length + 8 <= maxLength) continue;
      let cut = this.truncatedMemo.get(text);
      if (cut === undefined) {
        cut = (this.tokenizer.encode(text) as number[]).length > maxLength;
        this.truncatedMemo.set(text, cut);
        if (cut) this.stats.truncated++;
      }
      if (cut) n++;
    }
    return n;
  }

  /** Tokenize, run the encoder, pool, Dense, adapt, normalise one batch; returns `batch.length x dim`. */
  private async forward(batch: string[], kind: EmbedKind = 'passage'): Promise<Float32Array> {
    const { maxLength, adapter, normalize } = this.options;
    const enc = tokenizeBatch(this.tokenizer, batch, { maxLength });
    const { lengths, ...feeds } = enc;
    if (this.tasks) (feeds as Record<string, Tensor>).task_id = new Tensor('int64', BigInt64Array.of(BigInt(this.tasks[kind].id)), []);
    let output: Record<string, Tensor>;
    try {
      output = await this.encoder(feeds);
    } catch (e) {
      const positions = (this.encoder.config as unknown as { max_position_embeddings?: number }).max_position_embeddings;
      throw xlError(
        'embed',
        `model ${this.id} failed on a batch of ${batch.length} texts (longest ${Math.max(...lengths)} tokens, maxLength ${maxLength}${positions ? `, max_position_embeddings ${positions}` : ''}): ${(e as Error).message}`,
        { cause: e },
      );
    }
    // jina-embeddings-v3's hub export names its token vectors `text_embeds`.
    let hidden = output.last_hidden_state ?? output.token_embeddings ?? (output.text_embeds?.dims.length === 3 ? output.text_embeds : undefined);
    if (!hidden) {
      throw xlError('embed', `model ${this.id} returned no 'last_hidden_state' (outputs: ${Object.keys(output).join(', ')}); use a feature-extraction (encoder) ONNX export`);
    }
    if (hidden.type !== 'float32') hidden = hidden.to('float32');
    const [b, seq, hd] = hidden.dims as number[];
    // the pooling mask: the attention mask without the prompt's positions when include_prompt is false (right padding)
    let mask = enc.attention_mask.data as BigInt64Array;
    const skip = this.promptLength(kind);
    if (skip > 0) {
      mask = mask.slice();
      for (let r = 0; r < b; r++) mask.fill(0n, r * seq, r * seq + Math.min(skip, seq));
    }
    // 'pooler' reads the model's pooler_output (LaBSE); every other pooling the hidden state; several modes are concatenated
    const parts = this.moduleChain.pooling.map((pooling) => pooling === 'pooler'
      ? poolerVectors({ ...output, ...(output.pooler_output && output.pooler_output.type !== 'float32' ? { pooler_output: output.pooler_output.to('float32') } : {}) } as never, this.id)
      : { data: poolHidden(hidden.data as Float32Array, mask as unknown as ArrayLike<bigint>, [b, seq, hd], pooling), dim: hd });
    let vecs = parts[0].data;
    let d = parts[0].dim;
    if (parts.length > 1) {
      d = parts.reduce((a, p) => a + p.dim, 0);
      vecs = new Float32Array(b * d);
      for (let r = 0; r < b; r++) {
        let off = r * d;
        for (const p of parts) {
          vecs.set(p.data.subarray(r * p.dim, (r + 1) * p.dim), off);
          off += p.dim;
        }
      }
    }
    if (this.moduleChain.dense.length) {
      vecs = applyDense(this.moduleChain, vecs, b);
      d = chainDim(this.moduleChain, hd);
    }
    let dim = d;
    if (adapter) {
      vecs = adapter.apply(vecs, b, d);
      if (!(vecs instanceof Float32Array) || vecs.length % b !== 0 || vecs.length === 0) {
        throw xlError('embed', `adapter.apply returned ${vecs instanceof Float32Array ? vecs.length + ' values' : 'no Float32Array'} for ${b} vectors; expected ${b} x (output dim)`);
      }
      dim = vecs.length / b;
    }
    if (this.dimension && dim !== this.dimension) throw xlError('embed', `vectors changed size from ${this.dimension} to ${dim}`);
    if (normalize) l2NormalizeRows(vecs, dim);
    return vecs;
  }

  async dispose(): Promise<void> {
    await this.encoder.dispose();
  }
}

/**
 * Types of the dense embedding path: the {@link Embedder} interface every dense model
 * implements, and {@link EmbedOptions} with every default documented in one place
 * ({@link EMBED_DEFAULTS}).
 */
import type { OrtDevice } from '../nn/ort-device.js';

/** How token vectors become one text vector. */
export const POOLINGS = ['mean', 'cls', 'pooler', 'last_token', 'max', 'mean_sqrt_len', 'weightedmean'] as const;
/**
 * `'mean'`: average of the token vectors where attention_mask = 1; `'cls'`: the first
 * token's vector; `'pooler'`: the model's `pooler_output` (BERT/LaBSE: dense + tanh over
 * [CLS]; the ONNX export must have that output); `'last_token'`: the vector of the last
 * token with attention_mask = 1 (decoder embedders such as e5-mistral, Qwen3-Embedding);
 * `'max'`, `'mean_sqrt_len'`, `'weightedmean'`: sentence-transformers' `max`,
 * `mean_sqrt_len_tokens` and `weightedmean` modes (formulas in `st-modules.ts`).
 */
export type Pooling = (typeof POOLINGS)[number];

/** The transformers.js dtypes (which ONNX file of the model folder is loaded: fp32 `model.onnx`, q8 `model_quantized.onnx`, fp16 `model_fp16.onnx`, ...). */
export const EMBED_DTYPES = ['auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'] as const;
export type EmbedDtype = (typeof EMBED_DTYPES)[number];

/**
 * A vector transform applied after pooling and before normalisation (the fine-tuned
 * alignment adapter plugs in here).
 */
export interface VectorAdapter {
  /**
   * Transform `n` pooled vectors of size `dim` (row-major) into `n` vectors (row-major; the
   * output size may differ from `dim`, it is `result.length / n`). Must be deterministic.
   */
  apply(vectors: Float32Array, n: number, dim: number): Float32Array;
  /**
   * Identity of the adapter (e.g. a hash of its weights) for cache keys. Without it the
   * cache is not used while the adapter is set, since cached vectors could be stale.
   */
  readonly id?: string;
}

/** Options of {@link loadEmbedder}; every field optional, defaults in {@link EMBED_DEFAULTS}. */
export interface EmbedOptions {
  /**
   * Pooling of token vectors. Default: the model folder's (sentence-transformers' Pooling
   * module, `st-modules.ts`), else the name preset's (`presets.ts`), else `'mean'`. Set, it
   * overrides the folder (printed and recorded as an override).
   */
  pooling?: Pooling;
  /** L2-normalise each text vector (after the adapter). Default: the folder's (a Normalize module or cosine similarity), else `true`. */
  normalize?: boolean;
  /** Prepended to every text embedded with `kind: 'query'` (e5: `'query: '`). Default: the folder's `query` prompt, else the preset's, else `''`. */
  queryPrefix?: string;
  /** Prepended to every text embedded with `kind: 'passage'` (e5: `'passage: '`). Default: the folder's `document`/`passage`/`corpus` prompt, else the preset's, else `''`. */
  passagePrefix?: string;
  /** Read the folder's sentence-transformers files and, without them, the name preset. Default `true`; `false`: only the options given and the defaults. */
  modelConfig?: boolean;
  /** Texts per forward pass (texts are sorted by length first, so batches pad little). Default `32`. */
  batchSize?: number;
  /** transformers.js dtype: which ONNX file is loaded. Default `'fp32'`. */
  dtype?: EmbedDtype;
  /**
   * Tokens kept per text (longer texts are truncated, special tokens kept), at most the
   * tokenizer's `model_max_length` (the embedder's `config.maxLength` holds the value used).
   * Default: the tokenizer's `model_max_length` when it is set and at most 1,000,000 (a static
   * model has no position limit: 8192; e5: 512), else `512`.
   */
  maxLength?: number;
  /** Progress on stderr (`lib/util/progress.ts`: a bar on a TTY, a line every ~10 s off a TTY). Default: `true` when there are more than 4 batches to compute. */
  progress?: boolean;
  /** Folder of the embedding cache, or `false` for none. Default `.cache/embeddings` under `process.cwd()`. */
  cache?: string | false;
  /** Never try the network (transformers.js `local_files_only`). Default `false`. */
  localFilesOnly?: boolean;
  /** Hub revision (branch, tag or commit) for hub ids; part of the cache key. Default `'main'`. */
  revision?: string;
  /** Transform after pooling, before normalisation. Default none. */
  adapter?: VectorAdapter;
  /** ONNX Runtime intra-op threads of the encoder session. Default: every available core (`defaultThreads()`, `--threads`). */
  threads?: number;
  /** `'cpu'` (default) or `'cuda'` (ONNX Runtime's CUDA execution provider, when onnxruntime-node has it; else a one-line error saying how to install it: `lib/nn/ort-device.ts`). */
  device?: OrtDevice;
  /** Recompute every vector (never read the cache; fresh vectors are still written). Default `false`. */
  force?: boolean;
}

/** The defaults of {@link EmbedOptions} (`progress` and `cache` are resolved at load time). */
export const EMBED_DEFAULTS = {
  pooling: 'mean',
  normalize: true,
  queryPrefix: '',
  passagePrefix: '',
  batchSize: 32,
  dtype: 'fp32',
  maxLength: 512,
  localFilesOnly: false,
  revision: 'main',
} as const satisfies EmbedOptions;

/** Which side of retrieval a text is on; picks the prefix. */
export type EmbedKind = 'query' | 'passage';

/** A dense text encoder. */
export interface Embedder {
  /** Model identity used in cache keys and outputs: `<hub id>@<revision>` or `<folder name>@sha256:<16 hex>` for a local folder. */
  readonly id: string;
  /** Size of the returned vectors (after the adapter). */
  readonly dim: number;
  /**
   * Embed `texts` (with the prefix of `kind`, default `'passage'`) into one `texts.length x dim`
   * row-major array, row `i` for `texts[i]`.
   */
  embed(texts: string[], options?: { kind?: EmbedKind }): Promise<Float32Array>;
  /** Release the model session. */
  dispose(): Promise<void>;
}

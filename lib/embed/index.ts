/**
 * The dense embedding path, one import: `loadEmbedder` (every dense model through
 * transformers.js), the `Embedder` / `EmbedOptions` types and the on-disk cache. Model
 * families (their formats and trainable forms) live in `lib/models/<family>`.
 *
 * @example
 * import { loadEmbedder } from './lib/embed/index.js';
 * const emb = await loadEmbedder('data/models/xlalign-static-v1');
 */
export * from './types.js';
export { loadEmbedder, TransformersEmbedder, type EmbedStats } from './transformers-embedder.js';
export { EmbeddingCache, textKey, type CompactOptions } from './cache.js';
export { resolveModelSource, modelIdentity, DTYPE_SUFFIX, type ModelSource } from './model-source.js';
export { poolHidden, poolerVectors, l2NormalizeRows } from './pooling.js';
export * from './presets.js';
export { applyDense, chainSummary, describeChain, modelChainFor, readModuleChain, writeModuleChain, type DenseModule, type ModuleChain } from './st-modules.js';
export { tokenizeBatch, type TokenizedBatch } from './tokenize-batch.js';

/**
 * The dense embedding path, one import: `loadEmbedder` (every dense model through
 * transformers.js), the `Embedder` / `EmbedOptions` types, the on-disk cache and the
 * static-model writer/reader.
 *
 * @example
 * import { loadEmbedder } from './lib/embed/index.js';
 * const emb = await loadEmbedder('data/models/xlalign-static-v1');
 */
export * from './types.js';
export { loadEmbedder, TransformersEmbedder, type EmbedStats } from './transformers-embedder.js';
export { EmbeddingCache, textKey, type CompactOptions } from './cache.js';
export { writeStaticModel, readStaticModel, buildStaticOnnx, defaultTokenizerConfig, STATIC_TABLE_NAME, STATIC_OPSET, type StaticModel, type StaticOnnxOptions } from './static-model.js';
export { resolveModelSource, modelIdentity, DTYPE_SUFFIX, type ModelSource } from './model-source.js';
export { poolHidden, l2NormalizeRows } from './pooling.js';
export { tokenizeBatch, type TokenizedBatch } from './tokenize-batch.js';

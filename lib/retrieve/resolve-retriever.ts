import { existsSync } from 'node:fs';
import { loadEmbedder } from '../embed/transformers-embedder.js';
import type { EmbedOptions } from '../embed/types.js';
import { dataPath } from '../util/fs.js';
import { Bm25Retriever, type Bm25Options } from './bm25.js';
import { DenseRetriever } from './dense-retriever.js';
import type { Retriever } from './types.js';

/** The folder of the embedded default dense model (built by `npm run build:model`). */
export const DEFAULT_MODEL_NAME = 'xlalign-static-v1';

/** Path of the embedded default model folder. */
export function defaultModelPath(): string {
  return dataPath('models', DEFAULT_MODEL_NAME);
}

/** Options of {@link resolveRetriever}. */
export interface ResolveRetrieverOptions {
  /** Options for dense models (pooling, prefixes, batch size, cache ...). */
  embed?: Partial<EmbedOptions>;
  /** Options for BM25. */
  bm25?: Bm25Options;
}

/**
 * Turn a retriever name into a retriever: `bm25`; `default` (the embedded static model,
 * `data/models/xlalign-static-v1`); a local model folder in the Hugging Face layout; or a hub
 * id such as `Xenova/multilingual-e5-small` (downloaded by transformers.js where the
 * network allows). Every dense model goes through the one loading path, `loadEmbedder`.
 *
 * @example const r = await resolveRetriever('default');
 */
export async function resolveRetriever(name: string, options: ResolveRetrieverOptions = {}): Promise<Retriever> {
  if (name === 'bm25') return new Bm25Retriever(options.bm25);
  if (name === 'default') {
    const path = defaultModelPath();
    const embedder = await loadEmbedder(path, options.embed);
    return new DenseRetriever(embedder, { name: 'default' });
  }
  const embedder = await loadEmbedder(name, options.embed);
  return new DenseRetriever(embedder, { name: existsSync(name) ? name.replace(/\/+$/, '').split('/').pop()! : name });
}

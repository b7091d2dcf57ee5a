/**
 * Presets for common hub models: the pooling and prefixes their authors publish, applied
 * unless the user sets those options (see `applyEmbedPreset`).
 *
 * | models (hub id, matched case-insensitively anywhere in the name or path) | pooling | query prefix | passage prefix |
 * |---|---|---|---|
 * | `multilingual-e5-*`, `e5-*` (intfloat, Xenova)                           | mean    | `query: `    | `passage: `    |
 * | `bge-m3`                                                                 | cls     | –            | –              |
 * | `LaBSE`                                                                  | pooler  | –            | –              |
 * | `gte-multilingual` (Alibaba-NLP/gte-multilingual-base)                   | cls     | –            | –              |
 * | `jina-embeddings-v3`                                                     | mean    | `Represent the query for retrieving evidence documents: ` | `Represent the document for retrieval: ` |
 *
 * References: the model cards of intfloat/multilingual-e5-small ("Each input text should
 * start with 'query: ' or 'passage: '"), BAAI/bge-m3 (dense embedding = normalised [CLS]),
 * sentence-transformers/LaBSE (the pooler output, dense + tanh, then normalised),
 * Alibaba-NLP/gte-multilingual-base (1_Pooling: CLS, then normalised), jinaai/jina-embeddings-v3
 * (mean pooling; config_sentence_transformers.json prompts `retrieval.query` /
 * `retrieval.passage`, whose names also pick the LoRA task the embedder feeds as `task_id`).
 */
import type { EmbedOptions } from './types.js';

/** One preset. */
export interface EmbedPreset {
  /** Name shown and recorded in config.json, e.g. `multilingual-e5`. */
  name: string;
  /** Pattern matched against the hub id or folder path. */
  match: RegExp;
  /** Options it sets. */
  options: Pick<EmbedOptions, 'pooling' | 'queryPrefix' | 'passagePrefix'>;
}

/** The presets, first match wins. */
export const EMBED_PRESETS: readonly EmbedPreset[] = [
  { name: 'multilingual-e5', match: /(^|[/_-])(multilingual-)?e5-(small|base|large)/i, options: { pooling: 'mean', queryPrefix: 'query: ', passagePrefix: 'passage: ' } },
  { name: 'bge-m3', match: /bge-m3/i, options: { pooling: 'cls', queryPrefix: '', passagePrefix: '' } },
  { name: 'labse', match: /labse/i, options: { pooling: 'pooler', queryPrefix: '', passagePrefix: '' } },
  { name: 'gte-multilingual', match: /gte-multilingual/i, options: { pooling: 'cls', queryPrefix: '', passagePrefix: '' } },
  { name: 'jina-embeddings-v3', match: /jina-embeddings-v3/i, options: { pooling: 'mean', queryPrefix: 'Represent the query for retrieving evidence documents: ', passagePrefix: 'Represent the document for retrieval: ' } },
];

/** The preset of a model (hub id or folder path), if any. @example embedPresetFor('Xenova/multilingual-e5-small')?.name // 'multilingual-e5' */
export function embedPresetFor(model: string): EmbedPreset | undefined {
  return EMBED_PRESETS.find((p) => p.match.test(model));
}

/**
 * Options for `model`: the preset's values where the user did not set the option
 * (`undefined` in `user`), the user's values otherwise. Returns the options and what the
 * preset decided (for printing and config.json).
 *
 * @example applyEmbedPreset('intfloat/multilingual-e5-small', { pooling: 'cls' }).options
 *   // { pooling: 'cls', queryPrefix: 'query: ', passagePrefix: 'passage: ' }
 */
export function applyEmbedPreset(model: string, user: EmbedOptions): { options: EmbedOptions; preset?: string; applied: Partial<EmbedOptions> } {
  const p = embedPresetFor(model);
  if (!p) return { options: user, applied: {} };
  const applied: Partial<EmbedOptions> = {};
  for (const [k, v] of Object.entries(p.options) as [keyof EmbedPreset['options'], string][]) {
    if (user[k] === undefined) (applied as Record<string, string>)[k] = v;
  }
  return { options: { ...user, ...applied }, preset: p.name, applied };
}

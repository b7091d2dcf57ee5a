import { Command, Option } from 'commander';
import { EMBED_DEFAULTS, EMBED_DTYPES, POOLINGS, type EmbedOptions } from '../embed/types.js';

/** Split a comma-separated option value, dropping empty items. */
export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The dense-model options shared by `eval` and `train` (defaults from EMBED_DEFAULTS). */
export function addEmbedOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--pooling <p>', 'pooling of token vectors').choices([...POOLINGS]).default(EMBED_DEFAULTS.pooling))
    .option('--no-normalize', 'do not L2-normalise text vectors')
    .option('--query-prefix <s>', "prefix for queries (e5: 'query: ')", EMBED_DEFAULTS.queryPrefix)
    .option('--passage-prefix <s>', "prefix for documents (e5: 'passage: ')", EMBED_DEFAULTS.passagePrefix)
    .option('--batch-size <n>', 'texts per forward pass', String(EMBED_DEFAULTS.batchSize))
    .addOption(new Option('--dtype <t>', 'which ONNX weights to load').choices([...EMBED_DTYPES]).default(EMBED_DEFAULTS.dtype))
    .option('--max-length <n>', "tokens kept per text (default: the tokenizer's model_max_length, else 512)")
    .option('--cache-dir <dir>', 'embedding cache folder', '.cache/embeddings')
    .option('--no-cache', 'do not read or write the embedding cache');
}

/** Build EmbedOptions from parsed commander options. */
export function embedOptionsFrom(opts: Record<string, unknown>): EmbedOptions {
  const int = (name: string, v: unknown): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${v}'`);
    return n;
  };
  return {
    pooling: opts.pooling as EmbedOptions['pooling'],
    normalize: opts.normalize !== false,
    queryPrefix: String(opts.queryPrefix ?? ''),
    passagePrefix: String(opts.passagePrefix ?? ''),
    batchSize: int('batch-size', opts.batchSize),
    dtype: opts.dtype as EmbedOptions['dtype'],
    maxLength: opts.maxLength === undefined ? undefined : int('max-length', opts.maxLength),
    cache: opts.cache === false ? false : String(opts.cacheDir ?? '.cache/embeddings'),
  };
}

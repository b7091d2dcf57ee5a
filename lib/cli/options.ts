import { Command, Option } from 'commander';
import { EMBED_DEFAULTS, EMBED_DTYPES, POOLINGS, type EmbedOptions } from '../embed/types.js';
import { ORT_DEVICES, type OrtDevice } from '../nn/ort-device.js';
import { defaultThreads, setThreads } from '../util/threads.js';
import { checkInt } from './validate.js';

/** Split a comma-separated option value, dropping empty items. */
export function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The dense-model options shared by `eval` and `train` (defaults from EMBED_DEFAULTS). */
export function addEmbedOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--pooling <p>', "pooling of token vectors (default: the model folder's sentence-transformers Pooling, else the name preset's, else mean)").choices([...POOLINGS]).default(EMBED_DEFAULTS.pooling))
    .option('--no-normalize', "do not L2-normalise text vectors (default: normalise, unless the folder's similarity is dot without Normalize)")
    .option('--query-prefix <s>', "prefix for queries (e5: 'query: ')", EMBED_DEFAULTS.queryPrefix)
    .option('--passage-prefix <s>', "prefix for documents (e5: 'passage: ')", EMBED_DEFAULTS.passagePrefix)
    .option('--batch-size <n>', 'texts per forward pass', String(EMBED_DEFAULTS.batchSize))
    .addOption(new Option('--dtype <t>', 'which ONNX weights to load').choices([...EMBED_DTYPES]).default(EMBED_DEFAULTS.dtype))
    .option('--max-length <n>', "tokens kept per text (default: the tokenizer's model_max_length, else 512)")
    .option('--cache-dir <dir>', 'embedding cache folder', '.cache/embeddings')
    .option('--no-cache', 'do not read or write any cache (embeddings and finished pools)')
    .option('--force', 'recompute everything (read no cache; fresh results are still cached)')
    .option('--threads <n>', 'CPU threads of every ONNX Runtime session (encoder, exact top-k); default and maximum: all cores')
    .addOption(new Option('--device <d>', "where the encoder runs (embedding and fine-tuning): 'cuda' needs onnxruntime-node's CUDA provider (README: GPU)").choices([...ORT_DEVICES]).default('cpu'));
}

/**
 * Build EmbedOptions from parsed commander options (and apply `--threads` to the process).
 * @throws UsageError (exit code 2) for a bad --batch-size, --max-length or --threads.
 */
export function embedOptionsFrom(opts: Record<string, unknown>): EmbedOptions {
  const int = (name: string, v: unknown): number => checkInt('xlalign', `--${name}`, v)!;
  const threads = opts.threads === undefined ? undefined : int('threads', opts.threads);
  setThreads(threads);
  return {
    pooling: opts.pooling as EmbedOptions['pooling'],
    normalize: opts.normalize !== false,
    queryPrefix: String(opts.queryPrefix ?? ''),
    passagePrefix: String(opts.passagePrefix ?? ''),
    batchSize: int('batch-size', opts.batchSize),
    dtype: opts.dtype as EmbedOptions['dtype'],
    maxLength: opts.maxLength === undefined ? undefined : int('max-length', opts.maxLength),
    cache: opts.cache === false ? false : String(opts.cacheDir ?? '.cache/embeddings'),
    force: opts.force === true,
    ...(threads === undefined ? {} : { threads: defaultThreads() }), // capped at the cores
    ...(opts.device === undefined || opts.device === 'cpu' ? {} : { device: opts.device as OrtDevice }),
  };
}

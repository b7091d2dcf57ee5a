/**
 * Embedding benchmark: the same static model and texts through (a) the transformers.js path
 * (`loadEmbedder`, what xlalign uses) and (b) a raw onnxruntime-node session fed by the same
 * tokenizer (`tokenizeBatch`) and pooled the same way, to show what the transformers.js
 * layer costs. Reports texts/s and tokens/s and checks both give the same vectors.
 */
import { join } from 'node:path';
import { AutoTokenizer } from '@huggingface/transformers';
import { loadEmbedder } from '../lib/embed/transformers-embedder.js';
import { tokenizeBatch } from '../lib/embed/tokenize-batch.js';
import { l2NormalizeRows, poolHidden } from '../lib/embed/pooling.js';
import { benchEmbedder, type EmbedBenchResult } from './embed-hooks.js';

/** Result of {@link benchEmbeddingPaths}. */
export interface EmbeddingPathsResult {
  model: string;
  transformersJs: EmbedBenchResult;
  rawOrt: EmbedBenchResult;
  /** Largest |difference| between the two paths' vectors (want ~0). */
  maxAbsDiff: number;
}

/**
 * Time both paths on `texts` (batches of `batchSize`, default 32, texts sorted by length in
 * both paths, as the embedder does); tokens are the tokenizer's, special tokens included.
 * @example const r = await benchEmbeddingPaths('data/models/xlalign-static-v1', texts);
 */
export async function benchEmbeddingPaths(modelDir: string, texts: string[], options: { batchSize?: number; repeats?: number; maxLength?: number } = {}): Promise<EmbeddingPathsResult> {
  const { batchSize = 32, repeats = 3, maxLength = 512 } = options;
  const ortMod = await import('onnxruntime-node');
  const ort = ((ortMod as unknown as { default?: typeof ortMod }).default ?? ortMod) as typeof ortMod;
  const embedder = await loadEmbedder(modelDir, { cache: false, progress: false, batchSize, maxLength });
  const tokenizer = await AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
  const session = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'));
  const maxLen = Math.min(maxLength, embedder.config?.maxLength ?? maxLength);
  const countCache = new Map<string, number>();
  const countTokens = (t: string) => {
    let n = countCache.get(t);
    if (n === undefined) {
      n = tokenizeBatch(tokenizer, [t], { maxLength: maxLen }).lengths[0];
      countCache.set(t, n);
    }
    return n;
  };
  const raw = async (batchTexts: string[]): Promise<Float32Array> => {
    const order = batchTexts.map((_, i) => i).sort((a, b) => batchTexts[a].length - batchTexts[b].length);
    let out: Float32Array | undefined;
    let dim = 0;
    for (let b = 0; b < order.length; b += batchSize) {
      const idx = order.slice(b, b + batchSize);
      const enc = tokenizeBatch(tokenizer, idx.map((i) => batchTexts[i]), { maxLength: maxLen });
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
        input_ids: new ort.Tensor('int64', enc.input_ids.data as BigInt64Array, enc.input_ids.dims),
        attention_mask: new ort.Tensor('int64', enc.attention_mask.data as BigInt64Array, enc.attention_mask.dims),
      };
      if (enc.token_type_ids && session.inputNames.includes('token_type_ids')) {
        feeds.token_type_ids = new ort.Tensor('int64', enc.token_type_ids.data as BigInt64Array, enc.token_type_ids.dims);
      }
      const hidden = (await session.run(feeds)).last_hidden_state;
      const [bs, seq, d] = hidden.dims as number[];
      dim = d;
      const pooled = l2NormalizeRows(poolHidden(hidden.data as Float32Array, enc.attention_mask.data as BigInt64Array, [bs, seq, d], 'mean'), d);
      out ??= new Float32Array(batchTexts.length * d);
      idx.forEach((i, r) => out!.set(pooled.subarray(r * d, (r + 1) * d), i * d));
    }
    return out ?? new Float32Array(0 * dim);
  };
  const a = await embedder.embed(texts);
  const b = await raw(texts);
  let maxAbsDiff = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length && i < b.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
  const transformersJs = await benchEmbedder('transformers.js (loadEmbedder)', (t) => embedder.embed(t), texts, { batchSize: texts.length, repeats, countTokens });
  const rawOrt = await benchEmbedder('raw onnxruntime-node session', raw, texts, { batchSize: texts.length, repeats, countTokens });
  await embedder.dispose();
  await session.release();
  return { model: embedder.id, transformersJs, rawOrt, maxAbsDiff };
}

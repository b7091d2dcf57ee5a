/**
 * Hooks for the embedding and cache benchmarks. They time any embedding function on the
 * same texts, so the transformers.js path (`lib/embed/`) and a raw onnxruntime-node
 * session on the same static model can be compared figure for figure; the lead wires the
 * two embedders in (see the report), bench/run.ts calls them when given.
 */

/** Something that embeds a batch of texts (any backend). */
export type EmbedFn = (texts: string[]) => Promise<Float32Array | ArrayLike<number>[] | unknown>;

/** Result of {@link benchEmbedder}. */
export interface EmbedBenchResult {
  name: string;
  texts: number;
  tokens: number;
  /** Best of `repeats` timed passes (after one warm-up). */
  seconds: number;
  textsPerSecond: number;
  tokensPerSecond: number;
}

/**
 * Time `embed` over `texts` in batches of `batchSize` (default 32): one warm-up pass, then
 * `repeats` (default 3) timed passes; the best is reported (least disturbed by other load).
 * `countTokens` (default: whitespace words) gives the token count for tokens/s; pass the
 * model's tokenizer to report real tokens.
 * @example
 * const r = await benchEmbedder('transformers.js', (t) => embedder.embed(t), texts, { countTokens });
 */
export async function benchEmbedder(
  name: string,
  embed: EmbedFn,
  texts: string[],
  options: { batchSize?: number; repeats?: number; countTokens?: (text: string) => number } = {},
): Promise<EmbedBenchResult> {
  const { batchSize = 32, repeats = 3 } = options;
  const countTokens = options.countTokens ?? ((t: string) => t.split(/\s+/).filter(Boolean).length);
  let tokens = 0;
  for (const t of texts) tokens += countTokens(t);
  const pass = async () => {
    for (let i = 0; i < texts.length; i += batchSize) await embed(texts.slice(i, i + batchSize));
  };
  await pass();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    await pass();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return { name, texts: texts.length, tokens, seconds: best, textsPerSecond: texts.length / best, tokensPerSecond: tokens / best };
}

/** Result of {@link benchCache}. */
export interface CacheBenchResult {
  name: string;
  items: number;
  coldSeconds: number;
  warmSeconds: number;
  speedup: number;
}

/**
 * Time a cached embedding step cold (cache empty: `clear()` first) and warm (same call
 * again). `run` must embed through the cache.
 * @example const r = await benchCache('chunk cache', () => cache.clear(), () => embedAll(texts), texts.length);
 */
export async function benchCache(name: string, clear: () => Promise<void> | void, run: () => Promise<unknown>, items: number): Promise<CacheBenchResult> {
  await clear();
  let t = performance.now();
  await run();
  const coldSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await run();
  const warmSeconds = (performance.now() - t) / 1000;
  return { name, items, coldSeconds, warmSeconds, speedup: coldSeconds / warmSeconds };
}

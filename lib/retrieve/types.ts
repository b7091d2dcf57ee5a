import type { Run } from '../runs/types.js';

/** Something that ranks a pool's documents for its queries. */
export interface Retriever {
  /** Name used in outputs (`bm25`, `default`, a hub id ...). */
  readonly name: string;
  /**
   * Everything that changes the ranking (model identity, options, parameters), as one
   * string. Evaluation caches finished pools under it, so a re-run with the same identity
   * reuses them. Default: the name (then nothing is reused across runs).
   */
  readonly identity?: string;
  /**
   * Score every document of `docs` for every query of `queries` and return the top `k`
   * per query (all when `k` is undefined), skipping `exclude[qid]`.
   */
  retrieve(
    queries: { id: string; lang: string; text: string }[],
    docs: { id: string; lang: string; text: string }[],
    options?: { k?: number; exclude?: Record<string, string[]> },
  ): Promise<Run>;
}

import type { Embedder } from '../embed/types.js';
import type { Retriever } from './types.js';
import type { Run } from '../runs/types.js';
import { exactTopK } from './exact-topk.js';

/** Options of {@link DenseRetriever}. */
export interface DenseRetrieverOptions {
  /** Name used in outputs. Default: the embedder's id. */
  name?: string;
}

/**
 * Dense retrieval: embed queries (as `query`) and documents (as `passage`) with an
 * {@link Embedder}, then exact cosine top-k over the whole pool (`exactTopK`, blocked
 * matrix products). Vectors are kept in memory by text and kind for the life of the
 * retriever, so the same documents across scenarios are embedded once (the embedder's disk
 * cache covers re-runs).
 *
 * @example const r = new DenseRetriever(await loadEmbedder('data/models/xlalign-static-v1'));
 */
export class DenseRetriever implements Retriever {
  readonly name: string;
  readonly identity: string;
  private readonly memo = new Map<string, Float32Array>();

  constructor(readonly embedder: Embedder, options: DenseRetrieverOptions = {}) {
    this.name = options.name ?? embedder.id;
    // the options that change vectors, when the embedder exposes them (TransformersEmbedder.config)
    const cfg = (embedder as { config?: Record<string, unknown> }).config ?? {};
    const { pooling, normalize, maxLength, dtype, queryPrefix, passagePrefix } = cfg;
    const adapter = (cfg.adapter as { id?: string } | undefined)?.id ?? (cfg.adapter ? `unidentified-${Math.random()}` : null);
    this.identity = `dense:${embedder.id}:${JSON.stringify({ pooling, normalize, maxLength, dtype, queryPrefix, passagePrefix, adapter })}`;
  }

  /** Embed texts of one kind, reusing vectors already computed by this retriever. */
  async embed(texts: string[], kind: 'query' | 'passage'): Promise<Float32Array> {
    const dim = this.embedder.dim;
    const missing = [...new Set(texts.filter((t) => !this.memo.has(`${kind}\u0000${t}`)))];
    if (missing.length) {
      const vecs = await this.embedder.embed(missing, { kind });
      missing.forEach((t, i) => this.memo.set(`${kind}\u0000${t}`, vecs.slice(i * dim, (i + 1) * dim)));
    }
    const out = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => out.set(this.memo.get(`${kind}\u0000${t}`)!, i * dim));
    return out;
  }

  async retrieve(
    queries: { id: string; text: string }[],
    docs: { id: string; text: string }[],
    options: { k?: number; exclude?: Record<string, string[]> } = {},
  ): Promise<Run> {
    const { k = docs.length, exclude = {} } = options;
    const dim = this.embedder.dim;
    const q = await this.embed(queries.map((x) => x.text), 'query');
    const d = await this.embed(docs.map((x) => x.text), 'passage');
    const docIndex = new Map(docs.map((x, i) => [x.id, i]));
    const res = await exactTopK(q, d, dim, {
      k: Math.min(k, docs.length),
      exclude: (qi) => (exclude[queries[qi].id] ?? []).map((id) => docIndex.get(id)).filter((i): i is number => i !== undefined),
    });
    const run: Run = {};
    queries.forEach((query, qi) => {
      const ids: string[] = [];
      const scores: number[] = [];
      for (let j = 0; j < res.k; j++) {
        const di = res.indices[qi * res.k + j];
        if (di < 0) break;
        ids.push(docs[di].id);
        scores.push(res.scores[qi * res.k + j]);
      }
      run[query.id] = { ids, scores };
    });
    return run;
  }
}

/**
 * BM25 over any mix of the XQuAD languages, with the one tokenizer of `tokenize.ts`.
 *
 * Scoring, as Lucene 9's `BM25Similarity` (what Pyserini runs), for query q and document d:
 *
 *   score(q, d) = sum over distinct terms t of q:  qtf(t) * idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
 *   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))        (Lucene's idf, never negative)
 *
 * tf = occurrences of t in d, dl = tokens in d, avgdl = mean dl over the pool, N = pool
 * size, df(t) = documents containing t, qtf(t) = occurrences of t in the query (Pyserini's
 * bag-of-words query weights a repeated term by its count). Lucene 9 drops the constant
 * factor (k1 + 1) of the classic formula; it does not change rankings. Unlike Lucene, document
 * lengths are exact (Lucene stores them lossily in one byte), so scores can differ from
 * Pyserini's in the last digits. Statistics (N, df, avgdl) come from the documents of each
 * `retrieve` call: a pool is its own collection.
 *
 * Reference: Robertson & Zaragoza, "The probabilistic relevance framework: BM25 and beyond",
 * FnTIR 2009; Lucene `BM25Similarity`; Pyserini's defaults k1 = 0.9, b = 0.4.
 */
import { xlError } from '../util/errors.js';
import { tokenize } from './tokenize.js';
import { createProgress, type Progress } from '../util/progress.js';
import type { Retriever } from './types.js';
import type { Ranking, Run } from '../runs/types.js';
import { compareIds } from '../runs/ranking.js';

/** Options of {@link Bm25Retriever}. */
export interface Bm25Options {
  /** Term-frequency saturation, >= 0. Default 0.9 (Pyserini). */
  k1?: number;
  /** Length normalisation, in [0, 1]. Default 0.4 (Pyserini). */
  b?: number;
  /** Name used in outputs. Default `'bm25'`. */
  name?: string;
}

/** The defaults of {@link Bm25Options}. */
export const BM25_DEFAULTS = { k1: 0.9, b: 0.4, name: 'bm25' } as const;

/** New document text (characters) from which tokenisation shows progress (a bar on a terminal, a line every ~10 s off one). */
const PROGRESS_MIN_CHARS = 2_000_000;

interface Tokenized {
  text: string;
  tokens: string[];
}

/**
 * A BM25 {@link Retriever}. Each `retrieve` call indexes the given documents (an inverted
 * index in typed arrays), scores every document for every query, and returns per query the
 * documents sorted by score, descending, ties by document id as `compareIds` of
 * `lib/runs/ranking.ts` orders them, i.e. as the metrics rank an unjudged ranking (all of them, score 0
 * included, when `k` is undefined; else the top `k`), without `exclude[qid]`.
 * Tokenized texts are cached by id within the instance (re-tokenized if the text of an id
 * changes), since the same documents come back in every scenario.
 *
 * @param options - see {@link Bm25Options}; defaults {@link BM25_DEFAULTS}.
 * @throws XlalignError for k1 < 0, b outside [0, 1], or duplicate document ids in a call.
 * @example
 * const bm25 = new Bm25Retriever({ k1: 0.9, b: 0.4 });
 * const run = await bm25.retrieve(pool.queries, pool.docs, { k: 100, exclude: pool.exclude });
 */
export class Bm25Retriever implements Retriever {
  readonly name: string;
  readonly identity: string;
  readonly k1: number;
  readonly b: number;
  private readonly docCache = new Map<string, Tokenized>();
  private readonly queryCache = new Map<string, Tokenized>();

  constructor(options: Bm25Options = {}) {
    const { k1, b, name } = { ...BM25_DEFAULTS, ...options };
    if (!(Number.isFinite(k1) && k1 >= 0)) throw xlError('Bm25Retriever', `k1 = ${k1} is not valid; use a finite number >= 0 (default 0.9)`);
    if (!(Number.isFinite(b) && b >= 0 && b <= 1)) throw xlError('Bm25Retriever', `b = ${b} is not valid; use a number in [0, 1] (default 0.4)`);
    this.k1 = k1;
    this.b = b;
    this.name = name;
    // Segmentation depends on the ICU data Node ships, so its version is part of the identity.
    this.identity = `bm25:${JSON.stringify({ k1, b, tokenizer: 'nfkc-lower-intl-segmenter', icu: process.versions.icu ?? null })}`;
  }

  /** Hyperparameters, for logging. @example new Bm25Retriever().getConfig() // { k1: 0.9, b: 0.4 } */
  getConfig(): { k1: number; b: number } {
    return { k1: this.k1, b: this.b };
  }

  private tokens(cache: Map<string, Tokenized>, id: string, text: string, progress?: Progress): string[] {
    const hit = cache.get(id);
    if (hit && hit.text === text) return hit.tokens;
    let reported = 0;
    const report = (n: number) => {
      const k = Math.min(n, text.length - reported);
      reported += k;
      progress?.tick(k);
    };
    const tokens = tokenize(text, progress ? { onChunk: report } : {});
    report(text.length);
    cache.set(id, { text, tokens });
    return tokens;
  }

  /** Tokens of every document (cached ones reused), with a progress line when much text is new. */
  private docTokens(docs: { id: string; text: string }[]): string[][] {
    let fresh = 0;
    for (const d of docs) if (this.docCache.get(d.id)?.text !== d.text) fresh += d.text.length;
    const progress = createProgress({ stage: 'tokenize', total: fresh, unit: 'characters', mode: fresh >= PROGRESS_MIN_CHARS ? undefined : 'off' });
    const out = docs.map((d) => this.tokens(this.docCache, d.id, d.text, progress));
    progress.done();
    return out;
  }

  /**
   * Rank `docs` for every query of `queries` (see the class comment).
   * @param options.k - documents per query; default all.
   * @param options.exclude - per query id, document ids to leave out; ids not in `docs` are ignored.
   * @throws XlalignError for a bad `k` or duplicate document ids (naming the index).
   * @example const run = await bm25.retrieve(pool.queries, pool.docs, { exclude: pool.exclude });
   */
  async retrieve(
    queries: { id: string; lang?: string; text: string }[],
    docs: { id: string; lang?: string; text: string }[],
    options: { k?: number; exclude?: Record<string, string[]> } = {},
  ): Promise<Run> {
    const { k, exclude = {} } = options;
    if (k !== undefined && !(Number.isInteger(k) && k >= 0)) {
      throw xlError('Bm25Retriever.retrieve', `k = ${k} is not valid; use a non-negative integer, or leave it out for all documents`);
    }
    const index = buildIndex(this.docTokens(docs));
    const docIndex = new Map<string, number>();
    docs.forEach((d, i) => {
      if (docIndex.has(d.id)) throw xlError('Bm25Retriever.retrieve', `docs[${i}].id '${d.id}' is a duplicate (also docs[${docIndex.get(d.id)}]); document ids must be unique`);
      docIndex.set(d.id, i);
    });
    const n = docs.length;
    // Per-document length normaliser k1 * (1 - b + b * dl / avgdl); avgdl = 0 (only empty documents) -> 1.
    const norm = new Float64Array(n);
    for (let d = 0; d < n; d++) norm[d] = this.k1 * (index.avgdl > 0 ? 1 - this.b + (this.b * index.lengths[d]) / index.avgdl : 1);
    // Tie order: the unjudged order of lib/runs/ranking.ts (ids ascending), computed once.
    const byId = Uint32Array.from({ length: n }, (_, i) => i).sort((x, y) => compareIds(docs[x].id, docs[y].id));
    const rankOfId = new Uint32Array(n);
    byId.forEach((d, r) => (rankOfId[d] = r));

    const run: Run = {};
    const scores = new Float64Array(n);
    const excluded = new Uint8Array(n);
    for (const q of queries) {
      scores.fill(0);
      const qtf = new Map<number, number>();
      for (const t of this.tokens(this.queryCache, q.id, q.text)) {
        const id = index.vocab.get(t);
        if (id !== undefined) qtf.set(id, (qtf.get(id) ?? 0) + 1);
      }
      for (const [t, c] of qtf) {
        const w = c * index.idf[t];
        for (let p = index.offsets[t]; p < index.offsets[t + 1]; p++) {
          const d = index.postDoc[p];
          const tf = index.postTf[p];
          scores[d] += (w * tf) / (tf + norm[d]);
        }
      }
      const ex = exclude[q.id] ?? [];
      for (const id of ex) {
        const d = docIndex.get(id);
        if (d !== undefined) excluded[d] = 1;
      }
      run[q.id] = rankScores(scores, excluded, byId, rankOfId, docs, k);
      for (const id of ex) {
        const d = docIndex.get(id);
        if (d !== undefined) excluded[d] = 0;
      }
    }
    return run;
  }
}

/** An inverted index in compressed-sparse-row form: postings of term t are offsets[t] .. offsets[t+1]. */
interface Index {
  vocab: Map<string, number>;
  idf: Float64Array;
  offsets: Uint32Array;
  postDoc: Uint32Array;
  postTf: Uint32Array;
  lengths: Uint32Array;
  avgdl: number;
}

/** Build the inverted index and Lucene idf of tokenized documents. */
function buildIndex(docTokens: string[][]): Index {
  const vocab = new Map<string, number>();
  const n = docTokens.length;
  const lengths = new Uint32Array(n);
  // Each document as sorted term ids, so that equal terms are adjacent (tf = run length).
  const termIds: Uint32Array[] = docTokens.map((tokens, d) => {
    lengths[d] = tokens.length;
    const ids = new Uint32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      let id = vocab.get(tokens[i]);
      if (id === undefined) vocab.set(tokens[i], (id = vocab.size));
      ids[i] = id;
    }
    return ids.sort();
  });
  const V = vocab.size;
  const df = new Uint32Array(V);
  for (const ids of termIds) for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) df[ids[i]]++;
  const offsets = new Uint32Array(V + 1);
  for (let t = 0; t < V; t++) offsets[t + 1] = offsets[t] + df[t];
  const fill = offsets.slice(0, V);
  const postDoc = new Uint32Array(offsets[V]);
  const postTf = new Uint32Array(offsets[V]);
  termIds.forEach((ids, d) => {
    for (let i = 0; i < ids.length; ) {
      let j = i + 1;
      while (j < ids.length && ids[j] === ids[i]) j++;
      const p = fill[ids[i]]++;
      postDoc[p] = d;
      postTf[p] = j - i;
      i = j;
    }
  });
  const idf = new Float64Array(V);
  for (let t = 0; t < V; t++) idf[t] = Math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5));
  let total = 0;
  for (let d = 0; d < n; d++) total += lengths[d];
  return { vocab, idf, offsets, postDoc, postTf, lengths, avgdl: n > 0 ? total / n : 0 };
}

/**
 * One query's ranking: non-excluded documents by score descending, ties by document id;
 * the top `k` when given. Documents with a positive score are sorted; the zero-score rest
 * follow in id order (walking the precomputed id order, only as far as needed).
 */
function rankScores(
  scores: Float64Array,
  excluded: Uint8Array,
  byId: Uint32Array,
  rankOfId: Uint32Array,
  docs: { id: string }[],
  k: number | undefined,
): Ranking {
  const n = scores.length;
  const positive: number[] = [];
  for (let d = 0; d < n; d++) if (!excluded[d] && scores[d] > 0) positive.push(d);
  positive.sort((x, y) => scores[y] - scores[x] || rankOfId[x] - rankOfId[y]);
  let want = n;
  if (k !== undefined && k < want) want = k;
  const ids: string[] = [];
  const out: number[] = [];
  for (let i = 0; i < positive.length && ids.length < want; i++) {
    ids.push(docs[positive[i]].id);
    out.push(scores[positive[i]]);
  }
  if (ids.length < want) {
    for (let r = 0; r < n && ids.length < want; r++) {
      const d = byId[r];
      if (excluded[d] || scores[d] > 0) continue;
      ids.push(docs[d].id);
      out.push(0);
    }
  }
  return { ids, scores: out };
}

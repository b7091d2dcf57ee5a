/**
 * The one tie order of xlalign, and the ranked relevance vector the metrics score.
 *
 * ## Tie policy (stated once, here; everything that orders a ranking imports it)
 * Metrics never trust the order of `Ranking.ids`; they sort every ranking themselves, and
 * so do the TREC run writer (`writeRun`), the `--run-depth` cut ({@link truncateRun}) and
 * BM25's ranking ({@link compareIds}):
 *
 * 1. by score, descending;
 * 2. among equal scores, **pessimistically**: non-relevant documents before relevant ones
 *    (for graded judgments, lower relevance before higher);
 * 3. then by document id (ascending, code-unit order), so that the result is deterministic.
 *
 * A retriever gains nothing from ties: a constant-score retriever gets the worst value of
 * every metric. (trec_eval breaks ties by document id only, descending in byte order; ranx
 * keeps the input order. Both can reward ties by luck; the pessimistic policy cannot.)
 *
 * The second policy, {@link TiePolicy} `trec_eval`, is trec_eval's own (form_res_rels.c,
 * `comp_sim_docno`): score descending, then document id **descending** in UTF-8 byte order
 * ({@link compareUtf8}). `xlalign score` uses it by default for foreign run files, so that
 * its numbers are trec_eval's; everything xlalign ranks itself (eval, the exported run
 * files, `--run-depth`) uses the pessimistic policy, and the exported files encode that order
 * in their score column, so trec_eval reproduces it (see `writeRun`).
 *
 * Excluded documents are simply absent from the ranking (the pool builder removes them), so
 * metrics need no notion of exclusions. Document ids within one ranking must be unique.
 */
import type { Ranking, Run } from './types.js';
import type { Qrels } from './types.js';
import { xlError } from '../util/errors.js';

/**
 * Key 3 of the tie order: document ids ascending, in UTF-16 code-unit order (what `<` on
 * strings does; not `localeCompare`). Retrievers that order ties themselves (BM25) use it,
 * so that their output is already in the order the metrics give an unjudged ranking.
 * @example ['b', 'B', 'a'].sort(compareIds) // ['B', 'a', 'b']
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * How equal scores are ordered: `pessimistic` (xlalign's metrics: non-relevant first, then
 * id ascending) or `trec_eval` (id descending in UTF-8 byte order, as trec_eval).
 */
export type TiePolicy = 'pessimistic' | 'trec_eval';

/** The tie policies, for option checks. */
export const TIE_POLICIES: readonly TiePolicy[] = ['pessimistic', 'trec_eval'];

/**
 * Document ids in UTF-8 byte order (C's `strcmp` on UTF-8, what trec_eval compares), without
 * encoding: UTF-16 code-unit order except that surrogates (code points above U+FFFF, 4 UTF-8
 * bytes) sort after U+E000..U+FFFF (3 bytes).
 * @example ['\u{1F600}', '\uFF01'].sort(compareUtf8) // ['\uFF01', '\u{1F600}'] (code units would give the reverse)
 */
export function compareUtf8(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // surrogates D800-DFFF move above E000-FFFF
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * One query's ranking after the tie policy, as flat typed arrays (no per-document objects).
 *
 * - `rel[i]`: relevance of the document at 0-based rank `i` (0 = non-relevant);
 * - `order[i]`: index into the original `ranking.ids` of the document at rank `i`;
 * - `ids`: the original (unsorted) ids, so that `ids[order[i]]` is the id at rank `i`;
 * - `ideal`: the relevance values of all judged relevant documents of the query (from the
 *   qrels, retrieved or not), sorted descending; `ideal.length` = number of relevant documents.
 */
export interface RankedQuery {
  rel: Float64Array;
  order: Uint32Array;
  ids: readonly string[];
  ideal: Float64Array;
}

/**
 * The relevance values (> 0) of one query's judgments, sorted descending. Judgments <= 0
 * count as non-relevant (as in trec_eval).
 * @example idealRelevance({ a: 1, b: 2, c: 0 }) // Float64Array [2, 1]
 */
export function idealRelevance(judgments: Record<string, number> | undefined): Float64Array {
  if (!judgments) return new Float64Array(0);
  const values: number[] = [];
  for (const id in judgments) {
    const r = judgments[id];
    if (r > 0) values.push(r);
  }
  return Float64Array.from(values).sort().reverse();
}

/** Number of relevant (relevance > 0) documents in one query's judgments. @example countRelevant({ a: 1, b: 0 }) // 1 */
export function countRelevant(judgments: Record<string, number> | undefined): number {
  let n = 0;
  if (judgments) for (const id in judgments) if (judgments[id] > 0) n++;
  return n;
}

/**
 * Reusable buffers for {@link rankQuery}: when many queries are ranked in a row (as in
 * `evaluate`), passing the same scratch avoids allocating typed arrays per query (off-heap
 * typed-array buffers are what made a 100,000-query run spend most of its time in GC).
 */
export interface RankScratch {
  rel0: Float64Array;
  rel: Float64Array;
  order: Uint32Array;
}

/** New (empty) scratch buffers for {@link rankQuery}; they grow on demand. */
export function createRankScratch(): RankScratch {
  return { rel0: new Float64Array(256), rel: new Float64Array(256), order: new Uint32Array(256) };
}

/**
 * Rank one query's documents with the tie policy above and look up their relevance.
 *
 * Fast path: when the scores are already strictly descending (the usual retriever output)
 * no sort happens. Otherwise an index array is sorted with the three-key comparator.
 *
 * @param qid - the query id, only used in error messages.
 * @param ranking - the query's `Ranking` (ids and scores in any order); may be undefined
 *   (query absent from the run), which gives an empty ranking.
 * @param judgments - the query's qrels row `{ docid: relevance }` (may be undefined).
 * @param scratch - optional buffers from {@link createRankScratch}; when given, `rel` and
 *   `order` of the result are views into them, valid only until the next call with the
 *   same scratch.
 * @param ties - the tie policy (default `pessimistic`; `trec_eval`: id descending, byte order).
 * @throws XlalignError when `scores` and `ids` differ in length, a score is NaN, or a
 *   relevant document id appears twice in the ranking.
 * @example
 * const r = rankQuery('q1', { ids: ['d1', 'd2'], scores: [0.5, 0.5] }, { d1: 1 });
 * // r.rel = [0, 1]: the tie puts the non-relevant d2 first.
 */
export function rankQuery(
  qid: string,
  ranking: Ranking | undefined,
  judgments: Record<string, number> | undefined,
  scratch?: RankScratch,
  ties: TiePolicy = 'pessimistic',
): RankedQuery {
  const ideal = idealRelevance(judgments);
  if (!ranking) return { rel: new Float64Array(0), order: new Uint32Array(0), ids: [], ideal };
  const { ids, scores } = ranking;
  const n = ids.length;
  if (scores.length !== n) {
    throw xlError('rankQuery', `run['${qid}'] has ${n} ids but ${scores.length} scores; they must match one to one`);
  }
  let rel0: Float64Array;
  let rel: Float64Array;
  let order: Uint32Array;
  if (scratch) {
    if (scratch.order.length < n) {
      const size = Math.max(n, 2 * scratch.order.length);
      Object.assign(scratch, { rel0: new Float64Array(size), rel: new Float64Array(size), order: new Uint32Array(size) });
    }
    rel0 = scratch.rel0.subarray(0, n).fill(0);
    rel = scratch.rel.subarray(0, n);
    order = scratch.order.subarray(0, n);
  } else {
    rel0 = new Float64Array(n);
    rel = new Float64Array(n);
    order = new Uint32Array(n);
  }
  let strict = true; // strictly descending: nothing to do
  let descending = true; // non-increasing: only runs of tied scores need ordering
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (Number.isNaN(s)) throw xlError('rankQuery', `run['${qid}'].scores[${i}] (doc '${ids[i]}') is NaN; scores must be numbers`);
    if (i > 0 && !(scores[i - 1] > s)) {
      strict = false;
      if (!(scores[i - 1] >= s)) descending = false;
    }
  }
  if (judgments && ideal.length <= 64) {
    // A query has few relevant documents: find each in the ranking with the native indexOf
    // (faster than a property lookup per document on many differently shaped qrels rows);
    // this also catches a relevant document listed twice.
    for (const id in judgments) {
      const r = judgments[id];
      if (!(r > 0)) continue;
      const i = ids.indexOf(id);
      if (i < 0) continue;
      if (ids.indexOf(id, i + 1) >= 0) throw duplicate(qid, id);
      rel0[i] = r;
    }
  } else if (judgments) {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const r = judgments[ids[i]];
      if (r > 0) {
        if (seen.has(ids[i])) throw duplicate(qid, ids[i]);
        seen.add(ids[i]);
        rel0[i] = r;
      }
    }
  }
  for (let i = 0; i < n; i++) order[i] = i;
  // Tie order within equal scores: relevance ascending, then id ascending (pessimistic), or
  // id descending in byte order (trec_eval).
  const trec = ties === 'trec_eval';
  if (!trec && ties !== 'pessimistic') throw xlError('rankQuery', `ties = '${ties}'; use one of ${TIE_POLICIES.join(', ')}`);
  const tie = trec ? (a: number, b: number): number => compareUtf8(ids[b], ids[a]) : (a: number, b: number): number => rel0[a] - rel0[b] || compareIds(ids[a], ids[b]);
  if (!strict && descending && trec) {
    for (let s0 = 0; s0 < n; ) {
      let e = s0 + 1;
      while (e < n && scores[e] === scores[s0]) e++;
      if (e - s0 > 1) order.subarray(s0, e).sort(tie);
      s0 = e;
    }
  } else if (!strict && descending) {
    // Already sorted by score (e.g. a retriever's output with a long tail of equal scores):
    // order each run of tied scores on its own, in linear time when its non-relevant
    // documents already come in id order (then only the few relevant ones are sorted).
    for (let s0 = 0; s0 < n; ) {
      let e = s0 + 1;
      while (e < n && scores[e] === scores[s0]) e++;
      if (e - s0 > 1) orderTies(order, s0, e, rel0, ids, tie);
      s0 = e;
    }
  } else if (!strict) {
    order.sort((a, b) => (scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : tie(a, b)));
  }
  for (let i = 0; i < n; i++) rel[i] = rel0[order[i]];
  return { rel, order, ids, ideal };
}

/** Order `order[s..e)` (documents with equal scores, in input order) by the tie comparator. */
function orderTies(
  order: Uint32Array,
  s: number,
  e: number,
  rel0: Float64Array,
  ids: readonly string[],
  tie: (a: number, b: number) => number,
): void {
  let last: string | undefined;
  let inIdOrder = true;
  const relevant: number[] = [];
  for (let i = s; i < e; i++) {
    if (rel0[i] > 0) relevant.push(i);
    else {
      if (last !== undefined && !(last < ids[i])) inIdOrder = false;
      last = ids[i];
    }
  }
  if (!inIdOrder) {
    order.subarray(s, e).sort(tie);
    return;
  }
  let w = s;
  for (let i = s; i < e; i++) if (!(rel0[i] > 0)) order[w++] = i;
  relevant.sort(tie);
  for (const i of relevant) order[w++] = i;
}

function duplicate(qid: string, id: string) {
  return xlError('rankQuery', `run['${qid}'] lists relevant doc '${id}' twice; ids in a ranking must be unique`);
}

/**
 * The order of one ranking under the tie policy: `order[r]` is the index into `ranking.ids`
 * of the document at 0-based rank `r`. With the query's judgments, ties put non-relevant
 * documents first (exactly as the metrics rank them); without, ties go by id.
 * @throws XlalignError as {@link rankQuery}.
 * @example rankOrder('q', { ids: ['a', 'b', 'c'], scores: [1, 2, 2] }, { b: 1 }) // Uint32Array [2, 1, 0]
 */
export function rankOrder(qid: string, ranking: Ranking, judgments?: Record<string, number>, ties: TiePolicy = 'pessimistic'): Uint32Array {
  return rankQuery(qid, ranking, judgments, undefined, ties).order;
}

/**
 * The top `depth` documents of every ranking, in the tie order of the metrics (see the file
 * comment): with `qrels`, a tie at the cut keeps exactly the documents the metrics rank
 * within the top `depth` (non-relevant before relevant), so metrics with cutoffs <= `depth`
 * are the same on the cut run as on the whole one. Rankings come back in ranked order.
 * Rankings no longer than `depth` are returned as they are.
 * @param depth - documents kept per query (a positive integer).
 * @param qrels - judgments used for the tie order (default none: ties by id).
 * @throws XlalignError for a bad depth or a malformed ranking.
 * @example truncateRun({ q: { ids: ['a', 'b', 'c'], scores: [2, 1, 1] } }, 2, { q: { b: 1 } }) // { q: { ids: ['a', 'c'], scores: [2, 1] } }
 */
export function truncateRun(run: Run, depth: number, qrels?: Qrels): Run {
  if (!(Number.isInteger(depth) && depth > 0)) throw xlError('truncateRun', `depth = ${depth}; use a positive integer`);
  const out: Run = {};
  for (const qid in run) {
    const { ids, scores } = run[qid];
    if (ids.length <= depth) {
      out[qid] = { ids, scores };
      continue;
    }
    const top = rankOrder(qid, run[qid], qrels?.[qid]).subarray(0, depth);
    out[qid] = { ids: Array.from(top, (i) => ids[i]), scores: Array.from(top, (i) => scores[i]) };
  }
  return out;
}

/**
 * The ranked ids of a {@link RankedQuery} (allocates; metrics use `ids[order[i]]` instead).
 * @example rankedIds(rankQuery('q', { ids: ['a', 'b'], scores: [1, 2] }, {})) // ['b', 'a']
 */
export function rankedIds(ranked: RankedQuery): string[] {
  const out = new Array<string>(ranked.order.length);
  for (let i = 0; i < out.length; i++) out[i] = ranked.ids[ranked.order[i]];
  return out;
}

/**
 * The queries that metrics evaluate: those in `qrels` with at least one relevant document
 * (relevance > 0), in the qrels' key order. Queries of the run that are not among them
 * are ignored.
 * @example evaluatedQueries({ q1: { a: 1 }, q2: { a: 0 } }) // ['q1']
 */
export function evaluatedQueries(qrels: Qrels): string[] {
  return Object.keys(qrels).filter((q) => countRelevant(qrels[q]) > 0);
}

/**
 * Apply a one-query metric to every evaluated query of `qrels` (see
 * {@link evaluatedQueries}); a query absent from `run` is ranked as an empty ranking.
 * Returns per-query scores; a query for which `fn` returns NaN (metric undefined there)
 * is left out of the result.
 * @example perQuery(qrels, run, (r) => (r.rel[0] > 0 ? 1 : 0)) // success@1 per query
 */
export function perQuery(qrels: Qrels, run: Run, fn: (ranked: RankedQuery, qid: string) => number): Record<string, number> {
  const out: Record<string, number> = {};
  const scratch = createRankScratch();
  for (const qid of evaluatedQueries(qrels)) {
    const v = fn(rankQuery(qid, run[qid], qrels[qid], scratch), qid);
    if (!Number.isNaN(v)) out[qid] = v;
  }
  return out;
}

/**
 * Validate a cutoff `k`: a non-negative integer, or undefined for the whole ranking.
 * @param where - the calling function, for the error message.
 * @throws XlalignError when `k` is negative or not an integer.
 * @example checkK('ndcg', 10); // ok; checkK('ndcg', -1) throws
 */
export function checkK(where: string, k: number | undefined): void {
  if (k !== undefined && !(Number.isInteger(k) && k >= 0)) {
    throw xlError(where, `k = ${k} is not valid; use a non-negative integer (or leave it out for the whole ranking)`);
  }
}

/** The number of ranks a cutoff covers: `min(k, n)`, with undefined `k` meaning `n`. @example cut(10, 3) // 3 */
export function cut(k: number | undefined, n: number): number {
  return k === undefined || k > n ? n : k;
}

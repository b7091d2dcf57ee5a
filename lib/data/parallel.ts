import { createHash } from 'node:crypto';
import { xlError } from '../util/errors.js';
import { belebelePassageId, belebeleQuestionId, loadBelebele, type BelebeleOptions } from './belebele.js';
import { loadXquadAll, XQUAD_LANGS, type XquadOptions } from './xquad.js';

/**
 * A parallel retrieval corpus: per language, documents and queries whose bare ids are the
 * same for parallel versions. Each query names its answer document (bare id). Pools
 * (`lib/pools`) are built from this shape, whatever the dataset.
 */
export interface ParallelCorpus {
  name: string;
  langs: string[];
  docs: Record<string, { id: string; text: string }[]>;
  /**
   * Per language, the queries. `docId` is the (first) relevant document's bare id;
   * `docIds`, when present, lists every relevant document (`docIds[0] === docId`): a query
   * of an own dataset may name several. Absent means `[docId]`.
   */
  queries: Record<string, { id: string; text: string; docId: string; docIds?: string[] }[]>;
  /**
   * The group of each bare document id (XQuAD: its article, `a07`), the same in every
   * language: a train/eval split keeps a group on one side. Absent: every document is its
   * own group.
   */
  groups?: Record<string, string>;
  /** Default pivot language of the dataset (e.g. `en`), when it has one. */
  pivot?: string;
}

/** The relevant bare document ids of a corpus query (`docIds`, else `[docId]`). */
export function relevantDocIds(query: { docId: string; docIds?: string[] }): string[] {
  return query.docIds ?? [query.docId];
}

/**
 * XQuAD as a parallel corpus: paragraphs are documents (240 a language), questions are
 * queries (1190 a language), each relevant to its paragraph.
 *
 * @example const c = xquadCorpus(['en', 'de']); c.docs.de.length // 240
 */
export function xquadCorpus(langs: readonly string[] = XQUAD_LANGS, options: XquadOptions = {}): ParallelCorpus {
  const all = loadXquadAll(langs, options);
  const docs: ParallelCorpus['docs'] = {};
  const queries: ParallelCorpus['queries'] = {};
  for (const [lang, x] of Object.entries(all)) {
    docs[lang] = x.paragraphs.map((p) => ({ id: p.id, text: p.context }));
    queries[lang] = x.questions.map((q) => ({ id: q.id, text: q.question, docId: q.paragraphId }));
  }
  const groups: Record<string, string> = {};
  for (const x of Object.values(all).slice(0, 1)) for (const p of x.paragraphs) groups[p.id] = `a${String(p.article).padStart(2, '0')}`;
  return { name: 'xquad', langs: [...langs], docs, queries, groups, pivot: 'en' };
}

/**
 * Belebele as a parallel corpus: FLORES passages are documents (unique by link), questions
 * are queries relevant to their passage. `dialects` maps the language code used in ids to
 * the Belebele dialect, e.g. `{ en: 'eng_Latn', de: 'deu_Latn' }`.
 *
 * @throws XlalignError when the dialects do not hold the same passages and questions.
 */
export async function belebeleCorpus(dialects: Record<string, string>, options: BelebeleOptions = {}): Promise<ParallelCorpus> {
  const docs: ParallelCorpus['docs'] = {};
  const queries: ParallelCorpus['queries'] = {};
  let ref: string | undefined;
  for (const [lang, dialect] of Object.entries(dialects)) {
    const records = await loadBelebele(dialect, options);
    const seen = new Map<string, string>();
    queries[lang] = records.map((r) => {
      const docId = belebelePassageId(r.link);
      if (!seen.has(docId)) seen.set(docId, r.flores_passage);
      return { id: belebeleQuestionId(r.link, r.question_number), text: r.question, docId };
    });
    docs[lang] = [...seen].map(([id, text]) => ({ id, text }));
    const key = queries[lang].map((q) => q.id).sort().join(',');
    if (ref === undefined) ref = key;
    else if (key !== ref) throw xlError('belebeleCorpus', `dialect ${dialect} does not hold the same questions as the first dialect`);
  }
  return { name: 'belebele', langs: Object.keys(dialects), docs, queries };
}

/**
 * The sha256 of each language's content: its documents (id, text) and queries (id, text,
 * relevant ids), in the corpus's order. Two loads of the same data give the same hashes;
 * any edit of a text, id or judgment changes its language's hash.
 * @example corpusLangHashes(xquadCorpus(['de'])).de // '3b0c…'
 */
export function corpusLangHashes(corpus: ParallelCorpus): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of corpus.langs) {
    const h = createHash('sha256');
    for (const d of corpus.docs[l] ?? []) h.update(JSON.stringify(['d', d.id, d.text]) + '\n');
    for (const q of corpus.queries[l] ?? []) h.update(JSON.stringify(['q', q.id, q.text, relevantDocIds(q)]) + '\n');
    out[l] = h.digest('hex');
  }
  return out;
}

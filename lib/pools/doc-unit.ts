import { checkOneOf, xlError } from '../util/errors.js';
import type { ParallelCorpus } from '../data/parallel.js';
import { DOC_UNITS, type DocUnit } from './types.js';

/**
 * A corpus cut into documents of the given unit:
 *
 * - `paragraph` (default, xlalign's pools so far): one document per paragraph, shared by all
 *   its questions; the corpus is returned as it is.
 * - `question`: one document per question, the paragraph's text repeated for each of its
 *   questions, with id `<paragraphId>.<questionId>` (the same in every language, so
 *   parallel versions still share an id); each query's only relevant document is its own
 *   copy. This is the granularity the study's numbers suggest (a Max@R of 650.95 on En+Zh
 *   XQuAD exceeds a 480-paragraph pool; 1,190 questions per language fit). The other
 *   questions' copies of the same paragraph hold the same text: a retriever that gives equal
 *   texts equal scores ties them with the relevant copy, and the pessimistic tie order of
 *   `lib/runs/ranking.ts` ranks those copies above it.
 *
 * Per language, the documents follow the order of that language's questions.
 *
 * @throws XlalignError for an unknown unit, or (question unit) a question whose paragraph is
 *   not among its language's documents, naming it.
 * @example const pool = buildPool(docUnitCorpus(xquadCorpus(['de', 'en']), 'question'), { scenario: 'mixed', lang: 'de' });
 */
export function docUnitCorpus(corpus: ParallelCorpus, unit: DocUnit): ParallelCorpus {
  checkOneOf('docUnitCorpus', 'doc unit', unit, DOC_UNITS);
  if (unit === 'paragraph') return corpus;
  const docs: ParallelCorpus['docs'] = {};
  const queries: ParallelCorpus['queries'] = {};
  for (const l of corpus.langs) {
    const text = new Map((corpus.docs[l] ?? []).map((d) => [d.id, d.text]));
    docs[l] = [];
    queries[l] = [];
    (corpus.queries[l] ?? []).forEach((q, i) => {
      const t = text.get(q.docId);
      if (t === undefined) throw xlError('docUnitCorpus', `corpus ${corpus.name}: queries['${l}'][${i}] (id '${q.id}') has docId '${q.docId}', which is not among the '${l}' documents`);
      const id = `${q.docId}.${q.id}`;
      docs[l].push({ id, text: t });
      queries[l].push({ ...q, docId: id });
    });
  }
  return { ...corpus, docs, queries };
}

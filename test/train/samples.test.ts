import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadXquadAll, XQUAD_ARTICLES } from '../../lib/data/xquad.js';
import { xquadCorpus, type ParallelCorpus } from '../../lib/data/parallel.js';
import { buildTrainingSamples, loadTrainingJsonl, saveTrainingJsonl } from '../../lib/train/samples.js';
import { BY_DOCUMENT, filterXquad, splitCorpus, splitGroups, splitXquadArticles, type DocGrouping } from '../../lib/data/split.js';

const split = splitXquadArticles();
const samples = buildTrainingSamples({ split });

test('buildTrainingSamples: 2800 samples, balanced over 11 languages, train articles only, parallel', () => {
  assert.equal(samples.length, 2800);
  const counts: Record<string, number> = {};
  for (const s of samples) counts[s.lang] = (counts[s.lang] ?? 0) + 1;
  assert.equal(Object.keys(counts).length, 11);
  assert.ok(!('en' in counts));
  for (const c of Object.values(counts)) assert.ok(c === 254 || c === 255, String(c));
  const all = loadXquadAll();
  const evalEn = filterXquad(all.en, split, 'eval');
  const evalDocs = new Set(evalEn.paragraphs.map((p) => p.context));
  const evalQuestions = new Set(evalEn.questions.map((q) => q.id));
  const seen = new Set<string>();
  for (const s of samples) {
    assert.ok(!evalQuestions.has(s.id) && !evalDocs.has(s.docPivot), `sample ${s.id} is from an eval article`);
    assert.ok(split.train.includes(Number(s.docId!.slice(1, 3))));
    // the target texts are the target language's version of the same question and paragraph
    const q = all[s.lang].questions.find((x) => x.id === s.id)!;
    assert.equal(s.queryTarget, q.question);
    assert.equal(s.docTarget, all[s.lang].paragraphs.find((p) => p.id === q.paragraphId)!.context);
    assert.equal(s.queryPivot, all.en.questions.find((x) => x.id === s.id)!.question);
    assert.ok(!seen.has(`${s.lang}:${s.id}`), 'no repeated sample');
    seen.add(`${s.lang}:${s.id}`);
  }
  assert.deepEqual(buildTrainingSamples({ split, size: 50, seed: 7 }), buildTrainingSamples({ split, size: 50, seed: 7 }));
  assert.notDeepEqual(buildTrainingSamples({ split, size: 50, seed: 7 }), buildTrainingSamples({ split, size: 50, seed: 8 }));
  assert.throws(() => buildTrainingSamples({ split, size: 11 * 700 }), /train articles hold only \d+ questions/);
});

test('saveTrainingJsonl / loadTrainingJsonl round trip; errors name file, line and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-dataset-'));
  const file = join(dir, 'train.jsonl');
  saveTrainingJsonl(file, samples.slice(0, 20));
  assert.deepEqual(loadTrainingJsonl(file), samples.slice(0, 20));
  const bad = join(dir, 'bad.jsonl');
  const { docTarget: _, ...missing } = samples[0];
  writeFileSync(bad, `${JSON.stringify(samples[1])}\n\n${JSON.stringify(missing)}\n`);
  assert.throws(() => loadTrainingJsonl(bad), (e: Error) => e.message.includes(`${bad}:3: field 'docTarget'`));
  writeFileSync(bad, `${JSON.stringify({ ...samples[0], extra: 1 })}\n`);
  assert.throws(() => loadTrainingJsonl(bad), /bad\.jsonl:1: object: .*extra/);
  writeFileSync(bad, `{"lang": "de",\n`);
  assert.throws(() => loadTrainingJsonl(bad), /bad\.jsonl:1: not valid JSON/);
  writeFileSync(bad, `${JSON.stringify({ ...samples[0], queryPivot: '' })}\n`);
  assert.throws(() => loadTrainingJsonl(bad), /bad\.jsonl:1: field 'queryPivot'/);
});

/**
 * A non-XQuAD ParallelCorpus built from XQuAD rows of three languages with opaque ids
 * (`doc-<n>`, `query-<n>`, which XQuAD's article grouping cannot parse) and a grouping by
 * article title, as another dataset with topics would bring next to its loader.
 */
function opaqueCorpus(): { corpus: ParallelCorpus; grouping: DocGrouping; titleOf: Map<string, string> } {
  const all = loadXquadAll(['en', 'de', 'vi']);
  const docIds = new Map(all.en.paragraphs.map((p, i) => [p.id, `doc-${i}`]));
  const queryIds = new Map(all.en.questions.map((q, i) => [q.id, `query-${i}`]));
  const titleOf = new Map(all.en.paragraphs.map((p) => [docIds.get(p.id)!, p.title]));
  const corpus: ParallelCorpus = { name: 'opaque', langs: ['en', 'de', 'vi'], docs: {}, queries: {} };
  for (const lang of corpus.langs) {
    corpus.docs[lang] = all[lang].paragraphs.map((p) => ({ id: docIds.get(p.id)!, text: p.context }));
    corpus.queries[lang] = all[lang].questions.map((q) => ({ id: queryIds.get(q.id)!, text: q.question, docId: docIds.get(q.paragraphId)! }));
  }
  return { corpus, grouping: { name: 'topic', groupOf: (id) => titleOf.get(id) ?? (() => { throw new Error(`no doc ${id}`); })() }, titleOf };
}

test('buildTrainingSamples over any ParallelCorpus: train groups only, parallel, balanced, seeded', () => {
  const { corpus, grouping, titleOf } = opaqueCorpus();
  const split = splitGroups(corpus, grouping, { seed: 3 });
  assert.equal(split.train.length + split.eval.length, 48);
  const got = buildTrainingSamples({ corpus, grouping, split, size: 300, seed: 5 });
  assert.equal(got.length, 300);
  assert.deepEqual([...new Set(got.map((s) => s.lang))].sort(), ['de', 'vi']);
  assert.equal(got.filter((s) => s.lang === 'de').length, 150);
  const text = (lang: string, kind: 'docs' | 'queries', id: string) => corpus[kind][lang].find((x) => x.id === id)!.text;
  for (const s of got) {
    assert.ok((split.train as string[]).includes(titleOf.get(s.docId!)!), `${s.docId} is in a train topic`);
    assert.equal(s.queryTarget, text(s.lang, 'queries', s.id));
    assert.equal(s.queryPivot, text('en', 'queries', s.id));
    assert.equal(s.docTarget, text(s.lang, 'docs', s.docId!));
    assert.equal(s.docPivot, text('en', 'docs', s.docId!));
  }
  // no eval document text reaches training
  const evalCorpus = splitCorpus(corpus, split, 'eval', grouping);
  const evalTexts = new Set(evalCorpus.docs.en.map((d) => d.text));
  assert.ok(got.every((s) => !evalTexts.has(s.docPivot)));
  assert.deepEqual(buildTrainingSamples({ corpus, grouping, split, size: 40, seed: 5 }), buildTrainingSamples({ corpus, grouping, split, size: 40, seed: 5 }));
  // default grouping of a given corpus: every document its own group (the split from splitGroups with BY_DOCUMENT)
  const byDoc = buildTrainingSamples({ corpus, size: 40, seed: 5 });
  const docSplit = splitGroups(corpus, BY_DOCUMENT);
  assert.ok(byDoc.every((s) => (docSplit.train as string[]).includes(s.docId!)));
  assert.throws(() => buildTrainingSamples({ corpus, langs: ['de', 'fr'], size: 4 }), /corpus opaque has no language 'fr'; it has en, de, vi/);
  assert.throws(() => buildTrainingSamples({ corpus, grouping, split, size: 2000 }), /train topics hold only \d+ questions/);
});

test('the corpus-generic path gives XQuAD exactly what the XQuAD-only one gave: articles split, same samples', () => {
  const corpus = xquadCorpus();
  const generic = splitGroups(corpus, XQUAD_ARTICLES);
  assert.deepEqual(generic.train, split.train);
  assert.deepEqual(generic.eval, split.eval);
  assert.deepEqual(buildTrainingSamples({ corpus, grouping: XQUAD_ARTICLES, size: 2800 }), samples);
});

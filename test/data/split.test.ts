import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadXquadAll, XQUAD_LANGS } from '../../lib/data/xquad.js';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { BY_DOCUMENT, filterXquad, splitCorpus, splitGroups, splitKeys, splitPartOf, splitXquadArticles, xquadArticleOf } from '../../lib/data/split.js';

const all = loadXquadAll();
const split = splitXquadArticles();

test('splitXquadArticles: 24/24 disjoint articles covering all 48, seeded', () => {
  assert.equal(split.train.length, 24);
  assert.equal(split.eval.length, 24);
  assert.deepEqual([...split.train, ...split.eval].sort((a, b) => a - b), Array.from({ length: 48 }, (_, i) => i));
  assert.deepEqual(splitXquadArticles({ seed: split.seed }), split);
  assert.notDeepEqual(splitXquadArticles({ seed: split.seed + 1 }).train, split.train);
  assert.equal(splitXquadArticles({ trainArticles: 36 }).eval.length, 12);
  assert.throws(() => splitXquadArticles({ trainArticles: 48 }), /trainArticles must be an integer in \[1, 47\], got 48/);
  assert.equal(xquadArticleOf('a07p03'), 7);
  assert.throws(() => xquadArticleOf('p3'), /'p3' is not an XQuAD paragraph id/);
});

test('no paragraph or question crosses the split, in any language, by id and by text', () => {
  for (const lang of XQUAD_LANGS) {
    const train = filterXquad(all[lang], split, 'train');
    const evalPart = filterXquad(all[lang], split, 'eval');
    // the two parts partition the language
    assert.equal(train.paragraphs.length + evalPart.paragraphs.length, all[lang].paragraphs.length, lang);
    assert.equal(train.questions.length + evalPart.questions.length, all[lang].questions.length, lang);
    assert.ok(train.questions.length > 400 && evalPart.questions.length > 400, `${lang}: ${train.questions.length}/${evalPart.questions.length}`);
    const disjoint = (a: string[], b: string[], what: string) => {
      const set = new Set(a);
      const shared = b.filter((x) => set.has(x));
      assert.deepEqual(shared, [], `${lang}: ${what} in both parts`);
    };
    disjoint(train.paragraphs.map((p) => p.id), evalPart.paragraphs.map((p) => p.id), 'paragraph ids');
    disjoint(train.questions.map((q) => q.id), evalPart.questions.map((q) => q.id), 'question ids');
    disjoint(train.paragraphs.map((p) => p.context), evalPart.paragraphs.map((p) => p.context), 'paragraph texts');
    disjoint(train.questions.map((q) => q.question), evalPart.questions.map((q) => q.question), 'question texts');
    disjoint(train.paragraphs.map((p) => p.title), evalPart.paragraphs.map((p) => p.title), 'article titles');
    // every question sits on a paragraph of its own part
    const trainIds = new Set(train.paragraphs.map((p) => p.id));
    for (const q of train.questions) assert.ok(trainIds.has(q.paragraphId));
    for (const p of evalPart.paragraphs) assert.equal(splitPartOf(split, p.id), 'eval');
  }
});

test('splitCorpus keeps only the part, for every language, and the parts partition the corpus', () => {
  const corpus = xquadCorpus();
  const tr = splitCorpus(corpus, split, 'train');
  const ev = splitCorpus(corpus, split, 'eval');
  for (const lang of corpus.langs) {
    assert.equal(tr.docs[lang].length + ev.docs[lang].length, 240);
    assert.equal(tr.queries[lang].length + ev.queries[lang].length, 1190);
    for (const q of ev.queries[lang]) assert.ok(split.eval.includes(xquadArticleOf(q.docId)));
    const evTexts = new Set(ev.docs[lang].map((d) => d.text));
    assert.ok(tr.docs[lang].every((d) => !evTexts.has(d.text)));
  }
  assert.equal(ev.name, 'xquad-eval');
});

test('splitGroups / splitPartOf / splitCorpus over any grouping: seeded, disjoint, covering; errors named', () => {
  // A corpus with string groups: documents d0..d9, two languages, groups g0..g4 (two documents each).
  const corpus = {
    name: 'toy',
    langs: ['en', 'xx'],
    docs: Object.fromEntries(['en', 'xx'].map((l) => [l, Array.from({ length: 10 }, (_, i) => ({ id: `d${i}`, text: `${l} ${i}` }))])),
    queries: Object.fromEntries(['en', 'xx'].map((l) => [l, Array.from({ length: 10 }, (_, i) => ({ id: `q${i}`, text: `${l} q${i}`, docId: `d${i}` }))])),
  };
  const grouping = { name: 'pair', groupOf: (id: string) => `g${Math.floor(Number(id.slice(1)) / 2)}` };
  const s = splitGroups(corpus, grouping, { seed: 9, trainFraction: 0.6 });
  assert.equal(s.train.length, 3);
  assert.deepEqual([...s.train, ...s.eval].sort(), ['g0', 'g1', 'g2', 'g3', 'g4']);
  assert.deepEqual(splitGroups(corpus, grouping, { seed: 9, trainFraction: 0.6 }), s);
  assert.deepEqual(s.train, [...s.train].sort());
  const tr = splitCorpus(corpus, s, 'train', grouping);
  const ev = splitCorpus(corpus, s, 'eval', grouping);
  assert.equal(tr.docs.xx.length, 6);
  assert.equal(ev.queries.en.length, 4);
  for (const d of ev.docs.en) assert.equal(splitPartOf(s, d.id, grouping), 'eval');
  // BY_DOCUMENT: every document its own group
  assert.equal(splitGroups(corpus, BY_DOCUMENT).train.length, 5);
  assert.throws(() => splitGroups(corpus, grouping, { trainFraction: 1 }), /trainFraction must be in \(0, 1\), got 1/);
  assert.throws(() => splitPartOf({ seed: 1, train: ['g0'], eval: ['g1'] }, 'd9', grouping), /pair g4 of document 'd9' is in neither part/);
  assert.deepEqual(splitKeys([5, 1, 3, 2], 1, 2).train.length, 2);
});

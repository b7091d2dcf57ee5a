import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { buildPool, poolPlan } from '../../lib/pools/build-pool.js';
import { docUnitCorpus } from '../../lib/pools/doc-unit.js';
import { poolLanguages, poolName, SCENARIOS, type Pool } from '../../lib/pools/types.js';
import type { ParallelCorpus } from '../../lib/data/parallel.js';

const corpus = xquadCorpus();

/** An id's language (from the pool, never from its spelling) and its bare id after `<lang>-`. */
function splitter(pool: Pool) {
  const { docs } = poolLanguages(pool);
  return (id: string) => {
    const lang = docs.get(id)!;
    assert.ok(id.startsWith(`${lang}-`), id);
    return { lang, id: id.slice(lang.length + 1) };
  };
}

test('every scenario on real XQuAD: counts, ids, relevant documents, exclusions', () => {
  const expectDocs = { mono: 240, cross: 240, mixed: 480, 'mixed-target': 480, 'mixed-pivot': 480, multi: 240 * 12 } as const;
  const expectRel = { mono: 1, cross: 1, mixed: 2, 'mixed-target': 1, 'mixed-pivot': 1, multi: 12 } as const;
  for (const scenario of SCENARIOS) {
    const pool = buildPool(corpus, { scenario, lang: 'de' });
    const splitId = splitter(pool);
    assert.equal(pool.queryLang, 'de');
    assert.equal(pool.queries.length, 1190, scenario);
    assert.equal(pool.docs.length, expectDocs[scenario], scenario);
    const docIds = new Set(pool.docs.map((d) => d.id));
    assert.equal(docIds.size, pool.docs.length, `${scenario}: duplicate document ids`);
    for (const q of pool.queries) {
      assert.match(q.id, /^de-/);
      const rel = Object.keys(pool.qrels[q.id]);
      assert.equal(rel.length, expectRel[scenario], `${scenario} ${q.id}`);
      for (const r of rel) assert.ok(docIds.has(r), `${scenario}: relevant ${r} not in pool`);
      // all relevant documents are parallel versions of one paragraph
      assert.equal(new Set(rel.map((r) => splitId(r).id)).size, 1);
      const ex = pool.exclude[q.id] ?? [];
      for (const e of ex) {
        assert.ok(docIds.has(e));
        assert.ok(!rel.includes(e), `${scenario}: excluded document is relevant`);
        assert.equal(splitId(e).id, splitId(rel[0]).id, 'the excluded document is the parallel answer');
      }
    }
  }
  const mixed = buildPool(corpus, { scenario: 'mixed', lang: 'de' });
  let splitId = splitter(mixed);
  const q = mixed.queries[0];
  assert.deepEqual(Object.keys(mixed.qrels[q.id]).map((id) => splitId(id).lang).sort(), ['de', 'en']);
  const target = buildPool(corpus, { scenario: 'mixed-target', lang: 'th' });
  const tq = target.queries[10];
  splitId = splitter(target);
  assert.equal(splitId(Object.keys(target.qrels[tq.id])[0]).lang, 'th');
  assert.equal(splitId(target.exclude[tq.id][0]).lang, 'en');
  const pivot = buildPool(corpus, { scenario: 'mixed-pivot', lang: 'th' });
  splitId = splitter(pivot);
  assert.equal(splitId(Object.keys(pivot.qrels[tq.id])[0]).lang, 'en');
  assert.equal(splitId(pivot.exclude[tq.id][0]).lang, 'th');
});

test('any pivot language works; pivot = query language is refused for two-language scenarios', () => {
  const pool = buildPool(corpus, { scenario: 'mixed', lang: 'ar', pivot: 'zh' });
  assert.deepEqual([...new Set(pool.docs.map((d) => d.lang))].sort(), ['ar', 'zh']);
  assert.throws(() => buildPool(corpus, { scenario: 'mixed', lang: 'en' }), /needs a query language other than the pivot 'en'/);
  assert.throws(() => buildPool(corpus, { scenario: 'bogus' as never, lang: 'de' }), /unsupported scenario 'bogus'; use 'mono', 'cross'/);
  assert.throws(() => buildPool(xquadCorpus(['de', 'en']), { scenario: 'mono', lang: 'fr' }), /lang 'fr' is not in corpus xquad; it has de, en/);
});

test('the full plan: 12 languages for mono and multi, 11 for cross and mixed*', () => {
  const plan = poolPlan(corpus);
  const count = (s: string) => plan.filter((p) => p.scenario === s).length;
  assert.equal(count('mono'), 12);
  assert.equal(count('multi'), 12);
  for (const s of ['cross', 'mixed', 'mixed-target', 'mixed-pivot']) assert.equal(count(s), 11);
  assert.ok(!plan.some((p) => p.scenario === 'mixed' && p.lang === 'en'));
});

test('pivot-language queries: same documents and judgments, English queries; cross ranks the other language', () => {
  const target = buildPool(corpus, { scenario: 'mixed-target', lang: 'zh' });
  const en = buildPool(corpus, { scenario: 'mixed-target', lang: 'zh', queries: 'pivot' });
  assert.equal(en.queryLang, 'en');
  assert.equal(en.lang, 'zh');
  assert.deepEqual(en.docs, target.docs);
  assert.equal(en.queries.length, 1190);
  assert.ok(en.queries.every((q) => q.lang === 'en' && q.id.startsWith('en-')));
  const bare = target.queries[5].id.slice(3);
  assert.deepEqual(en.qrels[`en-${bare}`], Object.fromEntries(Object.entries(target.qrels[`zh-${bare}`])));
  assert.deepEqual(en.exclude[`en-${bare}`], target.exclude[`zh-${bare}`]);
  const cross = buildPool(corpus, { scenario: 'cross', lang: 'zh', queries: 'pivot' });
  assert.deepEqual([...new Set(cross.docs.map((d) => d.lang))], ['zh']);
  assert.ok(Object.keys(cross.qrels[`en-${bare}`]).every((d) => d.startsWith('zh-')));
  assert.equal(poolName(target), 'mixed-target.zh');
  assert.equal(poolName(en), 'mixed-target.zh.en-queries');
  assert.throws(() => buildPool(corpus, { scenario: 'mono', lang: 'de', queries: 'pivot' }), /takes only target-language queries/);
  assert.throws(() => buildPool(corpus, { scenario: 'mixed', lang: 'de', queries: 'english' as never }), /unsupported queries 'english'; use 'target', 'pivot'/);
  const plan = poolPlan(corpus, { scenarios: ['mono', 'mixed'], langs: ['de', 'en'], queryLangs: ['target', 'pivot'] });
  assert.deepEqual(plan, [
    { scenario: 'mono', lang: 'de', queries: 'target' },
    { scenario: 'mono', lang: 'en', queries: 'target' },
    { scenario: 'mixed', lang: 'de', queries: 'target' },
    { scenario: 'mixed', lang: 'de', queries: 'pivot' },
  ]);
});

test('buildPool validates its corpus: missing relevant document, missing parallel version, duplicate id', () => {
  const small = xquadCorpus(['de', 'en']);
  const cut = (c: ParallelCorpus, lang: string, drop: string): ParallelCorpus => ({ ...c, docs: { ...c.docs, [lang]: c.docs[lang].filter((d) => d.id !== drop) } });
  const q0 = small.queries.de[0];
  const esc = (t: string) => new RegExp(t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  assert.throws(() => buildPool(cut(small, 'de', q0.docId), { scenario: 'mono', lang: 'de' }),
    esc(`buildPool: corpus xquad: queries['de'][0] (id '${q0.id}') has docId '${q0.docId}', but its relevant document is missing`));
  assert.throws(() => buildPool(cut(small, 'en', q0.docId), { scenario: 'mixed', lang: 'de' }),
    esc(`has docId '${q0.docId}', but the parallel version of its document in 'en' is missing`));
  // mono de does not need the en version
  assert.equal(buildPool(cut(small, 'en', q0.docId), { scenario: 'mono', lang: 'de' }).docs.length, 240);
  const dup: ParallelCorpus = { ...small, docs: { ...small.docs, en: [...small.docs.en, small.docs.en[3]] } };
  assert.throws(() => buildPool(dup, { scenario: 'cross', lang: 'de' }), /docs\['en'\]\[240\]\.id '.*' is a duplicate/);
});

test('doc unit question: one document per question, the paragraph repeated, parallel ids kept', () => {
  const small = xquadCorpus(['de', 'en']);
  const byQ = docUnitCorpus(small, 'question');
  assert.equal(docUnitCorpus(small, 'paragraph'), small);
  assert.equal(byQ.docs.de.length, 1190);
  assert.equal(byQ.docs.en.length, 1190);
  const pool = buildPool(byQ, { scenario: 'mixed', lang: 'de' });
  assert.equal(pool.docs.length, 2 * 1190);
  assert.equal(new Set(pool.docs.map((d) => d.id)).size, pool.docs.length);
  const q = small.queries.de[7];
  const rel = Object.keys(pool.qrels[`de-${q.id}`]).sort();
  assert.deepEqual(rel, [`de-${q.docId}.${q.id}`, `en-${q.docId}.${q.id}`]);
  const text = small.docs.de.find((d) => d.id === q.docId)!.text;
  assert.equal(pool.docs.find((d) => d.id === `de-${q.docId}.${q.id}`)!.text, text);
  // the paragraph's other questions hold the same text under their own ids
  const siblings = small.queries.de.filter((x) => x.docId === q.docId);
  assert.ok(siblings.length > 1);
  assert.equal(pool.docs.filter((d) => d.lang === 'de' && d.text === text).length, siblings.length);
  assert.throws(() => docUnitCorpus(small, 'sentence' as never), /unsupported doc unit 'sentence'/);
});

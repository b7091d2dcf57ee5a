import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { buildPool, poolPlan } from '../../lib/pools/build-pool.js';
import { splitId, SCENARIOS } from '../../lib/pools/types.js';

const corpus = xquadCorpus();

test('every scenario on real XQuAD: counts, ids, relevant documents, exclusions', () => {
  const expectDocs = { mono: 240, cross: 240, mixed: 480, 'mixed-target': 480, 'mixed-pivot': 480, multi: 240 * 12 } as const;
  const expectRel = { mono: 1, cross: 1, mixed: 2, 'mixed-target': 1, 'mixed-pivot': 1, multi: 12 } as const;
  for (const scenario of SCENARIOS) {
    const pool = buildPool(corpus, { scenario, lang: 'de' });
    assert.equal(pool.queries.length, 1190, scenario);
    assert.equal(pool.docs.length, expectDocs[scenario], scenario);
    const docIds = new Set(pool.docs.map((d) => d.id));
    assert.equal(docIds.size, pool.docs.length, `${scenario}: duplicate document ids`);
    for (const d of pool.docs) assert.equal(splitId(d.id).lang, d.lang);
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
  const q = mixed.queries[0];
  assert.deepEqual(Object.keys(mixed.qrels[q.id]).map((id) => splitId(id).lang).sort(), ['de', 'en']);
  const target = buildPool(corpus, { scenario: 'mixed-target', lang: 'th' });
  const tq = target.queries[10];
  assert.equal(splitId(Object.keys(target.qrels[tq.id])[0]).lang, 'th');
  assert.equal(splitId(target.exclude[tq.id][0]).lang, 'en');
  const pivot = buildPool(corpus, { scenario: 'mixed-pivot', lang: 'th' });
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadJsonlDataset } from '../../lib/data/jsonl-dataset.js';
import { checkCorpusNeeds } from '../../lib/data/corpus-rows.js';
import { loadBeir } from '../../lib/data/beir.js';
import { isPlainLangTag } from '../../lib/data/lang-tag.js';
import { resolveDataset } from '../../lib/data/registry.js';
import { buildPool } from '../../lib/pools/build-pool.js';
import { writeOwnDataset } from '../fixtures/own-dataset.js';

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function folder(docs: object[], queries: object[], meta?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'own-bad-'));
  writeFileSync(join(dir, 'docs.jsonl'), jsonl(docs));
  writeFileSync(join(dir, 'queries.jsonl'), jsonl(queries));
  if (meta) writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  return dir;
}

const DOCS = [
  { id: 'p1', lang: 'en', text: 'The cat sleeps.', group: 'g1' },
  { id: 'p1', lang: 'de', text: 'Die Katze schläft.', group: 'g1' },
  { id: 'p2', lang: 'en', text: 'The dog barks.', group: 'g2' },
  { id: 'p2', lang: 'de', text: 'Der Hund bellt.', group: 'g2' },
];
const QUERIES = [
  { id: 'q1', lang: 'en', text: 'Who sleeps?', relevant: ['p1'] },
  { id: 'q1', lang: 'de', text: 'Wer schläft?', relevant: ['p1'] },
  { id: 'q2', lang: 'de', text: 'Wer bellt oder schläft?', relevant: ['p2', 'p1'] },
];

test('an own dataset folder loads into a parallel corpus with groups, pivot and multi-document relevance', () => {
  const c = loadJsonlDataset(folder(DOCS, QUERIES, { name: 'toy', languages: ['en', 'de'], pivot: 'en', license: 'CC0' }));
  assert.equal(c.name, 'toy');
  assert.deepEqual(c.langs, ['en', 'de']);
  assert.equal(c.pivot, 'en');
  assert.deepEqual(c.groups, { p1: 'g1', p2: 'g2' });
  assert.deepEqual(c.docs.de.map((d) => d.id), ['p1', 'p2']);
  assert.deepEqual(c.queries.de[1], { id: 'q2', text: 'Wer bellt oder schläft?', docId: 'p2', docIds: ['p2', 'p1'] });
  // every relevant document counts in the pool's qrels, in each relevant language
  const pool = buildPool(c, { scenario: 'mixed', lang: 'de', pivot: 'en' });
  assert.deepEqual(pool.qrels['de-q2'], { 'de-p2': 1, 'en-p2': 1, 'de-p1': 1, 'en-p1': 1 });
  const target = buildPool(c, { scenario: 'mixed-target', lang: 'de', pivot: 'en' });
  assert.deepEqual(target.exclude['de-q2'], ['en-p2', 'en-p1']);
});

test('XQuAD rows written as an own dataset load back with the same texts; languages with a script/region tag work', () => {
  const { dir } = writeOwnDataset({ langs: ['zh', 'en'], rename: { zh: 'zh-Hant' }, paragraphs: 5 });
  const entry = resolveDataset(dir);
  assert.equal(entry.name, 'mini');
  assert.deepEqual(entry.languages, ['zh-Hant', 'en']);
  assert.equal(entry.defaultPivot, 'en');
  const c = loadJsonlDataset(dir);
  assert.equal(c.docs['zh-Hant'].length, 5);
  assert.equal(c.groups!.a00p00, 'a0');
  assert.ok(c.queries['zh-Hant'].length > 20);
});

/** The error message of loading `dir`. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected an error');
}

test('validation names file:line:field for every kind of bad input', () => {
  const load = (docs: object[], queries: object[], meta?: object) => errorOf(() => loadJsonlDataset(folder(docs, queries, meta)));
  let m = load(DOCS, [...QUERIES, { id: 'q3', lang: 'de', text: 'x?', relevant: ['p1', 'p9'] }]);
  assert.match(m, /queries\.jsonl:4: relevant\[1\]: unknown document id 'p9'/);
  m = load([...DOCS, { id: 'p1', lang: 'de', text: 'noch einmal', group: 'g1' }], QUERIES);
  assert.match(m, /docs\.jsonl:5: id: duplicate document \(id 'p1', lang 'de'\); first at .*docs\.jsonl:2/);
  m = load(DOCS, [...QUERIES, { id: 'q1', lang: 'de', text: 'again?', relevant: ['p1'] }]);
  assert.match(m, /queries\.jsonl:4: id: duplicate query \(id 'q1', lang 'de'\)/);
  m = load([...DOCS.slice(0, 3), { ...DOCS[3], text: ' \t ' }], QUERIES);
  assert.match(m, /docs\.jsonl:4: text: must not be empty or whitespace only/);
  m = load(DOCS, [{ ...QUERIES[0], text: '' }]);
  assert.match(m, /queries\.jsonl:1: text: must not be empty/);
  for (const bad of ['en_US', 'english', 'de-DE-1996', '', 'x-klingon']) {
    m = load([{ ...DOCS[0], lang: bad }], []);
    assert.match(m, /docs\.jsonl:1: lang: '.*' is not a plain language tag/, bad);
  }
  for (const good of ['en', 'en-US', 'zh-Hant', 'zh-Hant-TW', 'es-419', 'fil']) assert.ok(isPlainLangTag(good), good);
  m = load([{ id: 'p1', lang: 'en' }], []);
  assert.match(m, /docs\.jsonl:1: text: /);
  m = load([{ ...DOCS[0], id: 'p 1' }], []);
  assert.match(m, /docs\.jsonl:1: id: 'p 1' must be non-empty without whitespace/);
  m = load(DOCS, [{ id: 'q1', lang: 'de', text: 'x', relevant: 'p1' }]);
  assert.match(m, /queries\.jsonl:1: relevant: /);
  m = load(DOCS, [{ id: 'q1', lang: 'de', text: 'x', relevant: [] }]);
  assert.match(m, /queries\.jsonl:1: relevant: must list at least one document id/);
  m = load([DOCS[0], { ...DOCS[1], group: 'other' }], []);
  assert.match(m, /docs\.jsonl:2: group: 'other' differs from 'g1'/);
  m = load(DOCS, QUERIES, { languages: ['en'] });
  assert.match(m, /docs\.jsonl:2: lang: 'de' is not among the languages of .*meta\.json/);
  m = load(DOCS, QUERIES, { languages: ['en', 'de'], pivot: 'fr' });
  assert.match(m, /pivot 'fr' is not among the languages/);
  m = load(DOCS, QUERIES, { languages: 'en' });
  assert.match(m, /meta\.json: languages: /);
  const dir = folder(DOCS, QUERIES);
  writeFileSync(join(dir, 'docs.jsonl'), readFileSync(join(dir, 'docs.jsonl'), 'utf8') + '{"id": "p3", \n');
  assert.match(errorOf(() => loadJsonlDataset(dir)), /docs\.jsonl:5: not valid JSON/);
});

test('a missing pivot version is found before any work, naming the query line', () => {
  const docs = [...DOCS, { id: 'p3', lang: 'de', text: 'Nur auf Deutsch.', group: 'g3' }];
  const queries = [...QUERIES, { id: 'q3', lang: 'de', text: 'Was gibt es nur auf Deutsch?', relevant: ['p3'] }];
  const c = loadJsonlDataset(folder(docs, queries));
  // mono needs only the German version: fine
  checkCorpusNeeds(c, [{ lang: 'de', relevantLangs: ['de'], why: "scenario 'mono'" }]);
  const m = errorOf(() => checkCorpusNeeds(c, [{ lang: 'de', relevantLangs: ['de', 'en'], why: "scenario 'mixed' (pivot 'en')" }]));
  assert.match(m, /queries\.jsonl:4: relevant\[0\]: document 'p3' of query 'q3' \(de\) has no 'en' version in the documents; scenario 'mixed' \(pivot 'en'\) needs it/);
  assert.match(errorOf(() => checkCorpusNeeds(c, [{ lang: 'fr', relevantLangs: ['fr'], why: 'x' }])), /no queries in 'fr'/);
});

test('BEIR folders load: one language, cross-language (meta.json) and language folders', () => {
  const beir = (dir: string, lang: string) => {
    mkdirSync(join(dir, 'qrels'), { recursive: true });
    const t = (en: string, de: string) => (lang === 'en' ? en : de);
    writeFileSync(join(dir, 'corpus.jsonl'), jsonl([{ _id: 'd1', title: t('Cats', 'Katzen'), text: t('The cat sleeps.', 'Die Katze schläft.') }, { _id: 'd2', title: '', text: t('The dog barks.', 'Der Hund bellt.') }]));
    writeFileSync(join(dir, 'queries.jsonl'), jsonl([{ _id: 'q1', text: t('Who sleeps?', 'Wer schläft?') }, { _id: 'q2', text: t('Who barks?', 'Wer bellt?') }, { _id: 'q3', text: t('unjudged', 'ohne Urteil') }]));
    writeFileSync(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq2\td1\t0\n');
  };
  const one = mkdtempSync(join(tmpdir(), 'beir-'));
  beir(one, 'en');
  let c = loadBeir(one);
  assert.deepEqual(c.langs, ['en']);
  assert.equal(c.docs.en[0].text, 'Cats The cat sleeps.');
  assert.deepEqual(c.queries.en.map((q) => [q.id, q.docId]), [['q1', 'd1'], ['q2', 'd2']]);
  const mono = buildPool(c, { scenario: 'mono', lang: 'en', pivot: 'en' });
  assert.deepEqual(mono.qrels, { 'en-q1': { 'en-d1': 1 }, 'en-q2': { 'en-d2': 1 } });
  // cross-language: German queries over an English corpus
  const cross = mkdtempSync(join(tmpdir(), 'beir-x-'));
  beir(cross, 'en');
  writeFileSync(join(cross, 'queries.jsonl'), jsonl([{ _id: 'q1', text: 'Wer schläft?' }, { _id: 'q2', text: 'Wer bellt?' }]));
  writeFileSync(join(cross, 'meta.json'), JSON.stringify({ queryLanguage: 'de', documentLanguage: 'en' }));
  c = loadBeir(cross);
  assert.deepEqual(c.langs, ['de', 'en']);
  const p = buildPool(c, { scenario: 'cross', lang: 'de', pivot: 'en' });
  assert.deepEqual(p.qrels['de-q1'], { 'en-d1': 1 });
  assert.match(errorOf(() => checkCorpusNeeds(c, [{ lang: 'de', relevantLangs: ['de'], why: "scenario 'mono'" }])), /queries\.jsonl:1: relevant\[0\]: document 'd1' of query 'q1' \(de\) has no 'de' version/);
  // language folders: a parallel corpus
  const par = mkdtempSync(join(tmpdir(), 'beir-p-'));
  beir(join(par, 'en'), 'en');
  beir(join(par, 'de'), 'de');
  const entry = resolveDataset(par);
  assert.deepEqual(entry.languages, ['de', 'en']);
  c = loadBeir(par);
  assert.equal(buildPool(c, { scenario: 'mixed', lang: 'de', pivot: 'en' }).docs.length, 4);
  // bad qrels name the line
  writeFileSync(join(one, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td9\t1\n');
  assert.match(errorOf(() => loadBeir(one)), /test\.tsv:2: corpus-id: unknown document 'd9'/);
});

test('the registry knows xquad and belebele; anything else must be a dataset folder', () => {
  assert.equal(resolveDataset('xquad').defaultPivot, 'en');
  assert.equal(resolveDataset('xquad').languages!.length, 12);
  assert.equal(resolveDataset('belebele').languages, undefined);
  assert.match(errorOf(() => resolveDataset('no-such-dataset')), /neither a registered dataset \(xquad, belebele\) nor a folder/);
  const empty = mkdtempSync(join(tmpdir(), 'empty-'));
  assert.match(errorOf(() => resolveDataset(empty)), /holds neither docs\.jsonl/);
});

test('every scenario runs on an own dataset (three languages, one of them zh-Hant)', async () => {
  const { runEvaluation } = await import('../../lib/eval/run-evaluation.js');
  const { Bm25Retriever } = await import('../../lib/retrieve/bm25.js');
  const { SCENARIOS } = await import('../../lib/pools/types.js');
  const { dir } = writeOwnDataset({ langs: ['de', 'en', 'zh'], rename: { zh: 'zh-Hant' }, paragraphs: 8 });
  const c = loadJsonlDataset(dir);
  const { rows } = await runEvaluation(c, new Bm25Retriever(), { scenarios: SCENARIOS, pivot: 'en', metrics: ['ndcg@10', 'maxr', 'pivot_inclination'] });
  const pools = new Set(rows.map((r) => `${r.scenario}.${r.lang}`));
  // mono and multi for all three languages; cross and mixed* for the two non-pivot ones
  assert.equal(pools.size, 3 + 3 + 4 * 2);
  for (const r of rows) assert.ok(Number.isFinite(r.value), `${r.scenario} ${r.lang} ${r.metric}`);
  assert.ok(rows.some((r) => r.scenario === 'mixed-target' && r.lang === 'zh-Hant' && r.metric === 'pivot_inclination'));
});

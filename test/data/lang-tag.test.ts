import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalLangTag, englishPivot, isEnglishTag, matchLangTag } from '../../lib/data/lang-tag.js';
import { loadJsonlDataset } from '../../lib/data/jsonl-dataset.js';
import { writeOwnDataset } from '../fixtures/own-dataset.js';

test('canonicalLangTag: language lower, script title, region upper; FLORES codes keep the underscore', () => {
  assert.equal(canonicalLangTag('DE'), 'de');
  assert.equal(canonicalLangTag('en-us'), 'en-US');
  assert.equal(canonicalLangTag('EN-US'), 'en-US');
  assert.equal(canonicalLangTag('zh-hant-tw'), 'zh-Hant-TW');
  assert.equal(canonicalLangTag('es-419'), 'es-419');
  assert.equal(canonicalLangTag('ENG_latn'), 'eng_Latn');
});

test('English tags are recognised as the pivot default: en first, then en-US, eng_Latn; none gives undefined', () => {
  for (const t of ['en', 'en-US', 'EN-gb', 'eng_Latn', 'eng']) assert.ok(isEnglishTag(t), t);
  for (const t of ['de', 'ben', 'enm']) assert.ok(!isEnglishTag(t), t);
  assert.equal(englishPivot(['de', 'en-US']), 'en-US');
  assert.equal(englishPivot(['en-GB', 'de', 'en']), 'en');
  assert.equal(englishPivot(['deu_Latn', 'eng_Latn']), 'eng_Latn');
  assert.equal(englishPivot(['de', 'fr']), undefined);
  assert.equal(matchLangTag('DE', ['de', 'en']), 'de');
  assert.equal(matchLangTag('en-us', ['de', 'en-US']), 'en-US');
  assert.equal(matchLangTag('fr', ['de']), undefined);
});

test('own data: DE and de are one language, en-US is the pivot without meta.json, tags written in canonical case', () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 3, rename: { de: 'DE', en: 'en-us' }, meta: null });
  // queries tagged 'de' (lower case), documents 'DE'
  const q = join(dir, 'queries.jsonl');
  writeFileSync(q, readFileSync(q, 'utf8').replaceAll('"lang":"DE"', '"lang":"de"'));
  const c = loadJsonlDataset(dir);
  assert.deepEqual(c.langs, ['de', 'en-US']);
  assert.equal(c.pivot, 'en-US');
  assert.ok(c.docs.de.length === 3 && c.queries.de.length > 0, 'documents (DE) and queries (de) in one language');
});

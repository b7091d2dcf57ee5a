import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCldrAnnotations, loadCldrCharacters, loadCldrNames } from '../../lib/data/cldr.js';

test('loadCldrAnnotations: names and keywords keyed by emoji', () => {
  const en = loadCldrAnnotations('en');
  const de = loadCldrAnnotations('de');
  assert.equal(en['😀'].tts, 'grinning face');
  assert.ok(en['😀'].keywords.includes('face'));
  assert.equal(de['😀'].tts, 'grinsendes Gesicht');
  assert.ok(Object.keys(de).length > 1000);
  assert.throws(() => loadCldrAnnotations('xx-nope'), /no file .*xx-nope/);
});

test('loadCldrNames: territory, language and script names by code', () => {
  assert.equal(loadCldrNames('de', 'territories').FR, 'Frankreich');
  assert.equal(loadCldrNames('en', 'languages').de, 'German');
  assert.equal(loadCldrNames('ru', 'scripts').Latn, 'латиница');
  assert.throws(() => loadCldrNames('de', 'cities' as never), /unsupported kind 'cities'; use languages, territories, scripts/);
});

test('loadCldrCharacters: exemplar sets with escapes and ranges resolved', () => {
  const en = loadCldrCharacters('en');
  for (const c of 'abcxyz0189,.?') assert.ok(en.includes(c), c);
  assert.ok(!en.includes('[') || en.includes(']'), 'brackets only as punctuation');
  assert.ok(!en.includes(' '));
  const zh = loadCldrCharacters('zh');
  assert.ok(zh.length > 3000 && zh.includes('中') && zh.includes('国'));
  const th = loadCldrCharacters('th');
  assert.ok(th.includes('\u0e48'), 'Thai tone mark mai ek');
  for (const c of [...en, ...zh, ...th]) assert.equal([...c].length, 1, `one code point: ${c}`);
});

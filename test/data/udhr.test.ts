import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUdhr, UDHR_CODES } from '../../lib/data/udhr.js';

test('loadUdhr: preamble and 30 articles, aligned across the 12 XQuAD languages', () => {
  const en = loadUdhr('en');
  assert.equal(en.length, 31);
  assert.equal(en[0].id, 'preamble');
  assert.equal(en[1].id, 'a01');
  assert.equal(en[30].id, 'a30');
  assert.match(en[1].paragraphs[0], /^All human beings are born free and equal in dignity and rights\./);
  assert.equal(en[1].title, 'Article 1');
  for (const lang of Object.keys(UDHR_CODES)) {
    const s = loadUdhr(lang);
    assert.deepEqual(s.map((x) => x.id), en.map((x) => x.id), lang);
    // articles have the same number of paragraphs as in English
    for (let i = 1; i < s.length; i++) assert.equal(s[i].paragraphs.length, en[i].paragraphs.length, `${lang} ${s[i].id}`);
    for (const x of s) for (const p of x.paragraphs) assert.ok(!/[<>]/.test(p), `${lang}: tag left in ${p.slice(0, 40)}`);
  }
  assert.match(loadUdhr('de')[1].paragraphs[0], /^Alle Menschen sind frei und gleich an Würde und Rechten geboren/);
});

test('loadUdhr: entities decoded; missing file and file without articles are named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'udhr-'));
  try {
    writeFileSync(join(dir, 'xx.html'), '<html><body><header><h2>P</h2><p>a &amp; b &#233;</p></header><article data-number="1"><h2>A1</h2><p>x</p></article></body></html>');
    const s = loadUdhr('xx', { dir });
    assert.deepEqual(s[0], { id: 'preamble', title: 'P', paragraphs: ['a & b é'] });
    assert.equal(s[1].id, 'a01');
    writeFileSync(join(dir, 'yy.html'), '<html><body><p>nothing</p></body></html>');
    assert.throws(() => loadUdhr('yy', { dir }), /yy\.html: no <article data-number> elements/);
    assert.throws(() => loadUdhr('zz', { dir }), /no file .*zz\.html/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

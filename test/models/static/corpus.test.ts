import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleCorpus, corpusTexts } from '../../../lib/models/static/corpus.js';
import { loadTatoeba } from '../../../lib/data/tatoeba.js';

test('assembleCorpus: held-out Tatoeba lines are never trained on; counts agree; per-language dedup', () => {
  const c = assembleCorpus({ langs: ['de', 'th'], heldOut: 200 });
  const de = loadTatoeba('deu');
  assert.deepEqual(c.heldOut.de.map((p) => p.id), de.slice(800).map((p) => p.id));
  assert.equal(c.heldOut.th.length, 200);
  for (const lang of ['de', 'th']) {
    const heldText = new Set(c.heldOut[lang].map((p) => p.text));
    const tat = c.train.filter((p) => p.lang === lang && p.source === 'tatoeba');
    assert.ok(tat.every((p) => Number(p.id) < (lang === 'de' ? 800 : 348)), `${lang}: a held-out line id in train`);
    assert.ok(tat.every((p) => !heldText.has(p.text)) || lang === 'th', `${lang}: held-out text in train`);
  }
  for (const s of Object.keys(c.counts)) {
    for (const [lang, n] of Object.entries(c.counts[s])) assert.equal(c.train.filter((p) => p.source === s && p.lang === lang).length, n);
  }
  assert.deepEqual(Object.keys(c.counts).sort(), ['cldr-annotations', 'cldr-names', 'tatoeba', 'udhr']);
  const deEn = c.train.filter((p) => p.lang === 'de').map((p) => p.en.toLowerCase().trim());
  assert.equal(new Set(deEn).size, deEn.length, 'English sides distinct within a language');
  assert.ok(c.train.some((p) => p.lang === 'de' && p.source === 'cldr-names' && p.text === 'Frankreich' && p.en === 'France'));
  const texts = corpusTexts(c.train);
  assert.deepEqual(Object.keys(texts).sort(), ['de', 'en', 'th']);
  assert.equal(texts.en.length, c.train.length);
});

test('assembleCorpus: maxPerSource caps; bad options are named', () => {
  const c = assembleCorpus({ langs: ['es'], maxPerSource: 10 });
  for (const s of Object.keys(c.counts)) assert.ok(c.counts[s].es <= 10);
  assert.throws(() => assembleCorpus({ langs: ['xx'] }), /unknown language 'xx'/);
  assert.throws(() => assembleCorpus({ langs: ['th'], heldOut: 600 }), /heldOut 600 leaves no Tatoeba training line for th/);
  assert.throws(() => assembleCorpus({ sources: ['wiki' as never] }), /unknown source 'wiki'/);
});

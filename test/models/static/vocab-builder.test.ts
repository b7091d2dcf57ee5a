import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildVocab } from '../../../lib/models/static/vocab-builder.js';
import { WordPiece, UNK_ID } from '../../../lib/models/static/wordpiece.js';

const texts = {
  en: ['the cat sat on the mat', 'the dog sat', 'cats and dogs'],
  de: ['die Katze saß auf der Matte', 'der Hund saß', 'Katzen und Hunde'],
  th: ['แมวนั่งบนเสื่อ', 'สุนัขนั่ง'],
};

test('buildVocab: specials first, every character word-initial and ##, frequent words, no [UNK] on its own text', () => {
  const vocab = buildVocab(texts, { vocabSize: 200, minCount: 2 });
  assert.deepEqual(vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.equal(new Set(vocab).size, vocab.length);
  for (const ch of 'acdgkßแ') {
    assert.ok(vocab.includes(ch) && vocab.includes(`##${ch}`), ch);
  }
  for (const w of ['the', 'sat', 'saß', 'der']) assert.ok(vocab.includes(w), w); // count >= 2
  assert.ok(!vocab.includes('mat'), 'count 1 words are not whole-word tokens');
  const wp = new WordPiece(vocab);
  for (const t of Object.values(texts).flat()) assert.ok(!wp.encode(t).includes(UNK_ID), t);
  assert.deepEqual(buildVocab(texts, { vocabSize: 200, minCount: 2 }), vocab, 'deterministic');
  assert.deepEqual(buildVocab({ th: texts.th, de: texts.de, en: texts.en }, { vocabSize: 200, minCount: 2 }), vocab, 'independent of key order');
});

test('buildVocab: size respected, extra characters added, too small a size named', () => {
  const v = buildVocab(texts, { vocabSize: 120, extraChars: ['Ж', '中'] });
  assert.ok(v.length <= 120);
  assert.ok(v.includes('ж') && v.includes('##ж') && v.includes('中'), 'extra characters normalised (lowercase) and added');
  assert.throws(() => buildVocab(texts, { vocabSize: 20 }), /vocabSize 20 is too small: special tokens and characters alone need \d+/);
});

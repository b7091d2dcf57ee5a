import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { loadXquad, XQUAD_LANGS } from '../../../lib/data/xquad.js';
import { normalizeText, preTokenize, tokenizerConfigJson, tokenizerJson, WordPiece, UNK_ID, CLS_ID, SEP_ID } from '../../../lib/models/static/wordpiece.js';
import { loadCldrCharacters } from '../../../lib/data/cldr.js';
import { buildVocab } from '../../../lib/models/static/vocab-builder.js';
import { assembleCorpus, corpusTexts } from '../../../lib/models/static/corpus.js';

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

test('normalizeText keeps Devanagari and Thai combining marks, lowercases, splits Han', () => {
  const hi = 'हिन्दी';
  assert.equal(normalizeText(hi), hi); // virama U+094D and vowel sign U+0940 kept
  assert.ok(normalizeText(hi).includes('\u094d'));
  const th = 'ที่นี่';
  assert.equal(normalizeText(th), th); // Thai vowel/tone marks (Mn) kept
  assert.equal(normalizeText('Tiếng Việt'), 'tiếng việt');
  assert.equal(normalizeText('北京Beijing'), ' 北  京 beijing');
  assert.equal(normalizeText('a\u200db\u0000c'), 'abc'); // format and control characters dropped
  assert.deepEqual(preTokenize(normalizeText("It's 3.5 km—far!")), ['it', "'", 's', '3', '.', '5', 'km', '—', 'far', '!']);
});

test('WordPiece: greedy longest match, ## continuations, [UNK] for an unknown character', () => {
  const wp = new WordPiece([...SPECIAL, 'un', '##able', '##a', 'a', '##b', 'b', '##l', '##e', 'u', '##n']);
  assert.deepEqual(wp.tokenize('Unable'), ['[CLS]', 'un', '##able', '[SEP]']);
  assert.deepEqual(wp.tokenize('ab unab', { addSpecialTokens: false }), ['a', '##b', 'un', '##a', '##b']);
  assert.deepEqual(wp.encode('abx', { addSpecialTokens: false }), [UNK_ID]);
  assert.throws(() => new WordPiece(['[UNK]', '[PAD]']), /vocab\[0\] is '\[UNK\]', expected '\[PAD\]'/);
  assert.throws(() => new WordPiece([...SPECIAL, 'a', 'a']), /vocab\[6\] 'a' repeats vocab\[5\]/);
});

test('vocabulary from the training corpus: identical to transformers.js and < 1% [UNK] on XQuAD text of all 12 languages', () => {
  // The real builder on a slice of the real corpus (a few seconds); the shipped model is checked in static-model-artifact.test.ts.
  const corpus = assembleCorpus({ maxPerSource: 400 });
  const extraChars = XQUAD_LANGS.flatMap((l) => loadCldrCharacters(l));
  const vocab = buildVocab(corpusTexts(corpus.train), { vocabSize: 16000, extraChars });
  const wp = new WordPiece(vocab);
  const hf = new (PreTrainedTokenizer as unknown as new (json: object, config: object) => { encode(t: string): number[] })(tokenizerJson(vocab), tokenizerConfigJson());
  for (const lang of XQUAD_LANGS) {
    const x = loadXquad(lang);
    const texts = [...x.paragraphs.slice(0, 10).map((p) => p.context), ...x.questions.slice(0, 40).map((q) => q.question)];
    let n = 0;
    let unk = 0;
    for (const t of texts) {
      const ids = wp.encode(t);
      assert.deepEqual(ids, hf.encode(t), `${lang}: tokenization differs from transformers.js for ${t.slice(0, 60)}`);
      assert.equal(ids[0], CLS_ID);
      assert.equal(ids[ids.length - 1], SEP_ID);
      n += ids.length;
      unk += ids.filter((i) => i === UNK_ID).length;
    }
    assert.ok(unk / n < 0.01, `${lang}: ${unk} of ${n} tokens are [UNK]`);
  }
});

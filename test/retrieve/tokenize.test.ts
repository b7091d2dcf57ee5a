import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../lib/retrieve/tokenize.js';
import { loadXquad, XQUAD_LANGS } from '../../lib/data/xquad.js';

// The first question of XQuAD in every language ("How many points did the Panthers defense
// surrender?"), tokenized by hand: words, lowercase, no punctuation.
const EXPECTED: Record<string, string[]> = {
  ar: ['كم', 'نقطة', 'تخلى', 'عنها', 'دفاع', 'البانثرز'],
  de: ['wie', 'viele', 'punkte', 'gab', 'die', 'verteidigung', 'der', 'panthers', 'ab'],
  el: ['πόσους', 'πόντους', 'παρέδωσε', 'η', 'άμυνα', 'των', 'πάνθερς'],
  en: ['how', 'many', 'points', 'did', 'the', 'panthers', 'defense', 'surrender'],
  es: ['cuántos', 'puntos', 'dejaron', 'escapar', 'en', 'defensa', 'los', 'panthers'],
  hi: ['पैंथर्स', 'डिफ़ेंस'.normalize('NFKC'), 'ने', 'कितने', 'अंक', 'दिए'],
  ro: ['câte', 'puncte', 'a', 'cedat', 'apărarea', 'echipei', 'panthers'],
  ru: ['сколько', 'очков', 'уступила', 'защита', 'пэнтерс'],
  tr: ['panthers', 'savunması', 'kaç', 'sayı', 'bırakmıştır'],
  vi: ['đội', 'thủ', 'panthers', 'đã', 'thua', 'bao', 'nhiêu', 'điểm'],
};

test('a real question of each of the 12 XQuAD languages', () => {
  for (const lang of XQUAD_LANGS) {
    const q = loadXquad(lang).questions[0].question;
    const tokens = tokenize(q);
    if (EXPECTED[lang]) assert.deepEqual(tokens, EXPECTED[lang], lang);
    for (const t of tokens) {
      assert.equal(t, t.normalize('NFKC').toLowerCase(), `${lang}: '${t}' normalised`);
      assert.match(t, /^[\p{L}\p{M}\p{N}]+$/u, `${lang}: '${t}' is a word`);
    }
  }
});

test('Thai and Chinese, written without spaces, are split into dictionary words', () => {
  // zh: "黑豹队的防守丢了多少分？" -> 9 words, '防守' (defense) and '多少' (how many) whole.
  const zh = tokenize(loadXquad('zh').questions[0].question);
  assert.deepEqual(zh, ['黑', '豹', '队', '的', '防守', '丢', '了', '多少', '分']);
  // th: "ทีมรับของแพนเธอร์สยอมแพ้ที่คะแนนเท่าไร" -> 'ทีม' (team), 'คะแนน' (points), 'เท่าไร' (how many).
  const th = tokenize(loadXquad('th').questions[0].question);
  assert.ok(th.length >= 8, th.join('|'));
  for (const w of ['ทีม', 'รับ', 'ของ', 'ยอม', 'แพ้', 'คะแนน', 'เท่าไร']) assert.ok(th.includes(w), `th has ${w}`);
  // Nothing is lost: the words concatenate back to the question without its punctuation.
  assert.equal(th.join(''), loadXquad('th').questions[0].question.normalize('NFKC'));
  // A whole Thai paragraph (it starts with a byte-order mark in the file) gives many words.
  const para = tokenize(loadXquad('th').paragraphs[0].context);
  assert.ok(para.length > 50 && !para.some((t) => t.includes('\uFEFF')));
});

test('normalisation: NFKC, case, Turkish dotted capital I, punctuation and empty input', () => {
  assert.deepEqual(tokenize('ＦＵＬＬ－width ﬁne'), ['full', 'width', 'fine']);
  assert.deepEqual(tokenize('İstanbul ISTANBUL'), ['istanbul', 'istanbul']);
  assert.deepEqual(tokenize('Super Bowl 50, 2016!'), ['super', 'bowl', '50', '2016']);
  assert.deepEqual(tokenize(''), []);
  assert.deepEqual(tokenize(' ?!… '), []);
  assert.throws(() => tokenize('a b', { chunkChars: 0 }), /chunkChars must be an integer >= 1, got 0/);
});

// The tokenizer before it segmented long texts in pieces: the whole text in one call.
const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
function wholeText(text: string): string[] {
  const out: string[] = [];
  for (const s of segmenter.segment(text.normalize('NFKC').toLowerCase().replace(/i\u0307/g, 'i'))) if (s.isWordLike) out.push(s.segment);
  return out;
}

test('segmenting in pieces gives the tokens of the whole text: every XQuAD context and question, 12 languages', () => {
  let cut = 0;
  for (const lang of XQUAD_LANGS) {
    const x = loadXquad(lang);
    for (const text of [...x.paragraphs.map((p) => p.context), ...x.questions.map((q) => q.question)]) {
      const want = wholeText(text);
      assert.deepEqual(tokenize(text), want, `${lang}: ${text.slice(0, 60)}`);
      // pieces of 128-256 characters: most contexts are cut several times (Thai and Chinese included)
      let pieces = 0;
      assert.deepEqual(tokenize(text, { chunkChars: 128, onChunk: () => pieces++ }), want, `${lang} in pieces: ${text.slice(0, 60)}`);
      if (pieces > 1) cut++;
    }
  }
  assert.ok(cut > 2000, `${cut} texts were cut into pieces`);
});

test('a text without separators (words joined by hyphens and commas) is cut at the boundaries the segmenter finds', () => {
  const text = loadXquad('de').paragraphs.slice(0, 20).map((p) => p.context).join('-').replace(/[\s!?()[\]{}]+/g, '-');
  assert.ok(text.length > 10_000 && !/\s/.test(text));
  let pieces = 0;
  assert.deepEqual(tokenize(text, { chunkChars: 64, onChunk: () => pieces++ }), wholeText(text));
  assert.ok(pieces > 80, `${pieces} pieces`);
});

test('a 5 MB document of twelve languages tokenises completely, to the tokens of its paragraphs (linear: no timing asserted)', () => {
  const paragraphs = XQUAD_LANGS.flatMap((lang) => loadXquad(lang).paragraphs.map((p) => p.context));
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < 5_000_000; i++) {
    const p = paragraphs[i % paragraphs.length];
    parts.push(p);
    length += p.length + 1;
  }
  const doc = parts.join('\n');
  assert.ok(doc.length >= 5_000_000);
  let seen = 0;
  const tokens = tokenize(doc, { onChunk: (n) => (seen += n) });
  assert.equal(seen, doc.normalize('NFKC').toLowerCase().replace(/i\u0307/g, 'i').length, 'every character went through the segmenter');
  const byParagraph = new Map<string, string[]>();
  const want: string[] = [];
  for (const p of parts) {
    if (!byParagraph.has(p)) byParagraph.set(p, wholeText(p));
    want.push(...byParagraph.get(p)!);
  }
  assert.equal(tokens.length, want.length);
  assert.deepEqual(tokens, want);
});

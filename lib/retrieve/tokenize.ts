/**
 * One tokenizer for all twelve XQuAD scripts (Latin, Arabic, Greek, Cyrillic, Devanagari,
 * Thai, Han), for BM25.
 *
 * Steps: Unicode NFKC (folds full-width forms, ligatures and compatibility characters, e.g.
 * the Chinese '？' and 'ｆｕｌｌ' -> 'full'), lowercase, then `Intl.Segmenter` with word
 * granularity, keeping only word-like segments (letters, numbers, ideographs; no spaces or
 * punctuation).
 *
 * Why `Intl.Segmenter` and not whitespace + character n-grams: Thai and Chinese are written
 * without spaces. Node ships full ICU, whose word break iterator segments Thai and Chinese
 * (and Japanese, Khmer, Lao, Burmese) with dictionaries ('黑豹队的防守' -> 黑 | 豹 | 队 | 的 |
 * 防守), while every other script falls back to the Unicode word-boundary rules (UAX #29),
 * which also keep Devanagari combining marks inside their word. Character n-grams would
 * need a separate code path for two scripts, multiply the index size, and match many
 * meaningless n-grams across word boundaries; dictionary words behave like the words of the
 * other languages, so one BM25 setting serves all twelve. The cost: dictionary segmentation
 * can split rare names (the transliteration 'แพนเธอร์ส' -> แพน | เธอ | ร์ส), the same way in
 * queries and documents, so matches still happen.
 *
 * Lowercasing is locale-independent `toLowerCase()` (the same for every language, so that
 * an English name in a Turkish text matches the English document); afterwards 'i' + U+0307
 * (COMBINING DOT ABOVE, what the Turkish capital 'İ' lowercases to) becomes plain 'i'.
 * No stemming and no stop words: neither exists for all twelve languages in one well-kept
 * package, and BM25's idf already discounts frequent words.
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/**
 * Split a text into normalised word tokens, for any of the XQuAD languages.
 *
 * @param text - any string (may be empty).
 * @returns the word-like segments, NFKC-normalised and lowercased, in text order (repeats
 *   kept: BM25 counts them).
 * @example
 * tokenize('Wie viele Punkte gab die Verteidigung der Panthers ab?')
 * // ['wie', 'viele', 'punkte', 'gab', 'die', 'verteidigung', 'der', 'panthers', 'ab']
 * tokenize('黑豹队的防守丢了多少分？') // ['黑', '豹', '队', '的', '防守', '丢', '了', '多少', '分']
 */
export function tokenize(text: string): string[] {
  const norm = text.normalize('NFKC').toLowerCase().replace(/i\u0307/g, 'i');
  const out: string[] = [];
  for (const s of segmenter.segment(norm)) if (s.isWordLike) out.push(s.segment);
  return out;
}

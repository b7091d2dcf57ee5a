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

import { xlError } from '../util/errors.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/**
 * Characters after which a word boundary is certain, whatever follows (as long as it is not
 * one of them, a combining mark or a format character, which attach to what precedes them):
 * whitespace (UAX #29 WSegSpace and the line breaks; not U+202F, an ExtendNumLet, nor
 * U+FEFF, a Format character), '!', '?', brackets and the ideographic full stop '。'. None is
 * in a word-break class that joins (MidLetter, MidNum, MidNumLet, ExtendNumLet, quotes), and
 * none is a dictionary character, so a run of Thai or Chinese ends there too.
 */
const SEPARATORS = '\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u205F\\u3000!?()\\[\\]{}\\u3002';
const SAFE_CUT = new RegExp(`[${SEPARATORS}]+(?=[^${SEPARATORS}\\p{M}\\p{Cf}\\p{Emoji_Modifier}\\uFF9E\\uFF9F])`, 'u');

/** Characters per piece handed to the segmenter (see {@link tokenize}). */
export const TOKENIZE_CHUNK_CHARS = 1024;

/**
 * Split a text into normalised word tokens, for any of the XQuAD languages.
 *
 * Long texts are segmented in pieces of about `chunkChars` characters (up to twice that),
 * cut just after a separator (see `SEPARATORS`), where a word boundary is certain, so the
 * tokens are those of segmenting the whole text at once. Why: V8's `Intl.Segmenter`
 * iterator before V8 12.3 (Node 20) costs time proportional to the text's length at every
 * step (crbug 326176949), so one 200k-character text took 39 s and a 5 MB one 12 minutes;
 * in pieces the cost is linear in the length. A stretch of more than 2 x `chunkChars`
 * characters without a separator (no space, '!', '?', bracket or '。') is cut at the last
 * word boundary the segmenter finds in it, which can differ from the whole-text boundary
 * only inside a word longer than the piece or in the middle of a Thai or Chinese run of
 * that length (dictionary segmentation looks at the whole run).
 *
 * @param text - any string (may be empty).
 * @param options.chunkChars - piece length; default {@link TOKENIZE_CHUNK_CHARS} (smaller in tests).
 * @param options.onChunk - called after each piece with its length (of the normalised text), for progress.
 * @returns the word-like segments, NFKC-normalised and lowercased, in text order (repeats
 *   kept: BM25 counts them).
 * @example
 * tokenize('Wie viele Punkte gab die Verteidigung der Panthers ab?')
 * // ['wie', 'viele', 'punkte', 'gab', 'die', 'verteidigung', 'der', 'panthers', 'ab']
 * tokenize('黑豹队的防守丢了多少分？') // ['黑', '豹', '队', '的', '防守', '丢', '了', '多少', '分']
 */
export function tokenize(text: string, options: { chunkChars?: number; onChunk?: (chars: number) => void } = {}): string[] {
  const size = options.chunkChars ?? TOKENIZE_CHUNK_CHARS;
  if (!(Number.isInteger(size) && size >= 1)) throw xlError('tokenize', `chunkChars must be an integer >= 1, got ${size}`);
  const norm = text.normalize('NFKC').toLowerCase().replace(/i\u0307/g, 'i');
  const out: string[] = [];
  let start = 0;
  while (start < norm.length) {
    let end = norm.length;
    if (end - start > 2 * size) {
      // the first certain boundary after start + size, within the piece (+1: the character the cut must see)
      const window = norm.slice(start + size, start + 2 * size + 1);
      const m = SAFE_CUT.exec(window);
      if (m) end = start + size + m.index + m[0].length;
      else {
        // no separator: cut at the last boundary the segmenter finds in the first half of a
        // 2 x size piece (the second half is its look-ahead), else at the piece's last boundary
        const piece = norm.slice(start, start + 2 * size);
        let cut = 0;
        let last = 0;
        for (const s of segmenter.segment(piece)) {
          if (s.index <= size) cut = s.index;
          last = s.index;
        }
        if (cut === 0) cut = last;
        end = start + (cut > 0 ? cut : piece.length - (/[\uD800-\uDBFF]/.test(piece[piece.length - 1]) ? 1 : 0));
      }
    }
    for (const s of segmenter.segment(norm.slice(start, end))) if (s.isWordLike) out.push(s.segment);
    options.onChunk?.(end - start);
    start = end;
  }
  return out;
}

import { xlError } from '../../util/errors.js';
import { CONTINUATION, SPECIAL_TOKENS, normalizeText, words } from './wordpiece.js';

/**
 * Build a WordPiece vocabulary from monolingual texts of several languages.
 *
 * Hand-written, a simplified WordPiece trainer (there is no tokenizer trainer on npm that
 * runs offline in Node): the vocabulary is, in this order,
 * 1. the special tokens;
 * 2. every character seen, both word-initial (`x`) and continuation (`##x`), so a word
 *    made of known characters never becomes `[UNK]`;
 * 3. frequent whole words, the same quota for each language, taken round-robin by rank
 *    (so English, with text on every pair, does not crowd the other languages out);
 * 4. frequent subwords, word-initial prefixes and `##` substrings of 2..`maxPieceChars`
 *    characters, scored by `count x (length - 1)` (roughly the pieces they save),
 *    again round-robin over languages, until `vocabSize` is reached.
 * Ties are broken by the token string, so the result does not depend on input order
 * within equal counts.
 */

/** Options of {@link buildVocab}; all have defaults. */
export interface VocabOptions {
  /** Total vocabulary size including special tokens and characters. Default 32000. */
  vocabSize?: number;
  /** Share of the room left after characters that goes to whole words (rest: subwords). Default 0.6. */
  wordShare?: number;
  /** Minimum count of a whole word or subword. Default 2. */
  minCount?: number;
  /** Longest subword considered, in characters. Default 8. */
  maxPieceChars?: number;
  /** Extra characters to include even if unseen (e.g. a script's exemplar set); normalised like text. Default none. */
  extraChars?: Iterable<string>;
}

function countWords(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of words(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

function ranked(counts: Map<string, number>, score: (tok: string, c: number) => number, minCount: number): string[] {
  return [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .map(([t, c]) => [t, score(t, c)] as const)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([t]) => t);
}

function roundRobin(lists: string[][], vocab: string[], seen: Set<string>, room: number): void {
  const pos = lists.map(() => 0);
  let added = 0;
  let progress = true;
  while (added < room && progress) {
    progress = false;
    for (let l = 0; l < lists.length && added < room; l++) {
      const list = lists[l];
      while (pos[l] < list.length && seen.has(list[pos[l]])) pos[l]++;
      if (pos[l] < list.length) {
        const tok = list[pos[l]++];
        seen.add(tok);
        vocab.push(tok);
        added++;
        progress = true;
      }
    }
  }
}

/**
 * The vocabulary (token list, id = position) for texts grouped by language.
 *
 * @throws XlalignError when `vocabSize` is smaller than the special tokens plus the
 *   characters seen (the message gives the number needed).
 * @example buildVocab({ en: ['hello world'], de: ['hallo welt'] }, { vocabSize: 100, minCount: 1 })
 */
export function buildVocab(textsByLang: Record<string, readonly string[]>, options: VocabOptions = {}): string[] {
  const { vocabSize = 32000, wordShare = 0.6, minCount = 2, maxPieceChars = 8, extraChars = [] } = options;
  const langs = Object.keys(textsByLang).sort();
  const wordCounts = langs.map((l) => countWords(textsByLang[l]));

  const chars = new Set<string>();
  for (const e of extraChars) for (const ch of normalizeText(e).replace(/\s+/g, '')) chars.add(ch);
  for (const wc of wordCounts) for (const w of wc.keys()) for (const ch of w) chars.add(ch);
  const vocab: string[] = [...SPECIAL_TOKENS];
  const seen = new Set<string>(vocab);
  for (const ch of [...chars].sort()) {
    for (const t of [ch, CONTINUATION + ch]) {
      if (!seen.has(t)) {
        seen.add(t);
        vocab.push(t);
      }
    }
  }
  if (vocab.length > vocabSize) {
    throw xlError('buildVocab', `vocabSize ${vocabSize} is too small: special tokens and characters alone need ${vocab.length}`);
  }
  const room = vocabSize - vocab.length;
  const wordRoom = Math.floor(room * wordShare);
  roundRobin(
    wordCounts.map((wc) => ranked(wc, (_t, c) => c, minCount).filter((w) => [...w].length > 1)),
    vocab, seen, wordRoom,
  );

  const pieceLists = wordCounts.map((wc) => {
    const pieces = new Map<string, number>();
    for (const [w, c] of wc) {
      if (seen.has(w)) continue; // whole word already in; its pieces are not needed for it
      const cs = [...w];
      for (let s = 0; s < cs.length; s++) {
        for (let len = 2; len <= maxPieceChars && s + len <= cs.length; len++) {
          if (s === 0 && len === cs.length) continue;
          const piece = (s > 0 ? CONTINUATION : '') + cs.slice(s, s + len).join('');
          pieces.set(piece, (pieces.get(piece) ?? 0) + c);
        }
      }
    }
    return ranked(pieces, (t, c) => c * ([...t.replace(/^##/, '')].length - 1), minCount);
  });
  roundRobin(pieceLists, vocab, seen, vocabSize - vocab.length);
  return vocab;
}

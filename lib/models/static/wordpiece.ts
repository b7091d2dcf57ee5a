import { xlError } from '../../util/errors.js';

/**
 * The BERT-style WordPiece tokenizer of the static model, written out so that the training
 * code can tokenize millions of words without a model session, and kept **identical** to
 * what transformers.js (`@huggingface/tokenizers`) does with the `tokenizer.json` built by
 * {@link tokenizerJson}: BertNormalizer (clean_text, handle_chinese_chars, lowercase,
 * strip_accents: false), BertPreTokenizer, WordPiece (`##` continuation prefix), and a
 * `[CLS] … [SEP]` template. `test/train/static/wordpiece.test.ts` checks the agreement on
 * XQuAD text of all 12 languages.
 *
 * Hand-written rather than calling the transformers.js tokenizer in the training loop
 * because the vocabulary builder needs the normalizer and pre-tokenizer before any
 * vocabulary exists, and the encoder is 40 lines.
 */

/** The special tokens, in this order at ids 0..4. */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
/** Id of `[PAD]`. */
export const PAD_ID = 0;
/** Id of `[UNK]`. */
export const UNK_ID = 1;
/** Id of `[CLS]`. */
export const CLS_ID = 2;
/** Id of `[SEP]`. */
export const SEP_ID = 3;
/** Continuation prefix of word-internal pieces. */
export const CONTINUATION = '##';
/**
 * Longest word (in code points) that WordPiece splits; longer ones become `[UNK]`. Raised
 * from BERT's 100 because Thai is written without spaces between words, so a whole clause
 * is one pre-token.
 */
export const MAX_CHARS_PER_WORD = 1000;

// Same ranges as BERT's `_is_chinese_char` (checked per UTF-16 code unit, as in tokenizers.js).
function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const CONTROL = /^\p{Cc}|\p{Cf}|\p{Co}|\p{Cs}$/u;
const SPACE = /^\s$/;

/**
 * BertNormalizer with `clean_text`, `handle_chinese_chars`, `lowercase` and
 * `strip_accents: false`: drops control/format characters (incl. ZWJ/ZWNJ), maps
 * whitespace to ' ', puts spaces around Han characters, lowercases. Combining marks
 * (Devanagari matras, Thai vowels and tones, Vietnamese tones) are kept.
 *
 * @example normalizeText('Hello 世界') // 'hello  世  界 '
 */
export function normalizeText(text: string): string {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.charCodeAt(0);
    if (cp === 0 || cp === 0xfffd) continue;
    if (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch)) continue;
    cleaned += SPACE.test(ch) ? ' ' : ch;
  }
  let out = '';
  for (let i = 0; i < cleaned.length; i++) {
    const c = cleaned[i];
    out += isChineseChar(c.charCodeAt(0)) ? ` ${c} ` : c;
  }
  return out.toLowerCase();
}

const PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const PRE_TOKEN = new RegExp(`[^\\s${PUNCT}]+|[${PUNCT}]`, 'gu');

/**
 * BertPreTokenizer: split normalised text on whitespace and around every punctuation
 * character (Unicode P plus ASCII symbols).
 *
 * @example preTokenize("it's 3.5") // ['it', "'", 's', '3', '.', '5']
 */
export function preTokenize(normalized: string): string[] {
  return normalized.trim().match(PRE_TOKEN) ?? [];
}

/** Normalise then pre-tokenize: the words that WordPiece sees. */
export function words(text: string): string[] {
  return preTokenize(normalizeText(text));
}

/** Options of {@link WordPiece.encode}. */
export interface EncodeOptions {
  /** Add `[CLS]` before and `[SEP]` after, like transformers.js does by default. Default true. */
  addSpecialTokens?: boolean;
}

/**
 * Greedy longest-match-first WordPiece over a fixed vocabulary (id = position).
 *
 * @example
 * const wp = new WordPiece(['[PAD]','[UNK]','[CLS]','[SEP]','[MASK]','un','##able','a','##b']);
 * wp.encode('unable') // [2, 5, 6, 3]
 */
export class WordPiece {
  readonly vocab: readonly string[];
  readonly ids: Map<string, number>;
  /** Longest token in code points (without `##`): no longer match can exist, so the search starts there. */
  private readonly maxTokenChars: number;
  private readonly cache = new Map<string, number[]>();

  /** @throws XlalignError when the vocabulary does not start with {@link SPECIAL_TOKENS} or repeats a token. */
  constructor(vocab: readonly string[]) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (vocab[i] !== t) throw xlError('WordPiece', `vocab[${i}] is '${vocab[i]}', expected '${t}' (special tokens first)`);
    });
    this.vocab = vocab;
    this.ids = new Map();
    let longest = 1;
    vocab.forEach((t, i) => {
      longest = Math.max(longest, [...t].length);
      if (this.ids.has(t)) throw xlError('WordPiece', `vocab[${i}] '${t}' repeats vocab[${this.ids.get(t)}]`);
      this.ids.set(t, i);
    });
    this.maxTokenChars = longest;
  }

  /** Build from a `tokenizer.json` object (its `model.vocab`). */
  static fromTokenizerJson(json: unknown): WordPiece {
    const vocab = (json as { model?: { vocab?: Record<string, number> } })?.model?.vocab;
    if (!vocab || typeof vocab !== 'object') throw xlError('WordPiece.fromTokenizerJson', 'tokenizer.json has no model.vocab object');
    const list: string[] = [];
    for (const [tok, id] of Object.entries(vocab)) list[id] = tok;
    for (let i = 0; i < list.length; i++) {
      if (list[i] === undefined) throw xlError('WordPiece.fromTokenizerJson', `model.vocab has no token with id ${i}; ids must be 0..n-1`);
    }
    return new WordPiece(list);
  }

  /** Ids of the pieces of one pre-token (a word); `[UNK]` alone when a character is not in the vocabulary. */
  encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const chars = [...word];
    let out: number[];
    if (chars.length > MAX_CHARS_PER_WORD) out = [UNK_ID];
    else {
      out = [];
      let start = 0;
      while (start < chars.length) {
        // Same result as starting at chars.length (as tokenizers.js does): longer pieces are not in the vocabulary.
        let end = Math.min(chars.length, start + this.maxTokenChars);
        let found = -1;
        while (start < end) {
          const piece = (start > 0 ? CONTINUATION : '') + chars.slice(start, end).join('');
          const id = this.ids.get(piece);
          if (id !== undefined) {
            found = id;
            break;
          }
          end--;
        }
        if (found < 0) {
          out = [UNK_ID];
          break;
        }
        out.push(found);
        start = end;
      }
    }
    if (this.cache.size < 500_000) this.cache.set(word, out);
    return out;
  }

  /** Token ids of a text, as transformers.js gives them for the same tokenizer.json. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const { addSpecialTokens = true } = options;
    const out: number[] = addSpecialTokens ? [CLS_ID] : [];
    for (const w of words(text)) for (const id of this.encodeWord(w)) out.push(id);
    if (addSpecialTokens) out.push(SEP_ID);
    return out;
  }

  /** Token strings of a text (for inspection). */
  tokenize(text: string, options: EncodeOptions = {}): string[] {
    return this.encode(text, options).map((i) => this.vocab[i]);
  }
}

/**
 * The `tokenizer.json` (Hugging Face tokenizers format) for a WordPiece vocabulary, with the
 * normalizer, pre-tokenizer and post-processor that {@link WordPiece} mirrors.
 *
 * @example writeFileAtomic('tokenizer.json', JSON.stringify(tokenizerJson(vocab)));
 */
export function tokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  new WordPiece(vocab); // validates
  const v: Record<string, number> = {};
  vocab.forEach((t, i) => (v[t] = i));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [CLS_ID], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [SEP_ID], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: CONTINUATION, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: CONTINUATION,
      max_input_chars_per_word: MAX_CHARS_PER_WORD,
      vocab: v,
    },
  };
}

/**
 * The `tokenizer_config.json` that goes beside {@link tokenizerJson}'s output.
 * `model_max_length` is large: a static model has no position limit.
 */
export function tokenizerConfigJson(): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    tokenize_chinese_chars: true,
    strip_accents: false,
    unk_token: '[UNK]', pad_token: '[PAD]', cls_token: '[CLS]', sep_token: '[SEP]', mask_token: '[MASK]',
    model_max_length: 8192,
    clean_up_tokenization_spaces: true,
  };
}

/**
 * Tokenize a batch the way Hugging Face `tokenizers` / sentence-transformers do: truncate
 * the text's own tokens and keep the special tokens. transformers.js' `truncation: true`
 * cuts after the special tokens are added (a 600-token text loses its final `[SEP]`/`</s>`),
 * which changes vectors of long texts relative to the Python reference; hence this helper.
 */
import { Tensor, type PreTrainedTokenizer } from '@huggingface/transformers';
import { xlError } from '../util/errors.js';

/** Model inputs of one batch, padded on the right. */
export interface TokenizedBatch {
  input_ids: Tensor;
  attention_mask: Tensor;
  /** Zeros, present when the tokenizer returns token type ids (BERT-style). */
  token_type_ids?: Tensor;
  /** Token count per text (special tokens included, padding excluded). */
  lengths: number[];
}

/**
 * Encode `texts` with special tokens, truncated to at most `maxLength` tokens each and padded
 * (right, with the tokenizer's pad id) to the longest in the batch.
 *
 * Truncation contract: when `encode(text)` is longer than `maxLength`, the special tokens
 * it adds before and after the text (`[CLS]` ... `[SEP]`, `<s>` ... `</s>`) are kept and
 * the text's tokens are cut at the end to fit: `pre + textTokens[0 .. maxLength - |pre| - |post|] + post`.
 *
 * @throws XlalignError when `maxLength` is smaller than the number of special tokens plus one,
 *   or the tokenizer has no pad token and the batch needs padding.
 * @example const b = tokenizeBatch(tokenizer, ['Hallo Welt', 'Hi'], { maxLength: 512 });
 */
export function tokenizeBatch(tokenizer: PreTrainedTokenizer, texts: readonly string[], options: { maxLength: number }): TokenizedBatch {
  const { maxLength } = options;
  const rows = texts.map((text) => {
    const full = tokenizer.encode(text) as number[];
    if (full.length <= maxLength) return full;
    const plain = tokenizer.encode(text, { add_special_tokens: false }) as number[];
    const pre = findOffset(full, plain);
    const post = full.length - pre - plain.length;
    const keep = maxLength - pre - post;
    if (pre < 0 || keep < 1) {
      if (pre >= 0) throw xlError('tokenizeBatch', `maxLength ${maxLength} leaves no room for text tokens next to ${pre + post} special tokens; use maxLength >= ${pre + post + 1}`);
      return full.slice(0, maxLength); // special tokens not a prefix/suffix: plain cut
    }
    return [...full.slice(0, pre), ...plain.slice(0, keep), ...full.slice(full.length - post)];
  });
  const width = Math.max(1, ...rows.map((r) => r.length));
  const padId = (tokenizer as unknown as { pad_token_id?: number | null }).pad_token_id;
  const needsPad = rows.some((r) => r.length < width);
  if (needsPad && (padId === undefined || padId === null)) {
    throw xlError('tokenizeBatch', 'the tokenizer has no pad token (tokenizer_config.json pad_token); embed with batchSize 1 or add a pad token');
  }
  const ids = new BigInt64Array(rows.length * width);
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((r, b) => {
    for (let t = 0; t < width; t++) {
      ids[b * width + t] = BigInt(t < r.length ? r[t] : (padId as number));
      mask[b * width + t] = t < r.length ? 1n : 0n;
    }
  });
  const dims = [rows.length, width];
  const out: TokenizedBatch = {
    input_ids: new Tensor('int64', ids, dims),
    attention_mask: new Tensor('int64', mask, dims),
    lengths: rows.map((r) => r.length),
  };
  if ((tokenizer as unknown as { return_token_type_ids?: boolean }).return_token_type_ids) {
    out.token_type_ids = new Tensor('int64', new BigInt64Array(rows.length * width), dims);
  }
  return out;
}

/** Index where `plain` occurs inside `full` (its special-token prefix length), or -1. */
function findOffset(full: number[], plain: number[]): number {
  for (let k = 0; k + plain.length <= full.length; k++) {
    let ok = true;
    for (let j = 0; j < plain.length && ok; j++) ok = full[k + j] === plain[j];
    if (ok) return k;
  }
  return -1;
}

/**
 * Reading text files strictly as UTF-8: the one way the dataset loaders turn bytes into
 * text. Node's `readFileSync(file, 'utf8')` replaces invalid bytes with U+FFFD without a
 * word, so a Latin-1 or truncated file would silently become other text (and other
 * tokens, other vectors). Here invalid UTF-8 is an error naming the file and the line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { xlError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const lenient = new TextDecoder('utf-8');

/**
 * Decode bytes as UTF-8 (a leading byte order mark is dropped).
 *
 * @param bytes - the file's content.
 * @param file - the file name used in the error.
 * @param where - the function named in the error (e.g. `loadBeir`).
 * @throws XlalignError `where: file:line: not valid UTF-8 (first bad byte 0xE9 at column 17)`
 *   for the first line holding an invalid byte sequence.
 * @example decodeUtf8(readFileSync(f), f, 'loadXquad')
 */
export function decodeUtf8(bytes: Uint8Array, file: string, where: string): string {
  if (isUtf8(bytes)) return utf8.decode(bytes);
  // Invalid somewhere: find the first line that does not decode, to name it.
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const row = bytes.subarray(start, end);
    if (!isUtf8(row)) {
      // Column (1-based, in characters) and value of the first bad byte: the longest valid prefix ends before it.
      let ok = 0;
      while (ok < row.length) {
        const n = sequenceLength(row, ok);
        if (n === 0) break;
        ok += n;
      }
      const column = [...lenient.decode(row.subarray(0, ok))].length + 1;
      const byte = row[ok] ?? row[row.length - 1];
      throw xlError(where, `${file}:${line}: not valid UTF-8 (bad byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at column ${column}); save the file as UTF-8`);
    }
    start = end + 1;
  }
  // isUtf8 said no but every line is valid: cannot happen (0x0A is never inside a sequence)
  throw xlError(where, `${file}: not valid UTF-8; save the file as UTF-8`);
}

/** Length of the valid UTF-8 sequence at `i` (1-4), or 0 when the bytes there are not one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  return isUtf8(b.subarray(i, i + n)) ? n : 0;
}

/**
 * Read a text file strictly as UTF-8 (see {@link decodeUtf8}).
 * @throws XlalignError `where: no file <file>` when it does not exist, or naming the line
 *   of invalid UTF-8.
 * @example const text = readTextFile('corpus.jsonl', 'loadBeir');
 */
export function readTextFile(file: string, where: string): string {
  if (!existsSync(file)) throw xlError(where, `no file ${file}`);
  return decodeUtf8(readFileSync(file), file, where);
}

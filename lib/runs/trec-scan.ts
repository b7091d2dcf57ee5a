/**
 * The byte-level parts of the TREC readers of `trec-io.ts`: a field scanner over a file (or
 * a whole gzip file), an exact fast decimal parser, and the id interner.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { xlError } from '../util/errors.js';

/** Whether a path names a gzip-compressed TREC file (`.gz`): written and read transparently. */
export function isGzipPath(path: string): boolean {
  return path.endsWith('.gz');
}


/**
 * Call `onLine(buf, starts, ends, nFields, lineNo)` for every non-blank line of `path`, with
 * the byte ranges of up to `maxFields` whitespace-separated fields (`nFields` counts all of
 * them). Reads the file in 16 MiB chunks with `readSync`; a line that straddles two chunks
 * is moved to the front of the buffer. A `.gz` file is decompressed whole first. Returns
 * the number of lines seen (blank ones included).
 */
export function scanFields(
  where: string,
  path: string,
  chunkSize: number,
  maxFields: number,
  onLine: (buf: Buffer, starts: Int32Array, ends: Int32Array, nFields: number, lineNo: number) => void,
): number {
  const starts = new Int32Array(maxFields);
  const ends = new Int32Array(maxFields);
  return scanBlocks(where, path, chunkSize, (buf, limit, lineNo) => scanLines(buf, limit, maxFields, starts, ends, lineNo, onLine));
}

/**
 * The chunked reading of {@link scanFields}: call `block(buf, limit, lineNo)` for each run
 * of whole lines `buf[0 .. limit)` (every one ends with '\n'; a last line without one gets
 * it appended), `lineNo` being the number of lines before it; `block` returns the line
 * number after it. Returns the number of lines seen (blank ones included).
 */
export function scanBlocks(
  where: string,
  path: string,
  chunkSize: number,
  block: (buf: Buffer, limit: number, lineNo: number) => number,
): number {
  if (isGzipPath(path)) {
    // Whole file decompressed at once (runs compress ~6-10x, so this is the text's size).
    let data: Buffer;
    try {
      data = gunzipSync(readFileSync(path));
    } catch (e) {
      throw xlError(where, `cannot read ${path} as gzip (truncated or not gzip?): ${(e as Error).message}`, { cause: e });
    }
    let limit = data.length;
    if (limit > 0 && data[limit - 1] !== 10) {
      const bigger = Buffer.allocUnsafe(limit + 1);
      data.copy(bigger, 0, 0, limit);
      bigger[limit] = 10;
      data = bigger;
      limit++;
    }
    return block(data, limit, 0);
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw xlError(where, `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    let buf = Buffer.allocUnsafe(chunkSize);
    let filled = 0; // bytes valid in buf
    let lineNo = 0;
    let eof = false;
    while (!eof) {
      if (filled === buf.length) {
        // A single line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      if (n === 0) eof = true;
      const end = filled + n;
      // Lines up to `limit` all end with '\n', so the byte loops below need no bounds checks
      // (one pass over each byte, no per-line native call). At EOF a final line without
      // '\n' gets one appended in the buffer.
      let limit: number;
      if (eof) {
        limit = end;
        if (end > 0 && buf[end - 1] !== 10) {
          if (end === buf.length) {
            const bigger = Buffer.allocUnsafe(buf.length + 1);
            buf.copy(bigger, 0, 0, end);
            buf = bigger;
          }
          buf[end] = 10;
          limit = end + 1;
        }
      } else {
        limit = end > 0 ? buf.lastIndexOf(10, end - 1) + 1 : 0;
      }
      lineNo = block(buf, limit, lineNo);
      // Move the partial last line to the front.
      if (limit < end) buf.copy(buf, 0, limit, end);
      filled = end > limit ? end - limit : 0;
    }
    return lineNo;
  } finally {
    closeSync(fd);
  }
}

/**
 * The field split of {@link scanFields} over `buf[from .. limit)` (every line there ends
 * with '\n'); returns the last line number.
 */
export function scanLines(
  buf: Buffer,
  limit: number,
  maxFields: number,
  starts: Int32Array,
  ends: Int32Array,
  lineNo: number,
  onLine: (buf: Buffer, starts: Int32Array, ends: Int32Array, nFields: number, lineNo: number) => void,
  from = 0,
): number {
  let i = from;
  while (i < limit) {
    lineNo++;
    let nFields = 0;
    let c = buf[i];
    for (;;) {
      while (c === 32 || c === 9 || c === 13) c = buf[++i];
      if (c === 10) break;
      const s = i;
      while (c !== 32 && c !== 9 && c !== 13 && c !== 10) c = buf[++i];
      if (nFields < maxFields) {
        starts[nFields] = s;
        ends[nFields] = i;
      }
      nFields++;
    }
    i++; // past '\n'
    if (nFields > 0) onLine(buf, starts, ends, nFields, lineNo);
  }
  return lineNo;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parse a decimal number from bytes [s, e). Fast path (Clinger): when the digits form an
 * integer below 2^53 and the decimal exponent is within ±22, `digits / 10^p` (or `* 10^p`)
 * is one correctly rounded operation on exact operands, so the result equals `Number(text)`.
 * Anything else (more digits, big exponents, inf/nan spellings) goes through `Number`.
 * Returns NaN when the text is not a number.
 */
export function parseNumber(buf: Buffer, s: number, e: number): number {
  let i = s;
  let neg = false;
  let c = buf[i];
  if (c === 45 /* - */ || c === 43 /* + */) {
    neg = c === 45;
    c = buf[++i];
  }
  let mant = 0;
  let nDigits = 0;
  let exp10 = 0;
  let sawDigit = false;
  while (i < e && c >= 48 && c <= 57) {
    if (mant !== 0 || c !== 48) nDigits++;
    mant = mant * 10 + (c - 48);
    sawDigit = true;
    c = buf[++i];
  }
  if (i < e && c === 46 /* . */) {
    c = buf[++i];
    while (i < e && c >= 48 && c <= 57) {
      if (mant !== 0 || c !== 48) nDigits++;
      mant = mant * 10 + (c - 48);
      exp10--;
      sawDigit = true;
      c = buf[++i];
    }
  }
  if (sawDigit && i < e && (c === 101 || c === 69) /* e E */) {
    c = buf[++i];
    let eneg = false;
    if (c === 45 || c === 43) {
      eneg = c === 45;
      c = buf[++i];
    }
    let ev = 0;
    let sawExp = false;
    while (i < e && c >= 48 && c <= 57 && ev < 10000) {
      ev = ev * 10 + (c - 48);
      sawExp = true;
      c = buf[++i];
    }
    if (!sawExp) return NaN;
    exp10 += eneg ? -ev : ev;
  }
  if (i === e && sawDigit && nDigits <= 15 && exp10 >= -22 && exp10 <= 22) {
    const v = exp10 < 0 ? mant / POW10[-exp10] : mant * POW10[exp10];
    return neg ? -v : v;
  }
  // Slow path: let Number parse, after checking the text is decimal (Number('') is 0 and
  // Number('0x10') is 16; trec_eval's atof would not read those as such).
  const text = buf.toString('latin1', s, e);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return NaN;
}

type Latin1Slicer = { latin1Slice?: (s: number, e: number) => string };
const HAS_LATIN1_SLICE = typeof (Buffer.prototype as unknown as Latin1Slicer).latin1Slice === 'function';

/**
 * Bytes [s, e) as a latin1 string. Calls Buffer's native `latin1Slice` directly where it
 * exists (what `toString('latin1', s, e)` calls after argument checks that cost ~5% of a
 * run-file parse), else `toString`.
 */
function latin1(buf: Buffer, s: number, e: number): string {
  return HAS_LATIN1_SLICE ? (buf as unknown as Required<Latin1Slicer>).latin1Slice(s, e) : buf.toString('latin1', s, e);
}

/** Decode bytes [s, e) as a string: latin1 when all bytes are ASCII (fast), else UTF-8. */
export function decode(buf: Buffer, s: number, e: number): string {
  for (let i = s; i < e; i++) if (buf[i] >= 128) return buf.toString('utf8', s, e);
  return latin1(buf, s, e);
}

/** True when bytes [s, e) of `buf` equal bytes [ps, pe) of `prev`. */
export function sameBytes(buf: Buffer, s: number, e: number, prev: Buffer, plen: number): boolean {
  if (e - s !== plen) return false;
  for (let i = 0; i < plen; i++) if (buf[s + i] !== prev[i]) return false;
  return true;
}

/**
 * FNV-1a (32-bit) hash of bytes [s, e), as {@link IdInterner.get} expects it (readRun's hot
 * loop computes the same hash inline while it scans a docno).
 */
export function fnv1a(buf: Buffer, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h;
}

/**
 * Ids interned by their bytes: each distinct byte string is decoded (by {@link decode}) once,
 * and every later occurrence returns that same string. A run repeats document ids across
 * queries (10 M lines over 200,000 distinct ids in the bench), so this replaces one string
 * allocation per line (and the garbage collector's work on 10 M strings kept alive in the
 * Run) by one hash-table probe.
 *
 * Layout, chosen by measurement because with 200,000 random ids the table does not fit in a
 * core's caches and each memory touch per line costs more than the rest of the line's
 * parsing: open addressing (linear probing, load <= 1/2) over 16-byte slots
 * `[(index + 1) | min(length, 255) << 21, first 12 bytes of the id]`, so an id of up to 12
 * bytes is found and verified within one cache line, and the table is small (8 MiB for
 * 200,000 ids: fewer TLB misses than 32-byte slots). Longer ids compare their tail with a byte
 * arena; the FNV-1a hashes are kept aside for growing the table. After `maxDistinct` distinct
 * ids (default 2^20, at most 2^21 - 1; a table of 2^21 slots = 32 MiB) the table stops
 * growing: further new ids are decoded each time, as without interning (bounded memory for
 * runs whose ids rarely repeat).
 */
export class IdInterner {
  private slots = new Int32Array(4 * 2048);
  private mask = 2048 - 1;
  private hashes = new Int32Array(1024);
  /** Per distinct id longer than 12 bytes: its length and the offset of its bytes in `arena`. */
  private lens = new Int32Array(1024);
  private offs = new Int32Array(1024);
  private arena = new Uint8Array(1 << 12);
  private arenaLen = 0;
  private strings: string[] = [];
  private readonly packed = new Int32Array(3);
  /** Distinct ids held. */
  size = 0;
  constructor(private readonly maxDistinct = 1 << 20) {
    if (!(maxDistinct < 1 << 21)) throw new RangeError(`IdInterner: maxDistinct ${maxDistinct} must be below 2^21`);
  }

  /** The id of bytes [s, e) of `buf`, whose FNV-1a hash ({@link fnv1a}) is `h`. */
  get(buf: Buffer, s: number, e: number, h = fnv1a(buf, s, e)): string {
    const w = this.packed;
    packId(buf, s, e, w, 0);
    return this.getPacked(buf, s, e, h, w, 0);
  }

  /**
   * {@link get} for an id whose first 12 bytes are already packed by {@link packId} into
   * `words[wo .. wo + 3)`: checking a candidate slot is four integer compares.
   */
  getPacked(buf: Buffer, s: number, e: number, h: number, words: Int32Array, wo: number): string {
    const len = e - s;
    const lenc = len < 255 ? len : 255;
    const slots = this.slots;
    const mask = this.mask;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const b = slot << 2;
      const head = slots[b];
      if (head === 0) break;
      if (head >>> 21 === lenc && slots[b + 1] === words[wo] && slots[b + 2] === words[wo + 1] && slots[b + 3] === words[wo + 2]) {
        const d = (head & 0x1fffff) - 1;
        if (len <= 12) return this.strings[d];
        if (this.lens[d] === len) {
          const arena = this.arena;
          const o = this.offs[d] - s;
          let j = s + 12;
          while (j < e && arena[o + j] === buf[j]) j++;
          if (j === e) return this.strings[d];
        }
      }
      slot = (slot + 1) & mask;
    }
    const id = decode(buf, s, e);
    if (this.size >= this.maxDistinct) return id;
    const d = this.size++;
    if (d >= this.hashes.length) {
      const grown = (a: Int32Array) => {
        const bigger = new Int32Array(2 * a.length);
        bigger.set(a);
        return bigger;
      };
      this.hashes = grown(this.hashes);
      this.lens = grown(this.lens);
      this.offs = grown(this.offs);
    }
    this.hashes[d] = h;
    if (len > 12) {
      if (this.arenaLen + len > this.arena.length) {
        const arena = new Uint8Array(Math.max(this.arena.length * 2, this.arenaLen + len));
        arena.set(this.arena.subarray(0, this.arenaLen));
        this.arena = arena;
      }
      buf.copy(this.arena, this.arenaLen, s, e);
      this.lens[d] = len;
      this.offs[d] = this.arenaLen;
      this.arenaLen += len;
    }
    this.strings.push(id);
    const b = slot << 2;
    slots[b] = (d + 1) | (lenc << 21);
    slots[b + 1] = words[wo];
    slots[b + 2] = words[wo + 1];
    slots[b + 3] = words[wo + 2];
    if (2 * this.size > mask + 1) this.grow();
    return id;
  }

  /**
   * Read the slot where `get` with hash `h` will look first and return its head word
   * (0: empty). Called for a batch of ids before their `get`s (then {@link touchString} on
   * the results), it makes the batch's cache misses overlap (memory-level parallelism)
   * instead of being paid one after another inside each `get`.
   */
  touch(h: number): number {
    return this.slots[((h ^ (h >>> 15)) & this.mask) << 2];
  }

  /** Touch the string that a slot head word from {@link touch} refers to (0: none). */
  touchString(head: number): number {
    return head !== 0 && this.strings[(head & 0x1fffff) - 1] === undefined ? 1 : 0;
  }

  /** Double the table and move every slot (hashes kept aside). */
  private grow(): void {
    const old = this.slots;
    const cap = 2 * (this.mask + 1);
    const slots = new Int32Array(4 * cap);
    const mask = cap - 1;
    for (let b = 0; b < old.length; b += 4) {
      const head = old[b];
      if (head === 0) continue;
      const h = this.hashes[(head & 0x1fffff) - 1];
      let slot = (h ^ (h >>> 15)) & mask;
      while (slots[slot << 2] !== 0) slot = (slot + 1) & mask;
      const t = slot << 2;
      slots[t] = head;
      slots[t + 1] = old[b + 1];
      slots[t + 2] = old[b + 2];
      slots[t + 3] = old[b + 3];
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Pack the first 12 bytes of [s, e) little-endian into `words[wo .. wo + 3)`, zero past the end (the key words of {@link IdInterner}). */
export function packId(buf: Buffer, s: number, e: number, words: Int32Array, wo: number): void {
  words[wo] = words[wo + 1] = words[wo + 2] = 0;
  const inl = e - s < 12 ? e - s : 12;
  for (let j = 0; j < inl; j++) words[wo + (j >> 2)] |= buf[s + j] << ((j & 3) << 3);
}

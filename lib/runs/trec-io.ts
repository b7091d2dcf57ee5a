/**
 * TREC run and qrels files, the formats trec_eval and ranx read:
 *
 * - run:   `qid Q0 docno rank score tag` (one line per retrieved document);
 * - qrels: `qid iter docno rel` (`iter` is ignored, written as `0`).
 *
 * Fields are separated by any run of spaces or tabs; `\r\n` line ends and blank lines are
 * accepted. Ids must not contain whitespace.
 *
 * Hand-written rather than a CSV library: the readers must parse a 100,000-query x 100-doc
 * run (10 M lines, ~300 MB) in a few seconds, so they read the file in large chunks, split
 * the bytes themselves (no per-line regex, no per-line string for the line itself), reuse
 * the query id string while it repeats, keep a small cache of document ids (see `IdCache`),
 * and parse scores with an exact fast path. Writers
 * stream to a temporary file beside the target and rename it at the end (atomic, like
 * `writeFileAtomic`, without holding a 300 MB string in memory).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { dirname } from 'node:path';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { xlError } from '../util/errors.js';
import type { Exclusions } from './types.js';
import type { Qrels } from './types.js';
import type { Ranking, Run } from './types.js';

/** Options of {@link writeRun}. */
export interface WriteRunOptions {
  /** Run tag (last column), e.g. the retriever name. Required; no whitespace. */
  tag: string;
  /** Documents to leave out per query (default: none). */
  exclude?: Exclusions;
  /**
   * Judgments used only to order ties the way the metrics do (non-relevant before relevant,
   * see `lib/runs/ranking.ts`); without them ties are ordered by doc id. Default: none.
   */
  qrels?: Qrels;
  /** Significant digits of the scores (default 9: round-trips any float32). */
  digits?: number;
}

const WRITE_CHUNK = 1 << 22; // 4 MiB

/** Options of {@link readRun} and {@link readQrels}. */
export interface ReadOptions {
  /** Bytes read per `readSync` (default 16 MiB); grows by itself for longer lines. */
  chunkSize?: number;
}

function readChunk(where: string, options: ReadOptions): number {
  const c = options.chunkSize ?? 1 << 24;
  if (!(Number.isInteger(c) && c >= 1)) throw xlError(where, `options.chunkSize = ${c}; use an integer >= 1`);
  return c;
}

/** What a writer put on disk: for completeness checks of resumable files. */
export interface WrittenFile {
  path: string;
  /** Bytes on disk (compressed bytes for `.gz`). */
  bytes: number;
  /** sha256 (hex) of the bytes on disk. */
  sha256: string;
  /** Lines written (uncompressed). */
  lines: number;
}

/** Whether a path names a gzip-compressed TREC file (`.gz`): written and read transparently. */
export function isGzipPath(path: string): boolean {
  return path.endsWith('.gz');
}

/**
 * A file written through a temporary file, renamed over the target on `commit()`. A `.gz`
 * path is gzip-compressed (level 4; one gzip member per 4 MiB block, which gunzip, zcat and
 * readRun read as one stream). The bytes on disk are hashed as they are written. Lines are
 * encoded straight into a reused 4 MiB buffer (no array of pending strings: with a large run
 * in the heap, keeping millions of short strings alive until a flush made the writer mostly
 * garbage-collector time).
 */
class AtomicWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(WRITE_CHUNK);
  private pos = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly gzip: boolean;
  private bytes = 0;
  lines = 0;
  constructor(readonly path: string) {
    this.gzip = isGzipPath(path);
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    this.fd = openSync(this.tmp, 'w');
  }
  write(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (this.pos + 3 * s.length > this.buf.length) {
      this.flush();
      if (3 * s.length > this.buf.length) {
        // longer than the buffer: encode alone (hashed and compressed like the rest)
        const b = Buffer.from(s, 'utf8');
        for (let o = 0; o < b.length; o += this.buf.length) {
          const part = b.subarray(o, o + this.buf.length);
          part.copy(this.buf, 0);
          this.pos = part.length;
          this.flush();
        }
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  private flush(): void {
    if (this.pos === 0) return;
    const data = this.gzip ? gzipSync(this.buf.subarray(0, this.pos), { level: 4, strategy: zlibConstants.Z_DEFAULT_STRATEGY }) : this.buf.subarray(0, this.pos);
    this.hash.update(data);
    this.bytes += data.length;
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
    this.pos = 0;
  }
  commit(): WrittenFile {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
    return { path: this.path, bytes: this.bytes, sha256: this.hash.digest('hex'), lines: this.lines };
  }
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      /* never created */
    }
  }
}

function hasSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) return true;
  }
  return s.length === 0;
}

/**
 * Write a run in TREC format, each query's documents ranked by score descending, ties by
 * the metrics' policy (non-relevant first when `qrels` is given, then doc id ascending);
 * ranks start at 1. Queries appear in the run's key order.
 *
 * Scores are printed with `digits` significant digits (`toPrecision`), so float32 scores
 * read back bit-exactly (float64 scores are rounded to 9 digits).
 *
 * A path ending in `.gz` is written gzip-compressed ({@link readRun} reads it back
 * transparently; `zcat f.run.gz | trec_eval ...` for other tools). Returns the bytes and
 * sha256 on disk and the line count (for completeness checks of resumed runs).
 *
 * @throws XlalignError when the tag or an id is empty or has whitespace, a ranking's ids and
 *   scores differ in length, or a score is NaN.
 * @example
 * writeRun('runs/bm25.de.trec', run, { tag: 'bm25', exclude: pool.exclude });
 */
export function writeRun(path: string, run: Run, options: WriteRunOptions): WrittenFile {
  const where = 'writeRun';
  const { tag, exclude, qrels } = options;
  const digits = options.digits ?? 9;
  if (typeof tag !== 'string' || hasSpace(tag)) throw xlError(where, `${path}: tag '${tag}' must be non-empty without whitespace`);
  if (!(Number.isInteger(digits) && digits >= 1 && digits <= 17)) throw xlError(where, `digits = ${digits}; use an integer in 1..17`);
  const out = new AtomicWriter(path);
  try {
    for (const qid in run) {
      if (hasSpace(qid)) throw xlError(where, `${path}: query id '${qid}' must be non-empty without whitespace`);
      const ranking: Ranking = run[qid];
      const { ids, scores } = ranking;
      if (ids.length !== scores.length) {
        throw xlError(where, `${path}: run['${qid}'] has ${ids.length} ids but ${scores.length} scores`);
      }
      const skip = exclude?.[qid]?.length ? new Set(exclude[qid]) : undefined;
      const judged = qrels?.[qid];
      const order: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (Number.isNaN(scores[i])) throw xlError(where, `${path}: run['${qid}'].scores[${i}] (doc '${ids[i]}') is NaN`);
        if (hasSpace(ids[i])) throw xlError(where, `${path}: run['${qid}'].ids[${i}] = '${ids[i]}' must be non-empty without whitespace`);
        if (!skip || !skip.has(ids[i])) order.push(i);
      }
      const rel = (i: number) => {
        const r = judged?.[ids[i]];
        return r !== undefined && r > 0 ? r : 0;
      };
      // Retriever output is usually already strictly descending: then the order is final.
      let sorted = true;
      for (let r = 1; r < order.length && sorted; r++) sorted = scores[order[r - 1]] > scores[order[r]];
      if (!sorted) order.sort((a, b) => {
        const d = scores[b] - scores[a];
        if (d !== 0) return d;
        if (judged) {
          const dr = rel(a) - rel(b);
          if (dr !== 0) return dr;
        }
        return ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0;
      });
      const tail = ` ${tag}\n`;
      const head = `${qid} Q0 `;
      for (let r = 0; r < order.length; r++) {
        const i = order[r];
        out.write(`${head}${ids[i]} ${r + 1} ${scores[i].toPrecision(digits)}${tail}`);
      }
      out.lines += order.length;
    }
    return out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

/**
 * Write qrels in TREC format (`qid 0 docno rel`), in the qrels' key order.
 * A `.gz` path is written gzip-compressed.
 * @throws XlalignError when an id is empty or has whitespace or a relevance is not an integer.
 * @example writeQrels('runs/xquad.de.qrels', pool.qrels);
 */
export function writeQrels(path: string, qrels: Qrels): WrittenFile {
  const where = 'writeQrels';
  const out = new AtomicWriter(path);
  try {
    for (const qid in qrels) {
      if (hasSpace(qid)) throw xlError(where, `${path}: query id '${qid}' must be non-empty without whitespace`);
      const row = qrels[qid];
      for (const doc in row) {
        if (hasSpace(doc)) throw xlError(where, `${path}: qrels['${qid}'] doc id '${doc}' must be non-empty without whitespace`);
        const rel = row[doc];
        if (!Number.isInteger(rel)) throw xlError(where, `${path}: qrels['${qid}']['${doc}'] = ${rel}; relevance must be an integer`);
        out.write(`${qid} 0 ${doc} ${rel}\n`);
        out.lines++;
      }
    }
    return out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
// Reading

/**
 * Call `onLine(buf, starts, ends, nFields, lineNo)` for every non-blank line of `path`, with
 * the byte ranges of up to `maxFields` whitespace-separated fields (`nFields` counts all of
 * them). Reads the file in 16 MiB chunks with `readSync`; a line that straddles two chunks
 * is moved to the front of the buffer.
 */
function scanFields(
  where: string,
  path: string,
  chunkSize: number,
  maxFields: number,
  onLine: (buf: Buffer, starts: Int32Array, ends: Int32Array, nFields: number, lineNo: number) => void,
): void {
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
    scanLines(data, limit, maxFields, new Int32Array(maxFields), new Int32Array(maxFields), 0, onLine);
    return;
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
    const starts = new Int32Array(maxFields);
    const ends = new Int32Array(maxFields);
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
      lineNo = scanLines(buf, limit, maxFields, starts, ends, lineNo, onLine);
      // Move the partial last line to the front.
      if (limit < end) buf.copy(buf, 0, limit, end);
      filled = end > limit ? end - limit : 0;
    }
  } finally {
    closeSync(fd);
  }
}

/** The field split of {@link scanFields} over `buf[0 .. limit)` (every line there ends with '\n'); returns the last line number. */
function scanLines(
  buf: Buffer,
  limit: number,
  maxFields: number,
  starts: Int32Array,
  ends: Int32Array,
  lineNo: number,
  onLine: (buf: Buffer, starts: Int32Array, ends: Int32Array, nFields: number, lineNo: number) => void,
): number {
  let i = 0;
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
function parseNumber(buf: Buffer, s: number, e: number): number {
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

/** Decode bytes [s, e) as a string: latin1 when all bytes are ASCII (fast), else UTF-8. */
function decode(buf: Buffer, s: number, e: number): string {
  for (let i = s; i < e; i++) if (buf[i] >= 128) return buf.toString('utf8', s, e);
  return buf.toString('latin1', s, e);
}

/**
 * A small direct-mapped cache of ids read from bytes. A run repeats document ids across
 * queries, and for the pools of this project (hundreds to thousands of documents) almost
 * every docno is a cache hit, so no string is allocated per line. The 32-bit FNV-1a hash of
 * the bytes picks one of 8192 slots; a hit is confirmed byte by byte; a miss decodes and
 * replaces the slot. Measured on a 10 M-line run over a 200,000-document pool (random
 * access, ~2% hits), a full hash table of all ids was slower than decoding every line
 * (cache misses on a multi-MB table), while this cache costs only the hash; hence a small
 * cache rather than full interning. Non-ASCII ids are always decoded (UTF-8).
 */
class IdCache {
  private static readonly SIZE = 8192;
  private readonly hashes = new Int32Array(IdCache.SIZE);
  private readonly strings: string[] = new Array<string>(IdCache.SIZE).fill('');
  get(buf: Buffer, s: number, e: number): string {
    let h = 0x811c9dc5 | 0;
    for (let i = s; i < e; i++) {
      const c = buf[i];
      if (c >= 128) return buf.toString('utf8', s, e);
      h = Math.imul(h ^ c, 0x01000193);
    }
    const slot = (h ^ (h >>> 13)) & (IdCache.SIZE - 1);
    const len = e - s;
    if (this.hashes[slot] === h) {
      const str = this.strings[slot];
      if (str.length === len) {
        let i = 0;
        while (i < len && str.charCodeAt(i) === buf[s + i]) i++;
        if (i === len) return str;
      }
    }
    const id = buf.toString('latin1', s, e);
    this.hashes[slot] = h;
    this.strings[slot] = id;
    return id;
  }
}

/** True when bytes [s, e) of `buf` equal bytes [ps, pe) of `prev`. */
function sameBytes(buf: Buffer, s: number, e: number, prev: Buffer, plen: number): boolean {
  if (e - s !== plen) return false;
  for (let i = 0; i < plen; i++) if (buf[s + i] !== prev[i]) return false;
  return true;
}

/**
 * Read a TREC run file into a {@link Run}: per query, ids and scores (a Float64Array) in
 * file order. The `rank` column is checked to be an integer but otherwise ignored (metrics
 * rank by score, as trec_eval does); `Q0` and `tag` are ignored. Lines of one query need not
 * be contiguous. A query with an empty ranking has no lines, so it reads back absent.
 *
 * @param options - `chunkSize`: bytes per read (default 16 MiB).
 * @throws XlalignError naming the file and line for a line without exactly 6 fields, a rank
 *   that is not an integer or a score that is not a number; or when the file cannot be opened.
 * @example
 * const run = readRun('runs/bm25.de.trec');
 * run['de-q1'].ids[0]; // top document as written
 */
export function readRun(path: string, options: ReadOptions = {}): Run {
  const where = 'readRun';
  const run: Run = {};
  let qid = '';
  const prevQ = Buffer.alloc(1024);
  let prevLen = -1;
  let ids: string[] = [];
  let scores = new Float64Array(1024);
  let n = 0;
  const docIds = new IdCache();
  const flush = () => {
    if (prevLen < 0) return;
    const s = scores.slice(0, n);
    const old = run[qid];
    if (old) {
      const merged = new Float64Array(old.scores.length + n);
      merged.set(old.scores as Float64Array);
      merged.set(s, old.scores.length);
      run[qid] = { ids: old.ids.concat(ids), scores: merged };
    } else {
      run[qid] = { ids, scores: s };
    }
  };
  scanFields(where, path, readChunk(where, options), 6, (buf, st, en, nf, line) => {
    if (nf !== 6) {
      throw xlError(where, `${path}:${line}: expected 6 fields 'qid Q0 docno rank score tag', found ${nf}`);
    }
    const qlen = en[0] - st[0];
    if (prevLen < 0 || !sameBytes(buf, st[0], en[0], prevQ, prevLen)) {
      flush();
      qid = decode(buf, st[0], en[0]);
      if (qlen <= prevQ.length) {
        buf.copy(prevQ, 0, st[0], en[0]);
        prevLen = qlen;
      } else {
        prevLen = 0; // too long to cache: never equal (qlen > 0), decoded each line
      }
      ids = [];
      n = 0;
    }
    const rank = parseNumber(buf, st[3], en[3]);
    if (!Number.isInteger(rank)) {
      throw xlError(where, `${path}:${line}: rank '${buf.toString('utf8', st[3], en[3])}' is not an integer`);
    }
    const score = parseNumber(buf, st[4], en[4]);
    if (Number.isNaN(score)) {
      throw xlError(where, `${path}:${line}: score '${buf.toString('utf8', st[4], en[4])}' is not a number`);
    }
    if (n === scores.length) {
      const bigger = new Float64Array(scores.length * 2);
      bigger.set(scores);
      scores = bigger;
    }
    scores[n++] = score;
    ids.push(docIds.get(buf, st[2], en[2]));
  });
  flush();
  return run;
}

/**
 * Read a TREC qrels file (`qid iter docno rel`) into {@link Qrels}. Relevance must be an
 * integer (0 and negative values are kept; metrics treat them as non-relevant).
 *
 * @param options - `chunkSize`: bytes per read (default 16 MiB).
 * @throws XlalignError naming the file and line for a line without exactly 4 fields, a
 *   non-integer relevance, or a (qid, docno) pair judged twice.
 * @example const qrels = readQrels('runs/xquad.de.qrels');
 */
export function readQrels(path: string, options: ReadOptions = {}): Qrels {
  const where = 'readQrels';
  const qrels: Qrels = {};
  let qid = '';
  let row: Record<string, number> = {};
  const prevQ = Buffer.alloc(1024);
  let prevLen = -1;
  const docIds = new IdCache();
  scanFields(where, path, readChunk(where, options), 4, (buf, st, en, nf, line) => {
    if (nf !== 4) throw xlError(where, `${path}:${line}: expected 4 fields 'qid iter docno rel', found ${nf}`);
    if (prevLen < 0 || !sameBytes(buf, st[0], en[0], prevQ, prevLen)) {
      qid = decode(buf, st[0], en[0]);
      const qlen = en[0] - st[0];
      if (qlen <= prevQ.length) {
        buf.copy(prevQ, 0, st[0], en[0]);
        prevLen = qlen;
      } else prevLen = 0;
      row = qrels[qid] ??= {};
    }
    const rel = parseNumber(buf, st[3], en[3]);
    if (!Number.isInteger(rel)) {
      throw xlError(where, `${path}:${line}: relevance '${buf.toString('utf8', st[3], en[3])}' is not an integer`);
    }
    const doc = docIds.get(buf, st[2], en[2]);
    if (Object.hasOwn(row, doc)) throw xlError(where, `${path}:${line}: query '${qid}' judges doc '${doc}' a second time; each pair once`);
    row[doc] = rel;
  });
  return qrels;
}

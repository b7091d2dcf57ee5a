/**
 * One byte range of a TREC run file parsed into compact arrays, for the parallel reader of
 * `readRun` (each worker thread parses one range; the main thread only assembles). Document
 * ids are interned per range in an open-addressing table keyed by their bytes, so a range
 * returns each distinct id once (as bytes) plus one index per line: the main thread creates
 * one string per distinct id instead of one per line. Scores and ranks are parsed by the
 * same `parseNumber` as the single-threaded path, so the numbers are identical.
 */
import { parseNumber, decode, scanFields } from './trec-scan.js';

/** What one range yields (typed arrays are transferable). */
export interface ParsedRange {
  /** Lines in the range (blank ones included), for global line numbers. */
  lines: number;
  /** Per segment (consecutive lines of one query): the query id. */
  qids: string[];
  /** Per segment: number of lines (entries). */
  segCount: Int32Array;
  /** Per entry: index of its document id among the distinct ids. */
  docIdx: Int32Array;
  /** Per entry: score. */
  scores: Float64Array;
  /** Distinct document ids, as bytes: `arena[offs[d] .. offs[d] + lens[d])`. */
  arena: Uint8Array;
  offs: Int32Array;
  lens: Int32Array;
  /** First bad line: its line number within the range and the message (after `path:line: `). */
  error?: { line: number; message: string };
}

class Abort extends Error {}


/**
 * Byte strings interned in an open-addressing table (linear probing, load <= 1/2). Each
 * slot holds [hash, index + 1] side by side, so a probe touches one cache line; the
 * distinct ids' bytes are appended to one arena.
 */
class Interner {
  private slots = new Int32Array(1 << 16); // pairs: hash, index + 1
  private mask = (1 << 15) - 1; // slot count - 1
  offs = new Int32Array(1 << 14);
  lens = new Int32Array(1 << 14);
  arena = new Uint8Array(1 << 20);
  arenaLen = 0;
  size = 0;

  /**
   * Intern `n` byte strings `raw[off[j] .. off[j+1])` with precomputed hashes into `out[j]`,
   * in batches of 32: the table slots of a batch are touched first, in an independent loop,
   * so their cache misses overlap (memory-level parallelism) instead of being paid one
   * after another; then each is probed for real.
   */
  internAll(raw: Uint8Array, off: Int32Array, hashes: Int32Array, n: number, out: Int32Array): void {
    const B = 32;
    let sink = 0;
    for (let b = 0; b < n; b += B) {
      const end = Math.min(n, b + B);
      const slots = this.slots;
      const mask = this.mask;
      for (let j = b; j < end; j++) sink ^= slots[2 * (hashes[j] & mask) + 1];
      for (let j = b; j < end; j++) {
        const v = slots[2 * (hashes[j] & mask) + 1];
        if (v !== 0) sink ^= this.arena[this.offs[v - 1]];
      }
      for (let j = b; j < end; j++) out[j] = this.intern(raw as Buffer, off[j], off[j + 1], hashes[j]);
    }
    this.sink = sink;
  }

  /** Keeps the prefetch loads of {@link internAll} from being optimised away. */
  sink = 0;

  /** Index of bytes [s, e) of `buf` (hash `h` from {@link hashBytes}), added when new. */
  intern(buf: Buffer, s: number, e: number, h: number): number {
    const len = e - s;
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      const v = slots[2 * i + 1];
      if (v === 0) break;
      if (slots[2 * i] === h) {
        const d = v - 1;
        if (this.lens[d] === len) {
          const o = this.offs[d];
          const arena = this.arena;
          let k = 0;
          while (k < len && arena[o + k] === buf[s + k]) k++;
          if (k === len) return d;
        }
      }
      i = (i + 1) & mask;
    }
    return this.add(buf, s, e, h, i);
  }

  private add(buf: Buffer, s: number, e: number, h: number, slot: number): number {
    const len = e - s;
    const d = this.size++;
    if (d === this.offs.length) {
      const offs = new Int32Array(d * 2);
      offs.set(this.offs);
      this.offs = offs;
      const lens = new Int32Array(d * 2);
      lens.set(this.lens);
      this.lens = lens;
    }
    if (this.arenaLen + len > this.arena.length) {
      const b = new Uint8Array(Math.max(this.arena.length * 2, this.arenaLen + len));
      b.set(this.arena.subarray(0, this.arenaLen));
      this.arena = b;
    }
    buf.copy(this.arena, this.arenaLen, s, e);
    this.offs[d] = this.arenaLen;
    this.lens[d] = len;
    this.arenaLen += len;
    this.slots[2 * slot] = h;
    this.slots[2 * slot + 1] = d + 1;
    if (2 * this.size > this.mask + 1) this.grow();
    return d;
  }

  private grow(): void {
    const old = this.slots;
    const n = (this.mask + 1) * 2;
    this.slots = new Int32Array(2 * n);
    this.mask = n - 1;
    for (let j = 0; j < old.length; j += 2) {
      if (old[j + 1] === 0) continue;
      let i = old[j] & this.mask;
      while (this.slots[2 * i + 1] !== 0) i = (i + 1) & this.mask;
      this.slots[2 * i] = old[j];
      this.slots[2 * i + 1] = old[j + 1];
    }
  }
}

/**
 * Parse run lines in bytes [start, end) of `path` (both at line starts).
 * @example const part = parseRunRange('big.run', 0, 1 << 26, 1 << 24);
 */
export function parseRunRange(path: string, start: number, end: number, chunkSize: number): ParsedRange {
  let scores = new Float64Array(1 << 16);
  let n = 0;
  const qids: string[] = [];
  let segCount = new Int32Array(1 << 10);
  let nSeg = 0;
  let prevQ = Buffer.alloc(1024);
  let prevLen = -1;
  let error: ParsedRange['error'];

  const ids = new Interner();
  // document id bytes of every entry, appended in file order; interned after the scan
  let raw = Buffer.allocUnsafe(1 << 20);
  let rawLen = 0;
  let rawOff = new Int32Array((1 << 16) + 1);
  let rawHash = new Int32Array(1 << 16);

  let lines = 0;
  try {
    lines = scanFields('readRun', path, chunkSize, 6, (buf, st, en, nf, line) => {
      if (nf !== 6) {
        error = { line, message: `expected 6 fields 'qid Q0 docno rank score tag', found ${nf}` };
        throw new Abort();
      }
      // a new segment when the query id bytes differ from the previous line's
      const qs = st[0];
      const qe = en[0];
      let same = qe - qs === prevLen;
      if (same) for (let k = 0; k < prevLen && same; k++) same = buf[qs + k] === prevQ[k];
      if (!same) {
        if (qe - qs > prevQ.length) prevQ = Buffer.alloc(2 * (qe - qs));
        buf.copy(prevQ, 0, qs, qe);
        prevLen = qe - qs;
        if (nSeg === segCount.length) {
          const b = new Int32Array(nSeg * 2);
          b.set(segCount);
          segCount = b;
        }
        qids.push(decode(buf, qs, qe));
        segCount[nSeg++] = 0;
      }
      const rank = parseNumber(buf, st[3], en[3]);
      if (!Number.isInteger(rank)) {
        error = { line, message: `rank '${buf.toString('utf8', st[3], en[3])}' is not an integer` };
        throw new Abort();
      }
      const score = parseNumber(buf, st[4], en[4]);
      if (Number.isNaN(score)) {
        error = { line, message: `score '${buf.toString('utf8', st[4], en[4])}' is not a number` };
        throw new Abort();
      }
      if (n === scores.length) {
        const s2 = new Float64Array(n * 2);
        s2.set(scores);
        scores = s2;
        const h2 = new Int32Array(n * 2);
        h2.set(rawHash);
        rawHash = h2;
        const o2 = new Int32Array(n * 2 + 1);
        o2.set(rawOff);
        rawOff = o2;
      }
      scores[n] = score;
      const ds = st[2];
      const de = en[2];
      if (rawLen + (de - ds) > raw.length) {
        const r2 = Buffer.allocUnsafe(Math.max(raw.length * 2, rawLen + de - ds));
        raw.copy(r2, 0, 0, rawLen);
        raw = r2;
      }
      // copy and hash in one loop (Buffer.copy costs more than the copy for ~10 bytes)
      let h = 0x811c9dc5 | 0;
      for (let k = ds; k < de; k++) {
        const c = buf[k];
        raw[rawLen++] = c;
        h = Math.imul(h ^ c, 0x01000193);
      }
      h ^= h >>> 16;
      h = Math.imul(h, 0x7feb352d);
      rawHash[n] = h ^ (h >>> 15);
      rawOff[n + 1] = rawLen;
      n++;
      segCount[nSeg - 1]++;
    }, { start, end });
  } catch (e) {
    if (!(e instanceof Abort)) throw e;
  }
  const docIdx = new Int32Array(n);
  ids.internAll(raw, rawOff, rawHash, n, docIdx);
  return {
    lines,
    qids,
    segCount: segCount.slice(0, nSeg),
    docIdx,
    scores: scores.slice(0, n),
    arena: ids.arena.slice(0, ids.arenaLen),
    offs: ids.offs.slice(0, ids.size),
    lens: ids.lens.slice(0, ids.size),
    error,
  };
}

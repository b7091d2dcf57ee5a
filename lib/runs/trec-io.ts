/**
 * TREC run and qrels files, the formats trec_eval and ranx read:
 *
 * - run:   `qid Q0 docno rank score tag` (one line per retrieved document);
 * - qrels: `qid iter docno rel` (`iter` is ignored, written as `0`);
 * - raw scores (written by {@link writeRun} beside a run, {@link rawScoresPath}):
 *   `docno score`, one line per run line, in the run's line order (`paste -d ' ' x.run
 *   x.run.scores` puts them side by side).
 *
 * Fields are separated by any run of spaces or tabs; `\r\n` line ends and blank lines are
 * accepted. Ids must not contain whitespace.
 *
 * Why a run file's score column is not the retriever's score: trec_eval (and every tool that
 * re-sorts by score) orders tied scores by document id, xlalign's metrics pessimistically
 * (`lib/runs/ranking.ts`). So the score column {@link writeRun} prints encodes the evaluated
 * order itself (strictly decreasing: n, n-1, ..., 1 for a query's n lines), and trec_eval
 * on the exported run and qrels reproduces `metrics.json`, ties included; the retriever's raw
 * scores go to the `.scores` file beside it, which {@link readRun} reads back.
 *
 * Hand-written rather than a CSV library: the reader must parse a 100,000-query x 100-doc
 * run (10 M lines, ~300 MB) in a few seconds, so it reads the file in large chunks, splits
 * the bytes itself (no per-line regex, no per-line string for the line itself), reuses the
 * query id string while it repeats, interns document ids by their bytes (see `IdInterner`:
 * one string per distinct id), and parses scores with an exact fast path (the tests check it
 * against a plain per-line parser, test/helpers/trec-reference.ts). Writers stream to a
 * temporary file beside the target and rename it at the end (atomic, like
 * `writeFileAtomic`, without holding a 300 MB string in memory).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { dirname } from 'node:path';
import { constants as zlibConstants, gzipSync } from 'node:zlib';
import { decode, IdInterner, isGzipPath, packId, parseNumber, sameBytes, scanBlocks, scanFields, scanLines } from './trec-scan.js';
import { xlError } from '../util/errors.js';
import type { Exclusions } from './types.js';
import type { Qrels } from './types.js';
import type { Ranking, Run } from './types.js';
import { rankOrder } from './ranking.js';

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
  /** Significant digits of the raw scores in the `.scores` file (default 9: round-trips any float32). */
  digits?: number;
}

const WRITE_CHUNK = 1 << 22; // 4 MiB

/** Options of {@link readRun} and {@link readQrels}. */
export interface ReadOptions {
  /** Bytes read per `readSync` (default 16 MiB); grows by itself for longer lines. */
  chunkSize?: number;
  /**
   * readRun: take the scores from the raw-scores file beside the run ({@link rawScoresPath})
   * when there is one (default true). `false`: the run file's own score column, the one
   * trec_eval reads (what `xlalign score` scores).
   */
  rawScores?: boolean;
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

/** What {@link writeRun} put on disk: the run file, and the raw-scores file beside it. */
export interface WrittenRun extends WrittenFile {
  rawScores: WrittenFile;
}

/**
 * The raw-scores file of a run file: `x.run` -> `x.run.scores`, `x.run.gz` -> `x.run.scores.gz`.
 * @example rawScoresPath('runs/bm25/mixed.de.run') // 'runs/bm25/mixed.de.run.scores'
 */
export function rawScoresPath(runPath: string): string {
  return isGzipPath(runPath) ? `${runPath.slice(0, -3)}.scores.gz` : `${runPath}.scores`;
}

export { isGzipPath };

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
 * Write a run in TREC format, each query's documents in the metrics' order: by score
 * descending, ties by the metrics' policy (non-relevant first when `qrels` is given, then doc
 * id ascending; `lib/runs/ranking.ts`); ranks start at 1. Queries appear in the run's key
 * order.
 *
 * The score column encodes that order: a query's n lines get n, n-1, ..., 1, so a tool that
 * re-sorts by score (trec_eval: ties by document id) sees exactly the order the metrics
 * scored, and trec_eval on the file and the qrels gives `evaluate`'s numbers, ties included.
 * The retriever's raw scores go to the raw-scores file beside it ({@link rawScoresPath}:
 * `docno score` a line, in the run's line order, `digits` significant digits, so float32
 * scores read back bit-exactly; the docno lets a reader check that the two files belong
 * together); {@link readRun} reads them back.
 *
 * A path ending in `.gz` is written gzip-compressed, and its raw scores too ({@link readRun}
 * reads both transparently; `zcat f.run.gz | trec_eval ...` for other tools). Returns the
 * bytes, sha256 and line count of the run file and of the raw-scores file (for completeness
 * checks of resumed runs).
 *
 * @throws XlalignError when the tag or an id is empty or has whitespace, a ranking's ids and
 *   scores differ in length, or a score is NaN.
 * @example
 * writeRun('runs/bm25.de.trec', run, { tag: 'bm25', exclude: pool.exclude, qrels: pool.qrels });
 */
export function writeRun(path: string, run: Run, options: WriteRunOptions): WrittenRun {
  const where = 'writeRun';
  const { tag, exclude, qrels } = options;
  const digits = options.digits ?? 9;
  if (typeof tag !== 'string' || hasSpace(tag)) throw xlError(where, `${path}: tag '${tag}' must be non-empty without whitespace`);
  if (!(Number.isInteger(digits) && digits >= 1 && digits <= 17)) throw xlError(where, `digits = ${digits}; use an integer in 1..17`);
  const out = new AtomicWriter(path);
  const raw = new AtomicWriter(rawScoresPath(path));
  try {
    for (const qid in run) {
      if (hasSpace(qid)) throw xlError(where, `${path}: query id '${qid}' must be non-empty without whitespace`);
      const ranking: Ranking = run[qid];
      const { ids, scores } = ranking;
      if (ids.length !== scores.length) {
        throw xlError(where, `${path}: run['${qid}'] has ${ids.length} ids but ${scores.length} scores`);
      }
      const skip = exclude?.[qid]?.length ? new Set(exclude[qid]) : undefined;
      const kept: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (Number.isNaN(scores[i])) throw xlError(where, `${path}: run['${qid}'].scores[${i}] (doc '${ids[i]}') is NaN`);
        if (hasSpace(ids[i])) throw xlError(where, `${path}: run['${qid}'].ids[${i}] = '${ids[i]}' must be non-empty without whitespace`);
        if (!skip || !skip.has(ids[i])) kept.push(i);
      }
      // the one tie order (lib/runs/ranking.ts), so the file lists documents as the metrics rank them
      const sub = kept.length === ids.length ? ranking : { ids: kept.map((i) => ids[i]), scores: kept.map((i) => scores[i]) };
      const order = Array.from(rankOrder(qid, sub, qrels?.[qid]), (r) => kept[r]);
      const tail = ` ${tag}\n`;
      const head = `${qid} Q0 `;
      const n = order.length;
      for (let r = 0; r < n; r++) {
        const i = order[r];
        out.write(`${head}${ids[i]} ${r + 1} ${n - r}${tail}`);
        raw.write(`${ids[i]} ${scores[i].toPrecision(digits)}\n`);
      }
      out.lines += n;
      raw.lines += n;
    }
    // the raw scores first: a run file on disk always has its raw scores beside it
    const rawScores = raw.commit();
    return { ...out.commit(), rawScores };
  } catch (e) {
    out.abort();
    raw.abort();
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
// Reading (the byte-level scanner and number parser live in trec-scan.ts)

/**
 * Read a TREC run file into a {@link Run}: per query, ids and scores (a Float64Array) in
 * file order. The `rank` column is checked to be an integer but otherwise ignored (metrics
 * rank by score, as trec_eval does); `Q0` and `tag` are ignored. Lines of one query need not
 * be contiguous. A query with an empty ranking has no lines, so it reads back absent.
 *
 * Scores: the raw scores of the raw-scores file beside the run ({@link rawScoresPath}, as
 * {@link writeRun} writes it) when there is one and `options.rawScores` is not false; each of
 * its lines must name the document of the run's line at the same place. Else the run file's
 * score column.
 *
 * @param options - `chunkSize`: bytes per read (default 16 MiB); `rawScores` (default true).
 * @throws XlalignError naming the file and line for a line without exactly 6 fields, a rank
 *   that is not an integer or a score that is not a number, a raw-scores line that does not
 *   match the run's; or when the file cannot be opened.
 * @example
 * const run = readRun('runs/bm25.de.trec');
 * run['de-q1'].ids[0]; // top document as written
 */
export function readRun(path: string, options: ReadOptions = {}): Run {
  const chunkSize = readChunk('readRun', options);
  const run: Run = {};
  const b = new RunBuilder(run, path, new IdInterner());
  const starts = new Int32Array(6);
  const ends = new Int32Array(6);
  scanBlocks('readRun', path, chunkSize, (buf, limit, lineNo) => runBlock(b, buf, limit, lineNo, starts, ends));
  b.flush();
  const rawPath = rawScoresPath(path);
  if (options.rawScores !== false && existsSync(rawPath)) readRawScores(run, path, rawPath, chunkSize);
  return run;
}

/**
 * Replace the scores of `run` (just read from `runPath`, so every `scores` is a writable
 * Float64Array) by those of its raw-scores file: line i there names the document of line i of
 * the run (blank lines aside) and gives its raw score. The run's lines are walked in the
 * order `writeRun` wrote them (the queries in key order, each query's lines together); a run
 * file in another order, or of another run, fails the docno check.
 */
function readRawScores(run: Run, runPath: string, rawPath: string, chunkSize: number): void {
  const where = 'readRun';
  const qids = Object.keys(run);
  let qi = 0;
  let at = 0;
  const mismatch = `the raw scores belong to another run file (or ${runPath} was changed after writeRun)`;
  scanFields(where, rawPath, chunkSize, 2, (buf, st, en, nf, line) => {
    if (nf !== 2) throw xlError(where, `${rawPath}:${line}: expected 2 fields 'docno score', found ${nf}`);
    while (qi < qids.length && at === run[qids[qi]].ids.length) {
      qi++;
      at = 0;
    }
    if (qi === qids.length) throw xlError(where, `${rawPath}:${line}: more lines than ${runPath}; ${mismatch}`);
    const { ids, scores } = run[qids[qi]];
    if (!bytesEqual(buf, st[0], en[0], ids[at])) {
      throw xlError(where, `${rawPath}:${line}: doc '${buf.toString('utf8', st[0], en[0])}' where ${runPath} has '${qids[qi]} ${ids[at]}'; ${mismatch}`);
    }
    const score = parseNumber(buf, st[1], en[1]);
    if (Number.isNaN(score)) throw xlError(where, `${rawPath}:${line}: score '${buf.toString('utf8', st[1], en[1])}' is not a number`);
    (scores as Float64Array)[at++] = score;
  });
  while (qi < qids.length && at === run[qids[qi]].ids.length) {
    qi++;
    at = 0;
  }
  if (qi < qids.length) throw xlError(where, `${rawPath}: ends before line ${at + 1} of query '${qids[qi]}' of ${runPath}; ${mismatch}`);
}

/** Whether bytes [s, e) of `buf` spell `str` (ASCII compared in place, other text decoded). */
function bytesEqual(buf: Buffer, s: number, e: number, str: string): boolean {
  if (e - s === str.length) {
    let i = 0;
    while (i < str.length && buf[s + i] === str.charCodeAt(i) && buf[s + i] < 128) i++;
    if (i === str.length) return true;
  }
  return decode(buf, s, e) === str;
}

/** Add one query's lines to the run: a query seen before (its lines not contiguous in the file) is extended, in file order. */
function appendRanking(run: Run, qid: string, ids: string[], scores: Float64Array): void {
  const old = run[qid];
  if (!old) {
    run[qid] = { ids, scores };
    return;
  }
  const merged = new Float64Array(old.scores.length + scores.length);
  merged.set(old.scores as Float64Array);
  merged.set(scores, old.scores.length);
  run[qid] = { ids: old.ids.concat(ids), scores: merged };
}

/**
 * The state of one run parse: the current query (its id, and its bytes to compare the next
 * line's with), its ids and scores so far; `onLine` parses one line the plain way (field
 * count, rank, score checks and their `path:line` errors), for the lines off the fast path
 * of {@link runBlock}. Scores are written into a shared arena (64 Ki scores per chunk) and
 * each query's scores are a view of it, and ids go into a reused array copied once per query
 * (fewer allocations for the garbage collector than one growing array per query).
 */
class RunBuilder {
  qid = '';
  readonly prevQ = Buffer.alloc(1024);
  prevLen = -1;
  ids: string[] = [];
  scores = new Float64Array(1024);
  n = 0;
  /** The current query's first score in `scores`. */
  private start = 0;
  constructor(
    readonly run: Run,
    readonly path: string,
    readonly docIds: IdInterner,
  ) {}

  /** Store the current query's lines in the run (extending it when seen before). */
  flush(): void {
    if (this.prevLen < 0) return;
    const { run, qid, n } = this;
    const s = this.scores.subarray(this.start, this.start + n);
    this.start += n;
    appendRanking(run, qid, this.ids.slice(0, n), s);
  }

  /** Start a query whose id is bytes [s, e) (after storing the previous one). */
  startQuery(buf: Buffer, s: number, e: number): void {
    this.flush();
    this.qid = decode(buf, s, e);
    const qlen = e - s;
    if (qlen <= this.prevQ.length) {
      buf.copy(this.prevQ, 0, s, e);
      this.prevLen = qlen;
    } else {
      this.prevLen = 0; // too long to cache: never equal (qlen > 0), decoded each line
    }
    this.n = 0;
  }

  /** Append one (document, score) to the current query. */
  push(id: string, score: number): void {
    const at = this.start + this.n;
    if (at === this.scores.length) {
      // a new arena chunk; the current query's scores so far move to its front
      const bigger = new Float64Array(Math.max(Math.min(2 * this.scores.length, 1 << 16), 2 * this.n));
      bigger.set(this.scores.subarray(this.start, at));
      this.scores = bigger;
      this.start = 0;
    }
    this.scores[this.start + this.n] = score;
    this.ids[this.n++] = id;
  }

  readonly onLine = (buf: Buffer, st: Int32Array, en: Int32Array, nf: number, line: number): void => {
    const where = 'readRun';
    const { path } = this;
    if (nf !== 6) {
      throw xlError(where, `${path}:${line}: expected 6 fields 'qid Q0 docno rank score tag', found ${nf}`);
    }
    if (this.prevLen < 0 || !sameBytes(buf, st[0], en[0], this.prevQ, this.prevLen)) this.startQuery(buf, st[0], en[0]);
    const rank = parseNumber(buf, st[3], en[3]);
    if (!Number.isInteger(rank)) {
      throw xlError(where, `${path}:${line}: rank '${buf.toString('utf8', st[3], en[3])}' is not an integer`);
    }
    const score = parseNumber(buf, st[4], en[4]);
    if (Number.isNaN(score)) {
      throw xlError(where, `${path}:${line}: score '${buf.toString('utf8', st[4], en[4])}' is not a number`);
    }
    this.push(this.docIds.get(buf, st[2], en[2]), score);
  };
}

/**
 * The hot loop of {@link readRun} over `buf[0 .. limit)` (every line ends with '\n'); returns
 * the last line number.
 *
 * One loop over the bytes of each block of lines (no callback per line): it splits the six
 * fields, compares the qid with the previous line's as it scans it, hashes the docno
 * (FNV-1a) and interns it ({@link IdInterner}; in batches of up to 128 lines of one query,
 * see `drainPending`), so each distinct document id becomes a string once; the rank must be
 * 1-15 plain digits, and a plain decimal score is parsed inline exactly as `parseNumber`'s
 * fast path does (other spellings go through `parseNumber`). Any line off this path (wrong
 * field count, another rank spelling, a score that is not a number, a control byte) is
 * parsed by `RunBuilder.onLine`, which accepts it the same way or throws its `path:line`
 * error (test/runs/trec-fast-parse.test.ts compares readRun with a plain per-line parser).
 */
function runBlock(b: RunBuilder, buf: Buffer, limit: number, lineNo: number, starts: Int32Array, ends: Int32Array): number {
  const docIds = b.docIds;
  const prevQ = b.prevQ;
  // Lines of the current query wait here (docno range, hash, score) and are interned as a
  // batch: first every table slot of the batch is touched, so the cache misses overlap, then
  // each id is looked up (see IdInterner.touch). Drained before the query changes, before a
  // line off the fast path, and at the end of the block (the buffer's bytes move after it).
  const pS = PENDING_S;
  const pE = PENDING_E;
  const pH = PENDING_H;
  const pScore = PENDING_SCORE;
  const pW = PENDING_W;
  const pWB = PENDING_W_BYTES;
  let np = 0;
  let i = 0;
  while (i < limit) {
    lineNo++;
    const lineStart = i;
    let c = buf[i];
    fast: {
      // Fields are bytes > 32; separators are runs of ' ', '\t', '\r'. A control byte
      // inside a field (the reference parser keeps it) or a wrong field count leaves the fast path.
      while (c === 32 || c === 9 || c === 13) c = buf[++i];
      if (c === 10) {
        i++; // blank line
        continue;
      }
      // qid: compared with the previous line's while it is scanned
      const qs = i;
      const pl = b.prevLen;
      let j = 0;
      while (j < pl && c === prevQ[j]) {
        j++;
        c = buf[++i];
      }
      const same = j === pl && c <= 32;
      while (c > 32) c = buf[++i];
      const qe = i;
      if (c !== 32 && c !== 9 && c !== 13) break fast;
      do c = buf[++i];
      while (c === 32 || c === 9 || c === 13);
      if (c <= 32) break fast;
      // Q0 (checked at once when it is 'Q0 ')
      if (c === 81 && buf[i + 1] === 48 && buf[i + 2] === 32) {
        i += 2;
        c = 32;
      } else while (c > 32) c = buf[++i];
      if (c !== 32 && c !== 9 && c !== 13) break fast;
      do c = buf[++i];
      while (c === 32 || c === 9 || c === 13);
      if (c <= 32) break fast;
      // docno, hashed on the way
      const ds = i;
      let h = 0x811c9dc5 | 0; // FNV-1a (trec-scan.ts fnv1a)
      // and its first 12 bytes packed as packId does, through a byte view of the words
      const wo = 3 * np;
      pW[wo] = pW[wo + 1] = pW[wo + 2] = 0;
      const pb = 12 * np;
      while (c > 32) {
        h = Math.imul(h ^ c, 0x01000193);
        if (i - ds < 12) pWB[pb + i - ds] = c;
        c = buf[++i];
      }
      const de = i;
      if (c !== 32 && c !== 9 && c !== 13) break fast;
      do c = buf[++i];
      while (c === 32 || c === 9 || c === 13);
      // rank: 1-15 plain digits (an exact integer); anything else takes the slow path
      const rs = i;
      while (c >= 48 && c <= 57) c = buf[++i];
      if (i === rs || i - rs > 15 || (c !== 32 && c !== 9 && c !== 13)) break fast;
      do c = buf[++i];
      while (c === 32 || c === 9 || c === 13);
      if (c <= 32) break fast;
      // score: [-]digits[.digits] with <= 15 significant digits is parseNumber's exact fast
      // path, done inline; any other spelling goes through parseNumber itself
      const ss = i;
      let neg = false;
      if (c === 45) {
        neg = true;
        c = buf[++i];
      }
      let mant = 0;
      let nd = 0;
      let ex = 0;
      let sawDigit = false;
      while (c >= 48 && c <= 57) {
        if (mant !== 0 || c !== 48) nd++;
        mant = mant * 10 + (c - 48);
        sawDigit = true;
        c = buf[++i];
      }
      if (c === 46) {
        c = buf[++i];
        while (c >= 48 && c <= 57) {
          if (mant !== 0 || c !== 48) nd++;
          mant = mant * 10 + (c - 48);
          ex--;
          sawDigit = true;
          c = buf[++i];
        }
      }
      let score: number;
      if (c > 32 || !sawDigit || nd > 15 || ex < -22) {
        while (c > 32) c = buf[++i];
        score = parseNumber(buf, ss, i);
        if (score !== score) break fast; // NaN: the reference parser throws
      } else {
        const v = mant / POW10[-ex];
        score = neg ? -v : v;
      }
      if (c !== 32 && c !== 9 && c !== 13) break fast;
      do c = buf[++i];
      while (c === 32 || c === 9 || c === 13);
      if (c <= 32) break fast;
      // tag, then the end of the line
      while (c > 32) c = buf[++i];
      while (c === 32 || c === 9 || c === 13) c = buf[++i];
      if (c !== 10) break fast;
      i++; // past '\n'
      if (!same) {
        if (np > 0) {
          drainPending(b, docIds, buf, np);
          // this line's packed docno moves from slot np to slot 0
          pW.copyWithin(0, wo, wo + 3);
          np = 0;
        }
        b.startQuery(buf, qs, qe);
      }
      pS[np] = ds;
      pE[np] = de;
      pH[np] = h;
      pScore[np] = score;
      if (++np === BATCH) drainPending(b, docIds, buf, np), (np = 0);
      continue;
    }
    // off the fast path: the reference parser takes this one line (or throws its error)
    if (np > 0) drainPending(b, docIds, buf, np), (np = 0);
    let nl = lineStart;
    while (buf[nl] !== 10) nl++;
    scanLines(buf, nl + 1, 6, starts, ends, lineNo - 1, b.onLine, lineStart);
    i = nl + 1;
  }
  if (np > 0) drainPending(b, docIds, buf, np);
  return lineNo;
}

/** Intern the `np` pending docnos of {@link runBlock} (touch every slot first, then look up) and append them with their scores. */
function drainPending(b: RunBuilder, docIds: IdInterner, buf: Buffer, np: number): number {
  let sink = 0;
  for (let k = 0; k < np; k++) PENDING_K[k] = docIds.touch(PENDING_H[k]);
  for (let k = 0; k < np; k++) sink += docIds.touchString(PENDING_K[k]);
  const w = PENDING_W;
  if (!LITTLE_ENDIAN) for (let k = 0; k < np; k++) packId(buf, PENDING_S[k], PENDING_E[k], w, 3 * k);
  for (let k = 0; k < np; k++) b.push(docIds.getPacked(buf, PENDING_S[k], PENDING_E[k], PENDING_H[k], w, 3 * k), PENDING_SCORE[k]);
  return sink;
}

const BATCH = 128;
/** Exact powers of ten (the fast path of parseNumber in trec-scan.ts). */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const PENDING_S = new Int32Array(BATCH);
const PENDING_E = new Int32Array(BATCH);
const PENDING_H = new Int32Array(BATCH);
const PENDING_SCORE = new Float64Array(BATCH);
const PENDING_W = new Int32Array(3 * BATCH);
/**
 * The bytes of PENDING_W: byte 4w + b is byte b of word w on a little-endian machine, which
 * is how packId packs (checked at load: on a big-endian machine the words are packed by
 * packId instead).
 */
const PENDING_W_BYTES = new Uint8Array(PENDING_W.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Int32Array([1]).buffer)[0] === 1;
const PENDING_K = new Int32Array(BATCH);

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
  const docIds = new IdInterner();
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

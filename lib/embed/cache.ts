/**
 * Content-addressed on-disk cache of text embeddings.
 *
 * Layout: `<root>/<model slug>-<16 hex>/` is one namespace, named by the sha256 of its key
 * (model identity + every option that changes vectors: pooling, normalize, maxLength,
 * dtype, adapter id); `meta.json` in it records the key in clear. Inside, vectors live in
 * immutable chunk files `chunk-<time>-<pid>-<rand>.bin`, one per computed batch, each
 * written atomically (temporary file + rename), so a run killed at any point (SIGKILL
 * included) leaves only whole chunks and a rerun recomputes only the batches that were not
 * written. Entries are keyed by sha256 of the exact text fed to the model (prefix included).
 *
 * Chunk format (little-endian):
 *
 * | bytes          | content                                   |
 * |----------------|-------------------------------------------|
 * | 0..3           | magic `XLEC`                              |
 * | 4..7           | version (u32, 2)                          |
 * | 8..11          | n (u32): number of vectors                |
 * | 12..15         | dim (u32)                                 |
 * | 16..47         | sha256 of everything after byte 48        |
 * | 48..48+32n     | n raw sha256 digests of the texts         |
 * | then           | n x dim float32 vectors, row-major        |
 *
 * Every chunk is verified before its vectors are used (size against the header, then the
 * sha256, once per chunk and process): a chunk with a bad header or checksum (disk error,
 * a stray write) is named in a one-line notice, deleted, and its texts are recomputed.
 *
 * Scale: one file per batch (not per text), and {@link EmbeddingCache.compact} merges small
 * chunks into bigger ones (default: when 16 or more chunks are under 4 MiB), so 100k texts
 * end in tens of files. Opening a namespace reads only chunk headers (the digests).
 * Writing one file per batch costs about 3 ms on the dev machine (0.1 ms per text at
 * batch 32): small next to a transformer forward pass, and it keeps the resume guarantee
 * per batch.
 * Several processes may share a namespace: chunk names are unique and a chunk that vanished
 * (merged by another process) is treated as a miss.
 *
 * Hand-written rather than a key-value store package: the needs are narrow (append-only
 * immutable batches, crash safety by rename) and a dependency with native code or a daemon
 * would not pay for itself.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { sha256, writeFileAtomic } from '../util/fs.js';

const MAGIC = 0x43454c58; // 'XLEC' read as little-endian u32
const VERSION = 2;
const HEADER = 48;
const CHECKSUM_AT = 16;
const DIGEST = 32;
const LITTLE_ENDIAN = endianness() === 'LE';

/** Options of {@link EmbeddingCache.compact}. */
export interface CompactOptions {
  /** Chunks smaller than this many bytes are merge candidates. Default 4 MiB. */
  smallBytes?: number;
  /** Merge only when at least this many small chunks exist. Default 16. */
  minFiles?: number;
}

interface ChunkInfo {
  file: string;
  n: number;
  dim: number;
  bytes: number;
}

/** sha256 of a text (utf8) as the cache's entry key, hex. */
export function textKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** An open cache namespace (one model + vector-changing options). */
export class EmbeddingCache {
  /** Folder of this namespace. */
  readonly dir: string;
  /** The key this namespace was opened with. */
  readonly key: Readonly<Record<string, unknown>>;
  private readonly index = new Map<string, { chunk: string; row: number }>();
  private readonly chunks = new Map<string, ChunkInfo>();
  /** Chunks whose checksum was verified in this process (chunks are immutable). */
  private readonly verified = new Set<string>();
  private readonly notice: (line: string) => void;

  private constructor(dir: string, key: Record<string, unknown>, notice: (line: string) => void) {
    this.dir = dir;
    this.key = key;
    this.notice = notice;
  }

  /**
   * Open (creating if needed) the namespace of `key` under `root` and index its chunks.
   *
   * @param root  the cache folder (e.g. `.cache/embeddings`).
   * @param key  everything that changes vectors except the text; must contain a string
   *   `model`. Serialised with sorted keys, so field order does not matter.
   * @param options.notice  one-line notices about bad chunks removed (default: stderr).
   * @throws XlalignError when `key.model` is missing or the folder cannot be created.
   * @example
   * const cache = EmbeddingCache.open('.cache/embeddings', { model: emb.id, pooling: 'mean', normalize: true, maxLength: 512, dtype: 'fp32' });
   */
  static open(root: string, key: Record<string, unknown>, options: { notice?: (line: string) => void } = {}): EmbeddingCache {
    if (typeof key.model !== 'string' || key.model === '') throw xlError('EmbeddingCache.open', 'key.model must be a non-empty string (the model identity)');
    // the chunk format is part of the namespace: chunks of an older format live elsewhere
    const canonical = canonicalJson({ ...key, chunkFormat: VERSION });
    const slug = key.model.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
    const dir = resolve(root, `${slug}-${sha256(canonical).slice(0, 16)}`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw xlError('EmbeddingCache.open', `cannot create cache folder ${dir}: ${(e as Error).message}; pass another cache folder or cache: false`, { cause: e });
    }
    const metaPath = join(dir, 'meta.json');
    if (!existsSync(metaPath)) writeFileAtomic(metaPath, JSON.stringify({ key: JSON.parse(canonical), format: `XLEC v${VERSION}` }, null, 2) + '\n');
    const cache = new EmbeddingCache(dir, key, options.notice ?? ((l) => process.stderr.write(l + '\n')));
    cache.refresh();
    return cache;
  }

  /** Number of distinct texts cached (as of the last refresh). */
  get size(): number {
    return this.index.size;
  }

  /** Number of chunk files (as of the last refresh). */
  get chunkCount(): number {
    return this.chunks.size;
  }

  /**
   * Re-scan the folder: index chunks written since (by this or another process), forget
   * chunks that were removed. Reads only headers and digests of new chunks.
   * A chunk whose size disagrees with its header, or whose magic/version is wrong, is skipped.
   */
  refresh(): void {
    const present = new Set(readdirSync(this.dir).filter((f) => f.startsWith('chunk-') && f.endsWith('.bin')));
    let removed = false;
    for (const name of this.chunks.keys()) {
      if (!present.has(name)) {
        this.chunks.delete(name);
        removed = true;
      }
    }
    if (removed) {
      for (const [k, v] of this.index) if (!this.chunks.has(v.chunk)) this.index.delete(k);
    }
    for (const name of [...present].sort()) {
      if (this.chunks.has(name)) continue;
      const info = this.readHeader(name);
      if (!info) continue;
      this.chunks.set(name, info.chunk);
      info.digests.forEach((d, row) => {
        if (!this.index.has(d)) this.index.set(d, { chunk: name, row });
      });
    }
  }

  /** Whether the text with this key is cached. */
  has(key: string): boolean {
    return this.index.has(key);
  }

  /**
   * Copy cached vectors into `out` (row `i` of `out` for `keys[i]`) and return, per key,
   * whether it was found. Vectors of another `dim` count as missing. Each chunk file
   * touched is read once (whole, or row by row when fewer than 1/8 of its rows are needed).
   *
   * @param keys  entry keys ({@link textKey}).
   * @param out  `keys.length x dim` destination.
   */
  getInto(keys: readonly string[], out: Float32Array, dim: number): boolean[] {
    const found = new Array<boolean>(keys.length).fill(false);
    const byChunk = new Map<string, { i: number; row: number }[]>();
    keys.forEach((k, i) => {
      const e = this.index.get(k);
      if (!e) return;
      const info = this.chunks.get(e.chunk);
      if (!info || info.dim !== dim) return;
      let list = byChunk.get(e.chunk);
      if (!list) byChunk.set(e.chunk, (list = []));
      list.push({ i, row: e.row });
    });
    for (const [name, list] of byChunk) {
      const info = this.chunks.get(name)!;
      if (list.length * 8 < info.n && this.verified.has(name)) {
        // A few rows of a big (merged) chunk: positioned reads instead of the whole file.
        this.readRows(name, info, list, out, found);
        continue;
      }
      let buf: Buffer;
      try {
        buf = readFileSync(join(this.dir, name));
      } catch {
        continue; // merged away by another process: a miss, recomputed
      }
      if (buf.length !== info.bytes || !this.verify(name, buf)) continue;
      const table = decodeVectors(buf, HEADER + DIGEST * info.n, info.n * dim);
      for (const { i, row } of list) {
        out.set(table.subarray(row * dim, (row + 1) * dim), i * dim);
        found[i] = true;
      }
    }
    return found;
  }

  /**
   * Store `keys.length` vectors as one new chunk (atomic write). Keys already cached are
   * skipped; nothing is written when none is new.
   *
   * @param vectors  `keys.length x dim`, row-major.
   * @throws XlalignError when the sizes disagree or a value is not finite.
   */
  put(keys: readonly string[], vectors: Float32Array, dim: number): void {
    if (vectors.length !== keys.length * dim) throw xlError('EmbeddingCache.put', `${vectors.length} values for ${keys.length} keys of dim ${dim}`);
    const rows: number[] = [];
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (!/^[0-9a-f]{64}$/.test(k)) throw xlError('EmbeddingCache.put', `keys[${i}] '${k}' is not a sha256 hex digest; use textKey(text)`);
      if (this.index.has(k) || seen.has(k)) return;
      seen.add(k);
      rows.push(i);
    });
    if (rows.length === 0) return;
    const name = `chunk-${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.bin`;
    const buf = encodeChunk(rows.map((i) => keys[i]), rows, vectors, dim);
    writeFileAtomic(join(this.dir, name), buf);
    this.chunks.set(name, { file: name, n: rows.length, dim, bytes: buf.length });
    rows.forEach((i, row) => this.index.set(keys[i], { chunk: name, row }));
  }

  /**
   * Merge small chunks into one (written atomically before the small ones are removed, so a
   * crash in between only leaves duplicates). Also removes temporary files left by killed
   * processes (their pid no longer runs). Returns the number of chunks merged (0 if none).
   *
   * @param options  {@link CompactOptions}; defaults `smallBytes` 4 MiB, `minFiles` 16.
   * @example cache.compact(); // after a long run
   */
  compact(options: CompactOptions = {}): number {
    const { smallBytes = 4 << 20, minFiles = 16 } = options;
    this.removeStaleTemp();
    this.refresh();
    const small = [...this.chunks.values()].filter((c) => c.bytes < smallBytes);
    const dims = new Set(small.map((c) => c.dim));
    if (small.length < minFiles || dims.size !== 1) return 0;
    const dim = small[0].dim;
    const keys: string[] = [];
    const parts: Float32Array[] = [];
    const seen = new Set<string>();
    const merged: string[] = [];
    for (const c of small) {
      let buf: Buffer;
      try {
        buf = readFileSync(join(this.dir, c.file));
      } catch {
        continue;
      }
      if (buf.length !== c.bytes || !this.verify(c.file, buf)) continue;
      merged.push(c.file);
      const table = decodeVectors(buf, HEADER + DIGEST * c.n, c.n * dim);
      for (let r = 0; r < c.n; r++) {
        const k = buf.subarray(HEADER + r * DIGEST, HEADER + (r + 1) * DIGEST).toString('hex');
        if (seen.has(k)) continue;
        seen.add(k);
        keys.push(k);
        parts.push(table.subarray(r * dim, (r + 1) * dim));
      }
    }
    if (merged.length < 2) return 0;
    const all = new Float32Array(keys.length * dim);
    parts.forEach((v, i) => all.set(v, i * dim));
    const name = `chunk-${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.bin`;
    writeFileAtomic(join(this.dir, name), encodeChunk(keys, keys.map((_, i) => i), all, dim));
    for (const f of merged) {
      try {
        unlinkSync(join(this.dir, f));
      } catch {
        // already removed by another process
      }
    }
    this.chunks.clear();
    this.index.clear();
    this.refresh();
    return merged.length;
  }

  /** Check a whole chunk's sha256 (once per chunk); a bad chunk is reported, deleted and forgotten. */
  private verify(name: string, buf: Buffer): boolean {
    if (this.verified.has(name)) return true;
    const want = buf.subarray(CHECKSUM_AT, CHECKSUM_AT + 32);
    const got = createHash('sha256').update(buf.subarray(HEADER)).digest();
    if (got.equals(want)) {
      this.verified.add(name);
      return true;
    }
    this.discard(name, 'checksum mismatch');
    return false;
  }

  /** Report, delete and forget a bad chunk (its texts become misses and are recomputed). */
  private discard(name: string, reason: string): void {
    this.notice(`notice: embedding cache chunk ${join(this.dir, name)}: ${reason}; removed, recomputing its vectors`);
    try {
      unlinkSync(join(this.dir, name));
    } catch {
      // gone already
    }
    this.chunks.delete(name);
    for (const [k, v] of this.index) if (v.chunk === name) this.index.delete(k);
  }

  private readRows(name: string, info: ChunkInfo, list: { i: number; row: number }[], out: Float32Array, found: boolean[]): void {
    let fd: number;
    try {
      fd = openSync(join(this.dir, name), 'r');
    } catch {
      return; // merged away by another process: misses
    }
    try {
      const { dim } = info;
      const buf = Buffer.alloc(dim * 4);
      const base = HEADER + DIGEST * info.n;
      for (const { i, row } of list) {
        if (readSync(fd, buf, 0, buf.length, base + row * dim * 4) !== buf.length) continue;
        out.set(decodeVectors(buf, 0, dim), i * dim);
        found[i] = true;
      }
    } finally {
      closeSync(fd);
    }
  }

  private readHeader(name: string): { chunk: ChunkInfo; digests: string[] } | undefined {
    const path = join(this.dir, name);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    try {
      const bytes = statSync(path).size;
      const head = Buffer.alloc(HEADER);
      // chunks appear only by rename, so a chunk file is always whole: a bad header is damage
      const bad = (reason: string) => {
        closeSync(fd);
        fd = -1;
        this.discard(name, reason);
        return undefined;
      };
      if (readSync(fd, head, 0, HEADER, 0) !== HEADER) return bad(`${bytes} bytes, shorter than a header`);
      if (head.readUInt32LE(0) !== MAGIC || head.readUInt32LE(4) !== VERSION) return bad('not an XLEC v2 chunk (bad magic or version)');
      const n = head.readUInt32LE(8);
      const dim = head.readUInt32LE(12);
      if (bytes !== HEADER + DIGEST * n + 4 * n * dim) return bad(`${bytes} bytes, header says ${HEADER + DIGEST * n + 4 * n * dim}`);
      const dig = Buffer.alloc(DIGEST * n);
      if (readSync(fd, dig, 0, dig.length, HEADER) !== dig.length) return bad('short read');
      const digests: string[] = [];
      for (let r = 0; r < n; r++) digests.push(dig.subarray(r * DIGEST, (r + 1) * DIGEST).toString('hex'));
      return { chunk: { file: name, n, dim, bytes }, digests };
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  private removeStaleTemp(): void {
    for (const f of readdirSync(this.dir)) {
      const m = /\.(\d+)\.[a-z0-9]+\.tmp$/.exec(f);
      if (!m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || isAlive(pid)) continue;
      try {
        unlinkSync(join(this.dir, f));
      } catch {
        // gone already
      }
    }
  }
}

function encodeChunk(keys: readonly string[], rows: readonly number[], vectors: Float32Array, dim: number): Buffer {
  const n = keys.length;
  const buf = Buffer.alloc(HEADER + DIGEST * n + 4 * n * dim);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(VERSION, 4);
  buf.writeUInt32LE(n, 8);
  buf.writeUInt32LE(dim, 12);
  keys.forEach((k, r) => buf.write(k, HEADER + r * DIGEST, 'hex'));
  const table = new Float32Array(n * dim);
  rows.forEach((i, r) => {
    for (let d = 0; d < dim; d++) {
      const x = vectors[i * dim + d];
      if (!Number.isFinite(x)) throw xlError('EmbeddingCache.put', `vector ${i} component ${d} is ${x}; refusing to cache non-finite values`);
      table[r * dim + d] = x;
    }
  });
  const base = HEADER + DIGEST * n;
  if (LITTLE_ENDIAN) buf.set(new Uint8Array(table.buffer), base);
  else table.forEach((x, j) => buf.writeFloatLE(x, base + j * 4));
  createHash('sha256').update(buf.subarray(HEADER)).digest().copy(buf, CHECKSUM_AT);
  return buf;
}

/** `count` little-endian float32 values of `buf` from byte `offset`, as an aligned copy. */
function decodeVectors(buf: Buffer, offset: number, count: number): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + count * 4));
  const out = new Float32Array(count);
  for (let j = 0; j < count; j++) out[j] = buf.readFloatLE(offset + j * 4);
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** JSON with object keys sorted at every level (so equal keys hash equally). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

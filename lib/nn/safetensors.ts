/**
 * Read and write the safetensors format (Hugging Face, https://github.com/huggingface/safetensors):
 *
 *   8 bytes: N, little-endian u64 | N bytes: JSON header | raw tensor bytes
 *
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets
 * into the data part, row-major, little-endian) plus an optional `__metadata__` string map.
 *
 * Hand-written: the format is a page of code, and the npm packages for it are either
 * unmaintained or browser/stream wrappers that do not convert fp16/bf16 or write files.
 * Floating tensors are decoded to Float32Array (F16 and BF16 converted exactly); other
 * dtypes are kept as raw bytes so that a file is written back with the same names, shapes
 * and dtypes.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { xlError } from '../util/errors.js';

/** Element size in bytes of each safetensors dtype. */
export const SAFETENSORS_DTYPES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** One tensor of a safetensors file. */
export interface SafeTensor {
  /** The dtype as stored (`F32`, `F16`, `BF16`, `I64`, ...). */
  dtype: string;
  shape: number[];
  /** The values as float32 for F32/F16/BF16/F64 tensors; undefined for integer tensors. */
  data?: Float32Array;
  /** The stored bytes (kept for integer tensors, so they are written back unchanged). */
  raw?: Uint8Array;
}

/** A safetensors file in memory: tensors by name (insertion order = file order) and metadata. */
export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata?: Record<string, string>;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** IEEE half -> float (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float -> IEEE half, round to nearest even. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** float -> bfloat16, round to nearest even. */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Parse a safetensors file.
 * @throws XlalignError naming the file and the tensor when the header is malformed, a dtype
 *   is unknown, or offsets disagree with the shape.
 * @example const st = readSafetensors('model/model.safetensors'); st.tensors.get('embeddings.word_embeddings.weight')!.data
 */
export function readSafetensors(path: string): SafeTensorsFile {
  const where = 'readSafetensors';
  // Positional reads per tensor rather than one readFileSync: checkpoints over 2 GiB
  // (bge-m3, multilingual-e5-large in fp32) exceed Node's single-read limit.
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw xlError(where, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const fileSize = fstatSync(fd).size;
    const read = (start: number, length: number): Buffer => {
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const got = readSync(fd, buf, done, Math.min(length - done, 1 << 30), start + done);
        if (got === 0) throw xlError(where, `${path}: unexpected end of file at byte ${start + done}`);
        done += got;
      }
      return buf;
    };
    if (fileSize < 8) throw xlError(where, `${path}: ${fileSize} bytes is too short for a safetensors file (8-byte header length)`);
    const n = Number(read(0, 8).readBigUInt64LE(0));
    if (n <= 0 || 8 + n > fileSize) throw xlError(where, `${path}: header length ${n} does not fit the file (${fileSize} bytes)`);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(read(8, n).toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw xlError(where, `${path}: the JSON header is invalid: ${(e as Error).message}`, { cause: e });
    }
    const dataStart = 8 + n;
    const out: SafeTensorsFile = { tensors: new Map() };
    const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
    if (header.__metadata__) out.metadata = header.__metadata__ as Record<string, string>;
    // File order = offset order (the header's key order is sorted by name in Python's writer).
    entries.sort((a, b) => ((a[1] as { data_offsets: number[] }).data_offsets?.[0] ?? 0) - ((b[1] as { data_offsets: number[] }).data_offsets?.[0] ?? 0));
    for (const [name, info] of entries) {
      const { dtype, shape, data_offsets: offs } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const size = SAFETENSORS_DTYPES[dtype];
      if (!size) throw xlError(where, `${path}: tensor '${name}' has unsupported dtype '${dtype}'; supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`);
      if (!Array.isArray(shape) || !Array.isArray(offs) || offs.length !== 2) throw xlError(where, `${path}: tensor '${name}' needs shape and data_offsets [begin, end]`);
      const count = shape.reduce((a, b) => a * b, 1);
      if (offs[1] - offs[0] !== count * size || dataStart + offs[1] > fileSize) {
        throw xlError(where, `${path}: tensor '${name}' (${dtype} [${shape.join(', ')}]) has data_offsets [${offs.join(', ')}], expected ${count * size} bytes inside the file`);
      }
      const bytes = read(dataStart + offs[0], offs[1] - offs[0]);
      const t: SafeTensor = { dtype, shape: [...shape] };
      if (FLOAT_DTYPES.has(dtype)) t.data = decodeFloats(bytes, dtype, count);
      else t.raw = new Uint8Array(bytes);
      out.tensors.set(name, t);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Little-endian F32/F64/F16/BF16 bytes -> float32 values (F16 and BF16 exact). */
export function decodeFloats(bytes: Buffer, dtype: string, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'F64') for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  else if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  else for (let i = 0; i < count; i++) { u32[0] = view.getUint16(2 * i, true) << 16; out[i] = f32[0]; }
  return out;
}

function encodeTensor(name: string, t: SafeTensor): Uint8Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const size = SAFETENSORS_DTYPES[t.dtype];
  if (!size) throw xlError('writeSafetensors', `tensor '${name}' has unsupported dtype '${t.dtype}'`);
  if (!t.data) {
    if (!t.raw || t.raw.length !== count * size) throw xlError('writeSafetensors', `tensor '${name}' (${t.dtype} [${t.shape.join(', ')}]) needs ${count * size} raw bytes`);
    return t.raw;
  }
  if (t.data.length !== count) throw xlError('writeSafetensors', `tensor '${name}' has ${t.data.length} values; shape [${t.shape.join(', ')}] needs ${count}`);
  const out = new Uint8Array(count * size);
  const view = new DataView(out.buffer);
  const d = t.data;
  if (t.dtype === 'F32') for (let i = 0; i < count; i++) view.setFloat32(4 * i, d[i], true);
  else if (t.dtype === 'F64') for (let i = 0; i < count; i++) view.setFloat64(8 * i, d[i], true);
  else if (t.dtype === 'F16') for (let i = 0; i < count; i++) view.setUint16(2 * i, floatToHalf(d[i]), true);
  else if (t.dtype === 'BF16') for (let i = 0; i < count; i++) view.setUint16(2 * i, floatToBf16(d[i]), true);
  else throw xlError('writeSafetensors', `tensor '${name}' is ${t.dtype} but has float data`);
  return out;
}

/**
 * Serialise tensors (in map order) as a safetensors file: the header is padded with spaces
 * to a multiple of 8 bytes, as the reference writer does. Float data is converted to each
 * tensor's `dtype` (round to nearest even for F16/BF16). In memory: for files of any size use {@link writeSafetensors}.
 * @example const bytes = encodeSafetensors(st);
 */
export function encodeSafetensors(file: SafeTensorsFile): Uint8Array {
  const { head, parts, size } = layout(file);
  const out = new Uint8Array(size);
  out.set(head, 0);
  let p = head.length;
  for (const b of parts()) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** The 8-byte length + padded JSON header, and the tensors' bytes (encoded one at a time, lazily). */
function layout(file: SafeTensorsFile): { head: Uint8Array; parts: () => Generator<Uint8Array>; size: number } {
  const header: Record<string, unknown> = {};
  if (file.metadata) header.__metadata__ = file.metadata;
  let offset = 0;
  for (const [name, t] of file.tensors) {
    const size = SAFETENSORS_DTYPES[t.dtype];
    if (!size) throw xlError('writeSafetensors', `tensor '${name}' has unsupported dtype '${t.dtype}'`);
    const bytes = t.shape.reduce((a, b) => a * b, 1) * size;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const text = Buffer.from(json, 'utf8');
  const head = new Uint8Array(8 + text.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(text.length), true);
  head.set(text, 8);
  function* parts(): Generator<Uint8Array> {
    for (const [name, t] of file.tensors) yield encodeTensor(name, t);
  }
  return { head, parts, size: head.length + offset };
}

/**
 * Write a safetensors file atomically (a temporary file beside it, then rename), one tensor
 * at a time, so that files over 2 GiB are written without one buffer of the whole file.
 * @example writeSafetensors('out/model.safetensors', st);
 */
export function writeSafetensors(path: string, file: SafeTensorsFile): void {
  const { head, parts } = layout(file);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const write = (b: Uint8Array) => {
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, Math.min(b.length - done, 1 << 30));
    };
    write(head);
    for (const b of parts()) write(b);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** A copy of `data` rounded to what storing it as `dtype` keeps (F16/BF16 round to nearest even; F32 unchanged, F64 copied). */
export function roundedToDtype(data: Float32Array, dtype: string): Float32Array {
  const out = new Float32Array(data);
  if (dtype === 'F16') for (let i = 0; i < out.length; i++) out[i] = halfToFloat(floatToHalf(out[i]));
  else if (dtype === 'BF16') {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < out.length; i++) {
      u[0] = floatToBf16(out[i]) << 16;
      out[i] = f[0];
    }
  }
  return out;
}

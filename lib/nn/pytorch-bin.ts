/**
 * Read a PyTorch state dict saved by `torch.save(state_dict, 'pytorch_model.bin')` (the zip
 * format of torch >= 1.6) without running any code from the file:
 *
 *   <archive>/data.pkl      the pickle of the state dict (tensors as persistent ids)
 *   <archive>/data/<key>    the raw bytes of each storage (little-endian, uncompressed)
 *   <archive>/byteorder     'little' (absent in older files: little)
 *
 * The zip is read by hand (end of central directory, zip64 included; entries must be
 * stored, which `torch.save` always does): Node has no zip reader and the format needed
 * here is two pages of a spec, against a dependency for a dozen lines.
 *
 * The pickle is interpreted by a restricted machine that knows only the opcodes a state
 * dict uses and only these globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
 * `torch._utils._rebuild_parameter[_with_state]`, and the typed storages (`torch.FloatStorage`,
 * `HalfStorage`, `BFloat16Storage`, `DoubleStorage`, `LongStorage`, `IntStorage`, `ShortStorage`,
 * `CharStorage`, `ByteStorage`, `BoolStorage`). Any other global (`os.system`,
 * `builtins.eval`, `__builtin__.getattr`, ...) or opcode is refused with an error naming
 * it, before anything is called; "calling" an allowed global only builds a description of
 * a tensor. The legacy format (torch < 1.6, a bare pickle stream) is refused with a message.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { xlError } from '../util/errors.js';
import { decodeFloats, SAFETENSORS_DTYPES, type SafeTensor, type SafeTensorsFile } from './safetensors.js';

/** Storage class -> safetensors dtype. */
const STORAGES: Record<string, string> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};
const ALLOWED_GLOBALS = new Set([
  'collections OrderedDict', 'torch._utils _rebuild_tensor_v2', 'torch._utils _rebuild_parameter', 'torch._utils _rebuild_parameter_with_state',
  ...Object.keys(STORAGES).map((s) => `torch ${s}`),
]);

interface ZipEntry { name: string; offset: number; size: number; method: number }

/** The central directory of a zip file (names, local-header offsets, sizes). */
function readZipDirectory(fd: number, fileSize: number, path: string): Map<string, ZipEntry> {
  const where = 'readPytorchBin';
  const tailLen = Math.min(fileSize, 65557);
  const tail = readAt(fd, fileSize - tailLen, tailLen, path);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw xlError(where, `${path}: no zip end-of-central-directory record; not a zip file`);
  let count = tail.readUInt16LE(eocd + 10);
  let dirSize = tail.readUInt32LE(eocd + 12);
  let dirOffset = tail.readUInt32LE(eocd + 16);
  // zip64: the locator sits 20 bytes before the EOCD record
  if (eocd >= 20 && tail.readUInt32LE(eocd - 20) === 0x07064b50) {
    const rec = readAt(fd, Number(tail.readBigUInt64LE(eocd - 20 + 8)), 56, path);
    if (rec.readUInt32LE(0) !== 0x06064b50) throw xlError(where, `${path}: bad zip64 end-of-central-directory record`);
    count = Number(rec.readBigUInt64LE(32));
    dirSize = Number(rec.readBigUInt64LE(40));
    dirOffset = Number(rec.readBigUInt64LE(48));
  }
  const dir = readAt(fd, dirOffset, dirSize, path);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (dir.readUInt32LE(p) !== 0x02014b50) throw xlError(where, `${path}: bad zip central directory entry ${k}`);
    const method = dir.readUInt16LE(p + 10);
    let size = dir.readUInt32LE(p + 24);
    let offset = dir.readUInt32LE(p + 42);
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const commentLen = dir.readUInt16LE(p + 32);
    const name = dir.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field (id 1): the 64-bit values of the fields set to 0xffffffff, in order
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = dir.readUInt16LE(e);
      const len = dir.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        const uncompressed = dir.readUInt32LE(p + 24) === 0xffffffff;
        if (uncompressed) { size = Number(dir.readBigUInt64LE(q)); q += 8; }
        if (dir.readUInt32LE(p + 20) === 0xffffffff) q += 8;
        if (offset === 0xffffffff) offset = Number(dir.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    entries.set(name, { name, offset, size, method });
    p = end + commentLen;
  }
  return entries;
}

function readAt(fd: number, start: number, length: number, path: string): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const got = readSync(fd, buf, done, Math.min(length - done, 1 << 30), start + done);
    if (got === 0) throw xlError('readPytorchBin', `${path}: unexpected end of file at byte ${start + done}`);
    done += got;
  }
  return buf;
}

/** The bytes of a stored (uncompressed) zip entry. */
function entryBytes(fd: number, e: ZipEntry, path: string): Buffer {
  if (e.method !== 0) throw xlError('readPytorchBin', `${path}: zip entry '${e.name}' is compressed (method ${e.method}); torch.save writes stored entries only`);
  const local = readAt(fd, e.offset, 30, path);
  if (local.readUInt32LE(0) !== 0x04034b50) throw xlError('readPytorchBin', `${path}: bad local header of '${e.name}'`);
  return readAt(fd, e.offset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28), e.size, path);
}

// ---- the restricted unpickler ----

type Value = unknown;
interface Global { kind: 'global'; module: string; name: string }
interface StorageRef { kind: 'storage'; dtype: string; key: string; numel: number }
interface TensorRef { kind: 'tensor'; storage: StorageRef; offset: number; size: number[]; stride: number[] }
const MARK = Symbol('mark');

/**
 * Interpret `data` (a state dict's pickle) and return name -> tensor description. Only the
 * opcodes and globals of a state dict are accepted (see the file comment).
 */
function unpickleStateDict(data: Buffer, path: string): Map<string, TensorRef> {
  const where = 'readPytorchBin';
  const refuse = (what: string): never => {
    throw xlError(where, `${path}: refusing to load: the pickle uses ${what}, which a state dict (tensors by name) does not contain; xlalign never runs code from a checkpoint. Convert the file to model.safetensors in a Python you trust, e.g. safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')`);
  };
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let p = 0;
  const popMark = (): Value[] => {
    const items: Value[] = [];
    for (;;) {
      if (stack.length === 0) throw xlError(where, `${path}: malformed pickle (no MARK)`);
      const v = stack.pop();
      if (v === MARK) return items.reverse();
      items.push(v);
    }
  };
  const u8 = () => data[p++];
  const u16 = () => { const v = data.readUInt16LE(p); p += 2; return v; };
  const u32 = () => { const v = data.readUInt32LE(p); p += 4; return v; };
  const str = (n: number) => { const s = data.toString('utf8', p, p + n); p += n; return s; };
  const line = () => { const e = data.indexOf(0x0a, p); if (e < 0) throw xlError(where, `${path}: malformed pickle`); const s = data.toString('latin1', p, e); p = e + 1; return s; };
  const setItem = (d: Value, k: Value, v: Value) => {
    if (!(d instanceof Map)) refuse('SETITEM on a non-dict');
    (d as Map<Value, Value>).set(k, v);
  };
  const global = (module: string, name: string): Global => {
    if (!ALLOWED_GLOBALS.has(`${module} ${name}`)) refuse(`the global ${module}.${name}`);
    return { kind: 'global', module, name };
  };
  const call = (fn: Value, argv: Value): Value => {
    const g = fn as Global;
    if (g?.kind !== 'global' || !Array.isArray(argv)) refuse('a call of something that is not an allowed global');
    const args = argv as Value[];
    if (g.name === 'OrderedDict') {
      if (args.length !== 0) refuse('OrderedDict with arguments');
      return new Map();
    }
    if (g.name === '_rebuild_tensor_v2') {
      const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
      if ((storage as StorageRef)?.kind !== 'storage' || typeof offset !== 'number' || !Array.isArray(size) || !Array.isArray(stride)) refuse('_rebuild_tensor_v2 with unexpected arguments');
      return { kind: 'tensor', storage, offset, size: size.map(Number), stride: stride.map(Number) } satisfies TensorRef;
    }
    if (g.name === '_rebuild_parameter' || g.name === '_rebuild_parameter_with_state') {
      const t = args[0] as TensorRef;
      if (t?.kind !== 'tensor') refuse('_rebuild_parameter of something that is not a tensor');
      return t;
    }
    return refuse(`a call of ${g.module}.${g.name}`);
  };
  for (;;) {
    if (p >= data.length) throw xlError(where, `${path}: the pickle ends without STOP`);
    const op = u8();
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x2e: { // STOP
        const top = stack.pop();
        if (!(top instanceof Map)) refuse('a top-level object that is not a dict');
        const out = new Map<string, TensorRef>();
        for (const [k, v] of top as Map<Value, Value>) {
          if (typeof k !== 'string') refuse('a non-string key');
          if ((v as TensorRef)?.kind !== 'tensor') refuse(`an entry '${String(k)}' that is not a tensor`);
          out.set(k as string, v as TensorRef);
        }
        return out;
      }
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE (tuples are arrays here)
      case 0x28: stack.push(MARK); break; // MARK
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x71: memo.set(u8(), stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(u32(), stack[stack.length - 1]); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: stack.push(memo.get(u8())); break; // BINGET
      case 0x6a: stack.push(memo.get(u32())); break; // LONG_BINGET
      case 0x63: { const m = line(); const n = line(); stack.push(global(m, n)); break; } // GLOBAL
      case 0x93: { const n = stack.pop(); const m = stack.pop(); if (typeof m !== 'string' || typeof n !== 'string') refuse('STACK_GLOBAL of non-strings'); stack.push(global(m as string, n as string)); break; }
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { const n = Number(data.readBigUInt64LE(p)); p += 8; stack.push(str(n)); break; } // BINUNICODE8
      case 0x4a: stack.push(data.readInt32LE(p)); p += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i]);
        if (n > 0 && data[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: stack.push(data.readDoubleBE(p)); p += 8; break; // BINFLOAT
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4e: stack.push(null); break; // NONE
      case 0x73: { const v = stack.pop(); const k = stack.pop(); setItem(stack[stack.length - 1], k, v); break; } // SETITEM
      case 0x75: { const items = popMark(); const d = stack[stack.length - 1]; for (let i = 0; i + 1 < items.length; i += 2) setItem(d, items[i], items[i + 1]); break; } // SETITEMS
      case 0x61: { const v = stack.pop(); const l = stack[stack.length - 1]; if (!Array.isArray(l)) refuse('APPEND to a non-list'); (l as Value[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const l = stack[stack.length - 1]; if (!Array.isArray(l)) refuse('APPENDS to a non-list'); (l as Value[]).push(...items); break; } // APPENDS
      case 0x52: { const args = stack.pop(); const fn = stack.pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x62: { // BUILD: only the attribute dict of an OrderedDict (torch's `_metadata`), ignored
        const state = stack.pop();
        const obj = stack[stack.length - 1];
        if (!(obj instanceof Map) || !(state instanceof Map || state === null)) refuse('BUILD (setting state) on an object that is not a dict');
        break;
      }
      case 0x51: { // BINPERSID: ('storage', StorageClass, key, location, numel)
        const pid = stack.pop() as Value[];
        if (!Array.isArray(pid) || pid[0] !== 'storage' || (pid[1] as Global)?.kind !== 'global' || typeof pid[2] !== 'string') refuse('a persistent id that is not a tensor storage');
        const dtype = STORAGES[(pid[1] as Global).name];
        if (!dtype) refuse(`the storage type ${(pid[1] as Global).name}`);
        stack.push({ kind: 'storage', dtype, key: pid[2] as string, numel: Number(pid[4]) } satisfies StorageRef);
        break;
      }
      default:
        refuse(`the pickle opcode 0x${op.toString(16).padStart(2, '0')} ('${String.fromCharCode(op)}') at byte ${p - 1}`);
    }
  }
}

/**
 * Read a `pytorch_model.bin` (zip format) into the in-memory form of a safetensors file:
 * tensors by name (in the pickle's order), float ones decoded to float32 and their stored
 * dtype kept (F32, F16, BF16, F64), integer ones as raw bytes. Tensors sharing a storage
 * (tied weights) each get their own copy; strided views are gathered into row-major order.
 * @throws XlalignError for the legacy (non-zip) format, a file that is not a zip, a missing
 *   `data.pkl` or storage, or any pickle content outside a state dict (naming it).
 * @example const st = readPytorchBin('model/pytorch_model.bin'); st.tensors.get('embeddings.word_embeddings.weight')!.dtype // 'F32'
 */
export function readPytorchBin(path: string): SafeTensorsFile {
  const where = 'readPytorchBin';
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw xlError(where, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    const head = readAt(fd, 0, Math.min(size, 4), path);
    if (head.length < 4 || head.readUInt32LE(0) !== 0x04034b50) {
      const legacy = head[0] === 0x80 || head[0] === 0x8a;
      throw xlError(where, legacy
        ? `${path} is in PyTorch's legacy (pre-1.6, non-zip) format, which xlalign does not read; re-save it in a Python you trust with torch.save(torch.load(path), path) (zip format) or as model.safetensors`
        : `${path} is not a PyTorch zip checkpoint (no zip signature)`);
    }
    const entries = readZipDirectory(fd, size, path);
    const pkl = [...entries.keys()].find((n) => n.endsWith('/data.pkl') && n.split('/').length === 2);
    if (!pkl) throw xlError(where, `${path}: no <archive>/data.pkl in the zip; not a torch.save checkpoint`);
    const archive = pkl.slice(0, -'/data.pkl'.length);
    const order = entries.get(`${archive}/byteorder`);
    if (order && entryBytes(fd, order, path).toString('latin1').trim() !== 'little') throw xlError(where, `${path}: big-endian checkpoints are not supported`);
    const refs = unpickleStateDict(entryBytes(fd, entries.get(pkl)!, path), path);
    const storages = new Map<string, Buffer>();
    const out: SafeTensorsFile = { tensors: new Map() };
    for (const [name, t] of refs) {
      const s = t.storage;
      let bytes = storages.get(s.key);
      if (!bytes) {
        const e = entries.get(`${archive}/data/${s.key}`);
        if (!e) throw xlError(where, `${path}: storage '${s.key}' of tensor '${name}' is missing from the zip`);
        bytes = entryBytes(fd, e, path);
        storages.set(s.key, bytes);
      }
      out.tensors.set(name, tensorFrom(bytes, t, name, path));
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** One tensor from its storage bytes (row-major copy of a possibly strided view). */
function tensorFrom(storage: Buffer, t: TensorRef, name: string, path: string): SafeTensor {
  const dtype = t.storage.dtype;
  const el = SAFETENSORS_DTYPES[dtype];
  const nat = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (!nat(t.offset) || t.size.length !== t.stride.length || !t.size.every(nat) || !t.stride.every(nat)) {
    throw xlError('readPytorchBin', `${path}: tensor '${name}' has an invalid size [${t.size.join(', ')}], stride [${t.stride.join(', ')}] or offset ${t.offset}`);
  }
  const count = t.size.reduce((a, b) => a * b, 1);
  const dims = t.size.length;
  let maxIndex = t.offset;
  for (let d = 0; d < dims; d++) if (t.size[d] > 0) maxIndex += (t.size[d] - 1) * t.stride[d];
  if (count > 0 && (maxIndex + 1) * el > storage.length) throw xlError('readPytorchBin', `${path}: tensor '${name}' [${t.size.join(', ')}] reaches past its storage (${storage.length / el} elements)`);
  const raw = new Uint8Array(count * el);
  const idx = new Array<number>(dims).fill(0);
  for (let i = 0; i < count; i++) {
    let src = t.offset;
    for (let d = 0; d < dims; d++) src += idx[d] * t.stride[d];
    raw.set(storage.subarray(src * el, (src + 1) * el), i * el);
    for (let d = dims - 1; d >= 0; d--) {
      if (++idx[d] < t.size[d]) break;
      idx[d] = 0;
    }
  }
  const out: SafeTensor = { dtype, shape: [...t.size] };
  if (['F32', 'F16', 'BF16', 'F64'].includes(dtype)) out.data = decodeFloats(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), dtype, count);
  else out.raw = raw;
  return out;
}

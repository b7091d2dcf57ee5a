/**
 * Where a dense model comes from (a local folder or a hub id) and its identity for cache
 * keys. A local folder's identity is a content hash of its config, tokenizer files and the
 * ONNX file(s) of the chosen dtype, so a retrained model in the same folder never reuses
 * stale vectors, and a copied folder keeps its cache. Hashing a large ONNX file once is
 * memoised on (path, size, mtime, inode), in memory and in `<cache>/file-hashes.json`.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { EmbedDtype } from './types.js';

/** A resolved model source. */
export type ModelSource = { kind: 'local'; dir: string } | { kind: 'hub'; id: string };

/** The ONNX file-name suffix transformers.js uses for each dtype (`onnx/model<suffix>.onnx`). */
export const DTYPE_SUFFIX: Record<Exclude<EmbedDtype, 'auto'>, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  bnb4: '_bnb4',
  q4f16: '_q4f16',
};

/**
 * Decide whether `model` is a local folder (it exists, absolute or relative to the current
 * directory) or a hub id (`owner/name` or `name`).
 *
 * @throws XlalignError when `model` looks like a path (starts with `.`, `/` or `~`, or has
 *   more than one `/`) but no such folder exists, or exists but is a file.
 * @example resolveModelSource('Xenova/multilingual-e5-small'); // { kind: 'hub', id: ... }
 */
export function resolveModelSource(model: string): ModelSource {
  const where = 'loadEmbedder';
  if (typeof model !== 'string' || model.trim() === '') throw xlError(where, 'model must be a hub id (owner/name) or a model folder path');
  const abs = resolve(model);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw xlError(where, `${abs} is a file; pass the model folder (with config.json, tokenizer.json and onnx/model.onnx)`);
    return { kind: 'local', dir: abs };
  }
  const looksLikePath = /^[.~/\\]/.test(model) || model.split('/').length > 2 || model.includes('\\');
  if (looksLikePath || !/^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(model)) {
    throw xlError(where, `model folder ${abs} does not exist (and '${model}' is not a hub id of the form owner/name)`);
  }
  return { kind: 'hub', id: model };
}

/**
 * Identity string of a model for cache keys and outputs:
 * hub: `<id>@<revision>`; local: `<folder name>@sha256:<16 hex>` over config.json,
 * tokenizer.json, tokenizer_config.json and `onnx/model<suffix>.onnx[_data*]` of `dtype`
 * (all ONNX files for `'auto'`).
 *
 * @param options.hashMemo  a folder for `file-hashes.json` (the cache root), or none.
 * @throws XlalignError when a local folder has no config.json or no ONNX file for `dtype`.
 */
export function modelIdentity(source: ModelSource, options: { dtype: EmbedDtype; revision: string; hashMemo?: string }): string {
  if (source.kind === 'hub') return `${source.id}@${options.revision}`;
  const { dir } = source;
  const config = join(dir, 'config.json');
  if (!existsSync(config)) {
    throw xlError('loadEmbedder', `${config} is missing; a model folder needs config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (see writeStaticModel or a transformers.js ONNX export)`);
  }
  const onnxDir = join(dir, 'onnx');
  const onnxFiles = existsSync(onnxDir)
    ? readdirSync(onnxDir)
        .filter((f) => {
          if (options.dtype === 'auto') return /\.onnx(_data.*)?$/.test(f);
          const stem = `model${DTYPE_SUFFIX[options.dtype]}.onnx`;
          return f === stem || f.startsWith(`${stem}_data`);
        })
        .sort()
    : [];
  if (onnxFiles.length === 0) {
    const want = options.dtype === 'auto' ? 'any .onnx file' : `model${DTYPE_SUFFIX[options.dtype]}.onnx`;
    throw xlError('loadEmbedder', `${onnxDir} has no ${want} (dtype '${options.dtype}'); pass a dtype whose file exists or export the model to ONNX`);
  }
  const h = createHash('sha256');
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    const p = join(dir, f);
    h.update(`${f}\0${existsSync(p) ? hashFile(p, options.hashMemo) : '-'}\0`);
  }
  for (const f of onnxFiles) h.update(`onnx/${f}\0${hashFile(join(onnxDir, f), options.hashMemo)}\0`);
  return `${basename(dir)}@sha256:${h.digest('hex').slice(0, 16)}`;
}

const memo = new Map<string, { size: number; mtimeMs: number; ino: number; sha256: string }>();

/** sha256 of a file, streamed in 8 MiB blocks, memoised on (path, size, mtime, inode). */
function hashFile(path: string, memoDir?: string): string {
  const st = statSync(path);
  const stamp = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
  const same = (e?: { size: number; mtimeMs: number; ino: number }) => e && e.size === stamp.size && e.mtimeMs === stamp.mtimeMs && e.ino === stamp.ino;
  const hit = memo.get(path);
  if (same(hit)) return hit!.sha256;
  const memoFile = memoDir && st.size > 1 << 20 ? join(memoDir, 'file-hashes.json') : undefined;
  let disk: Record<string, { size: number; mtimeMs: number; ino: number; sha256: string }> = {};
  if (memoFile && existsSync(memoFile)) {
    try {
      disk = JSON.parse(readFileSync(memoFile, 'utf8'));
    } catch {
      disk = {}; // a damaged memo only costs a re-hash
    }
    if (same(disk[path])) {
      memo.set(path, disk[path]);
      return disk[path].sha256;
    }
  }
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8 << 20);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  const entry = { ...stamp, sha256: h.digest('hex') };
  memo.set(path, entry);
  if (memoFile) {
    disk[path] = entry;
    try {
      writeFileAtomic(memoFile, JSON.stringify(disk, null, 1));
    } catch {
      // the memo is an optimisation only
    }
  }
  return entry.sha256;
}

/** Why a hub fetch failed. */
export type HubFailure = 'offline' | 'dns' | 'not-found' | 'permission' | 'server' | 'other';

/**
 * Classify a transformers.js hub-loading error by its real cause, walking the `cause` chain
 * (Node's fetch wraps socket errors as `TypeError: fetch failed` with a `cause.code`):
 * `ECONNREFUSED`/`ECONNRESET`/`ETIMEDOUT`/`ENETUNREACH`/`EHOSTUNREACH` -> offline;
 * `ENOTFOUND`/`EAI_AGAIN` -> DNS; HTTP 404 -> not found; 401/403 -> permission (gated or
 * private model: a token or the licence); 5xx -> server.
 * @example classifyHubError(e).kind // 'not-found'
 */
export function classifyHubError(error: unknown): { kind: HubFailure; message: string } {
  const codes: string[] = [];
  const texts: string[] = [];
  let status: number | undefined;
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown; status?: unknown } | undefined, i = 0; e && i < 8; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string') codes.push(e.code);
    if (typeof e.message === 'string') texts.push(e.message);
    if (typeof e.status === 'number') status ??= e.status;
  }
  const text = texts.join(' | ');
  if (status === undefined) {
    const m = /^(Unauthorized|Forbidden|Could not locate|Error \((\d+)\)|Internal server|Bad gateway|Service unavailable|Gateway timeout)/m.exec(texts.join('\n'));
    if (m) status = m[2] ? Number(m[2]) : { Unauthorized: 401, Forbidden: 403, 'Could not locate': 404, 'Internal server': 500, 'Bad gateway': 502, 'Service unavailable': 503, 'Gateway timeout': 504 }[m[1] as 'Unauthorized'];
  }
  const dns = codes.find((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN');
  if (dns) return { kind: 'dns', message: `the hub's host name does not resolve (${dns}): this machine is offline or has no DNS (${text})` };
  const net = codes.find((c) => /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)$/.test(c));
  if (net) return { kind: 'offline', message: `cannot connect to the hub (${net}): this machine is offline or a firewall blocks it (${text})` };
  if (status === 404) return { kind: 'not-found', message: `not found (HTTP 404): no such model, revision or file on the hub; check the id (owner/name) and --dtype (${text})` };
  if (status === 401 || status === 403) return { kind: 'permission', message: `permission denied (HTTP ${status}): a gated or private model; accept its licence on the hub and set HF_TOKEN (${text})` };
  if (status !== undefined && status >= 500) return { kind: 'server', message: `the hub answered HTTP ${status}; try again later (${text})` };
  if (/fetch failed/i.test(text)) return { kind: 'offline', message: `cannot reach the hub: this machine is offline (${text})` };
  return { kind: 'other', message: text || String(error) };
}

/**
 * After a failed hub load, find the real cause: transformers.js turns a missing
 * `tokenizer_config.json` (404, 401) into an unrelated TypeError, so fetch the model's
 * `config.json` once ourselves (same host and path template as transformers.js, `HF_TOKEN`
 * when set, 10 s timeout) and classify the HTTP status or the network error. Falls back to
 * classifying `error` when the probe succeeds.
 * @example const why = await probeHubFailure('Xenova/multilingual-e5-small', 'main', env, e);
 */
export async function probeHubFailure(
  id: string,
  revision: string,
  hub: { remoteHost: string; remotePathTemplate: string },
  error: unknown,
): Promise<{ kind: HubFailure; message: string }> {
  const host = hub.remoteHost.endsWith('/') ? hub.remoteHost : `${hub.remoteHost}/`;
  const path = hub.remotePathTemplate.replaceAll('{model}', id).replaceAll('{revision}', encodeURIComponent(revision));
  const url = `${host}${path}${path.endsWith('/') ? '' : '/'}config.json`;
  const token = process.env.HF_TOKEN ?? process.env.HF_ACCESS_TOKEN;
  try {
    const res = await fetch(url, { method: 'GET', headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel();
    if (!res.ok) return classifyHubError(Object.assign(new Error(`GET ${url}: HTTP ${res.status}`), { status: res.status }));
  } catch (e) {
    return classifyHubError(e);
  }
  return classifyHubError(error);
}

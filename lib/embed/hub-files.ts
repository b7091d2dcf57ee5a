/**
 * Files of a hub model that transformers.js does not fetch itself (sentence-transformers'
 * module files, PyTorch weights), fetched once into transformers.js's file cache under the
 * keys it uses (`env.cacheDir/<id>/<file>`, `<id>/<revision>/<file>` for a revision other
 * than `main`), from `env.remoteHost` + `env.remotePathTemplate`.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { env } from '@huggingface/transformers';

/** The cache folder of a hub id, or undefined when transformers.js has no file cache. */
export function hubCacheDir(id: string, revision = 'main'): string | undefined {
  if (!env.cacheDir) return undefined;
  return revision === 'main' ? join(env.cacheDir, id) : join(env.cacheDir, id, revision);
}

/**
 * Fetch `file` of hub model `id` into `dir` unless it is there. Returns `'ok'` (present or
 * fetched), `'missing'` (HTTP 404) or the failure (network error, other status, remote
 * models disabled) as a sentence.
 */
export async function fetchHubFile(id: string, revision: string, dir: string, file: string, remote: boolean): Promise<'ok' | 'missing' | string> {
  const path = join(dir, file);
  if (existsSync(path)) return 'ok';
  if (!remote) return 'remote models are disabled (env.allowRemoteModels is false or localFilesOnly is set)';
  const url = `${env.remoteHost.replace(/\/$/, '')}/${env.remotePathTemplate.replaceAll('{model}', id).replaceAll('{revision}', encodeURIComponent(revision)).replace(/^\/|\/$/g, '')}/${file}`;
  const token = process.env.HF_TOKEN ?? process.env.HF_ACCESS_TOKEN;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    if (res.status === 404) {
      await res.body?.cancel();
      return 'missing';
    }
    if (!res.ok || !res.body) return `HTTP ${res.status} for ${url}`;
    mkdirSync(dirname(path), { recursive: true });
    await pipeline(Readable.fromWeb(res.body as never), createWriteStream(tmp));
    renameSync(tmp, path);
    return 'ok';
  } catch (e) {
    rmSync(tmp, { force: true });
    return (e as Error).message;
  }
}

/**
 * Fetch sentence-transformers' files of a hub model (modules.json, config_sentence_transformers.json,
 * sentence_bert_config.json, each module's config.json, Dense weights as model.safetensors or
 * pytorch_model.bin) into its cache folder; missing files are skipped (a model without them
 * takes the name preset). Returns the folder, or undefined without a file cache.
 * @example const dir = await fetchModuleFiles('intfloat/multilingual-e5-small', 'main', true);
 */
export async function fetchModuleFiles(id: string, revision: string, remote: boolean): Promise<string | undefined> {
  const dir = hubCacheDir(id, revision);
  if (!dir) return undefined;
  for (const f of ['modules.json', 'config_sentence_transformers.json', 'sentence_bert_config.json']) await fetchHubFile(id, revision, dir, f, remote);
  const modulesPath = join(dir, 'modules.json');
  if (!existsSync(modulesPath)) return dir;
  let modules: { path?: string; type?: string }[] = [];
  try {
    modules = JSON.parse(readFileSync(modulesPath, 'utf8')) as typeof modules;
  } catch {
    return dir; // readModuleChain names the malformed file
  }
  for (const m of Array.isArray(modules) ? modules : []) {
    const path = String(m.path ?? '');
    const type = String(m.type ?? '').split('.').pop();
    if (!path || path.includes('..') || (type !== 'Pooling' && type !== 'Dense')) continue;
    await fetchHubFile(id, revision, dir, `${path}/config.json`, remote);
    if (type === 'Dense' && !existsSync(join(dir, path, 'model.safetensors')) && !existsSync(join(dir, path, 'pytorch_model.bin'))) {
      if ((await fetchHubFile(id, revision, dir, `${path}/model.safetensors`, remote)) !== 'ok') await fetchHubFile(id, revision, dir, `${path}/pytorch_model.bin`, remote);
    }
  }
  return dir;
}

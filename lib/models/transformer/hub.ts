/**
 * Where an encoder to fine-tune comes from: a local folder, or a hub id whose
 * weights (any form the hub ships), `config.json`, tokenizer and sentence-transformers files are fetched once into
 * transformers.js's file cache (`env.cacheDir/<id>/<file>`, `<id>/<revision>/<file>` for a
 * revision other than `main`: the keys transformers.js itself uses), from
 * `env.remoteHost` + `env.remotePathTemplate`. Offline, the message says how to bring the
 * model as a folder, as `loadEmbedder` does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { env } from '@huggingface/transformers';
import { fetchHubFile, fetchModuleFiles, hubCacheDir } from '../../embed/hub-files.js';
import { resolveModelSource } from '../../embed/model-source.js';
import { findCheckpoint } from '../../nn/checkpoint.js';
import { xlError } from '../../util/errors.js';

/** Files fetched for a hub id: required, then optional (sentence-transformers' module files are fetched by `fetchModuleFiles`). */
const REQUIRED = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
const OPTIONAL = ['special_tokens_map.json'];

/** Options of {@link resolveEncoderFolder}. */
export interface EncoderSourceOptions {
  /** Hub revision. Default `'main'`. */
  revision?: string;
  /** Never use the network. Default false. */
  localFilesOnly?: boolean;
}

/**
 * The folder of `model`: the folder itself, or the cache folder of a hub id after fetching
 * the missing files: config and tokenizer files, the weights in the first form the repository
 * has (`model.safetensors`, `model.safetensors.index.json` and its shards, `pytorch_model.bin`),
 * and sentence-transformers' module files (modules.json, Pooling, Dense, prompts).
 * @throws XlalignError for a missing folder, or a hub id that cannot be fetched (naming the
 *   file and how to bring the model as a folder).
 * @example const dir = await resolveEncoderFolder('intfloat/multilingual-e5-small');
 */
export async function resolveEncoderFolder(model: string, options: EncoderSourceOptions = {}): Promise<string> {
  const source = resolveModelSource(model);
  if (source.kind === 'local') return source.dir;
  const { revision = 'main', localFilesOnly = false } = options;
  const dir = hubCacheDir(source.id, revision);
  if (!dir) throw xlError('resolveEncoderFolder', `transformers.js has no file cache (env.cacheDir is not set); download ${source.id} and pass its folder`);
  const remote = env.allowRemoteModels && !localFilesOnly;
  const fail = (file: string, failure: string): never => {
    throw xlError(
      'resolveEncoderFolder',
      `could not fetch ${file} of '${source.id}' (revision '${revision}') from the Hugging Face hub: ${failure}. ` +
        `This machine has no network access to the hub (only the npm registry and Debian apt). To fine-tune this model: on a machine with network, download it ` +
        `(e.g. \`huggingface-cli download ${source.id} --local-dir ${basename(source.id)}\`), copy the folder here and pass its path (it must hold ${REQUIRED.join(', ')} and model.safetensors or pytorch_model.bin).`,
    );
  };
  for (const file of REQUIRED) {
    const r = await fetchHubFile(source.id, revision, dir, file, remote);
    if (r !== 'ok') fail(file, r === 'missing' ? 'not found (404)' : r);
  }
  for (const file of OPTIONAL) await fetchHubFile(source.id, revision, dir, file, remote);
  // the weights, in the first form the repository has
  let complete = false;
  try {
    complete = findCheckpoint(dir) !== undefined;
  } catch {
    complete = false; // an index whose shards are not all here yet: fetch the missing ones below
  }
  if (!complete) {
    const tried: string[] = [];
    let ok = false;
    for (const file of ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin']) {
      const r = await fetchHubFile(source.id, revision, dir, file, remote);
      if (r === 'ok') {
        if (file.endsWith('.index.json')) {
          const index = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { weight_map?: Record<string, string> };
          for (const shard of new Set(Object.values(index.weight_map ?? {}))) {
            const s = await fetchHubFile(source.id, revision, dir, shard, remote);
            if (s !== 'ok') fail(shard, s === 'missing' ? 'not found (404)' : s);
          }
        }
        ok = true;
        break;
      }
      tried.push(`${file}: ${r === 'missing' ? 'not found (404)' : r}`);
      if (r !== 'missing') break;
    }
    if (!ok) fail('the weights', tried.join('; '));
  }
  await fetchModuleFiles(source.id, revision, remote);
  return existsSync(dir) ? dir : fail('config.json', 'no folder');
}

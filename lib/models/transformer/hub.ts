/**
 * Where an encoder to fine-tune comes from: a local folder, or a hub id whose
 * `model.safetensors`, `config.json` and tokenizer files are fetched once into
 * transformers.js's file cache (`env.cacheDir/<id>/<file>`, `<id>/<revision>/<file>` for a
 * revision other than `main`: the keys transformers.js itself uses), from
 * `env.remoteHost` + `env.remotePathTemplate`. Offline, the message says how to bring the
 * model as a folder, as `loadEmbedder` does.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { env } from '@huggingface/transformers';
import { resolveModelSource } from '../../embed/model-source.js';
import { xlError } from '../../util/errors.js';

/** Files fetched for a hub id: required, then optional (sentence-transformers' pooling and prefix configs). */
const REQUIRED = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const OPTIONAL = ['special_tokens_map.json', 'modules.json', 'sentence_bert_config.json', 'config_sentence_transformers.json', '1_Pooling/config.json'];

/** Options of {@link resolveEncoderFolder}. */
export interface EncoderSourceOptions {
  /** Hub revision. Default `'main'`. */
  revision?: string;
  /** Never use the network. Default false. */
  localFilesOnly?: boolean;
}

/**
 * The folder of `model`: the folder itself, or the cache folder of a hub id after fetching
 * the missing files.
 * @throws XlalignError for a missing folder, or a hub id that cannot be fetched (naming the
 *   file and how to bring the model as a folder).
 * @example const dir = await resolveEncoderFolder('intfloat/multilingual-e5-small');
 */
export async function resolveEncoderFolder(model: string, options: EncoderSourceOptions = {}): Promise<string> {
  const source = resolveModelSource(model);
  if (source.kind === 'local') return source.dir;
  const { revision = 'main', localFilesOnly = false } = options;
  if (!env.cacheDir) throw xlError('resolveEncoderFolder', `transformers.js has no file cache (env.cacheDir is not set); download ${source.id} and pass its folder`);
  const dir = revision === 'main' ? join(env.cacheDir, source.id) : join(env.cacheDir, source.id, revision);
  const remote = env.allowRemoteModels && !localFilesOnly;
  for (const file of [...REQUIRED, ...OPTIONAL]) {
    const path = join(dir, file);
    if (existsSync(path)) continue;
    const url = `${env.remoteHost.replace(/\/$/, '')}/${env.remotePathTemplate.replaceAll('{model}', source.id).replaceAll('{revision}', encodeURIComponent(revision)).replace(/^\/|\/$/g, '')}/${file}`;
    let failure: string | undefined;
    if (!remote) failure = 'remote models are disabled (env.allowRemoteModels is false or localFilesOnly is set)';
    else {
      try {
        const res = await fetch(url);
        if (res.status === 404 && OPTIONAL.includes(file)) continue;
        if (!res.ok || !res.body) failure = `HTTP ${res.status} for ${url}`;
        else {
          mkdirSync(dirname(path), { recursive: true });
          const tmp = `${path}.${process.pid}.tmp`;
          await pipeline(Readable.fromWeb(res.body as never), createWriteStream(tmp));
          renameSync(tmp, path);
        }
      } catch (e) {
        rmSync(`${path}.${process.pid}.tmp`, { force: true });
        failure = (e as Error).message;
      }
    }
    if (failure && REQUIRED.includes(file)) {
      throw xlError(
        'resolveEncoderFolder',
        `could not fetch ${file} of '${source.id}' (revision '${revision}') from the Hugging Face hub: ${failure}. ` +
          `This machine has no network access to the hub (only the npm registry and Debian apt). To fine-tune this model: on a machine with network, download it ` +
          `(e.g. \`huggingface-cli download ${source.id} --local-dir ${basename(source.id)}\`), copy the folder here and pass its path (it must hold ${REQUIRED.join(', ')}).`,
      );
    }
  }
  return dir;
}

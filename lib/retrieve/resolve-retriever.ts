import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { applyEmbedPreset } from '../embed/presets.js';
import { loadEmbedder } from '../embed/transformers-embedder.js';
import type { EmbedOptions } from '../embed/types.js';
import { xlError } from '../util/errors.js';
import { dataPath } from '../util/fs.js';
import { Bm25Retriever, type Bm25Options } from './bm25.js';
import { DenseRetriever } from './dense-retriever.js';
import type { Retriever } from './types.js';

/** The folder of the embedded default dense model (built by `npm run build:model`). */
export const DEFAULT_MODEL_NAME = 'xlalign-static-v1';

/** Path of the embedded default model folder. */
export function defaultModelPath(): string {
  return dataPath('models', DEFAULT_MODEL_NAME);
}

/** Options of {@link resolveRetriever}. */
export interface ResolveRetrieverOptions {
  /**
   * Options for dense models (pooling, prefixes, batch size, cache, `adapter` ...). Pooling
   * and prefixes left `undefined` come from the model's preset (`lib/embed/presets.ts`).
   */
  embed?: Partial<EmbedOptions>;
  /** Options for BM25. */
  bm25?: Bm25Options;
  /** Name in outputs. Default: {@link retrieverNames} of this one retriever. */
  name?: string;
  /** Path of the adapter file given in `embed.adapter` (for the default name). */
  adapterPath?: string;
  /** Apply the model's preset to unset options. Default true. */
  preset?: boolean;
}

/** A retriever as asked for: a model (`bm25`, `default`, a folder or a hub id), an optional adapter file, an optional explicit name. */
export interface RetrieverSpec {
  model: string;
  adapter?: string;
  name?: string;
}

/** Canonical identity of a spec: what decides whether two specs are the same retriever. */
export function retrieverKey(spec: RetrieverSpec): string {
  const m = spec.model === 'bm25' || spec.model === 'default' || !existsSync(spec.model) ? spec.model : resolve(spec.model);
  return spec.adapter ? `${m}+${resolve(spec.adapter)}` : m;
}

/** The last `depth` components of a path (`/x/a/model`, 2 -> `a/model`); the whole path when it has fewer. */
function tail(path: string, depth: number, dropExt = false): { label: string; whole: boolean } {
  const parts = resolve(path).split(sep).filter(Boolean);
  if (dropExt) parts[parts.length - 1] = parts[parts.length - 1].replace(/\.safetensors$/, '');
  return { label: parts.slice(-depth).join('/'), whole: depth >= parts.length };
}

/** The name of a spec at a level of detail (1 = basename), and whether more detail exists. */
function nameAt(spec: RetrieverSpec, depth: number): { name: string; more: boolean } {
  if (spec.name) return { name: spec.name, more: false };
  const folder = spec.model !== 'bm25' && spec.model !== 'default' && existsSync(spec.model);
  const m = folder ? tail(spec.model, depth) : { label: spec.model, whole: true };
  if (!spec.adapter) return { name: m.label, more: !m.whole };
  const a = tail(spec.adapter, depth, true);
  return { name: `${m.label}+${a.label}`, more: !m.whole || !a.whole };
}

/** File-name form of a name; two names with the same form would share run files. */
const fileForm = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '_').toLowerCase();

/**
 * Unique, readable names for retrievers, the one rule of `eval` and `train`:
 * `bm25`, `default`, a hub id as given, a model folder by its basename, an adapter as
 * `<model>+<adapter file name without .safetensors>` (`default+adapter`); an explicit
 * `name` wins. When two different retrievers (different resolved paths) would get the same
 * name (or names whose file forms, used for run-file folders, coincide), each of them takes
 * one more path component (`a/model`, `b/model`) until they differ; with the whole path and
 * still equal, `#2`, `#3` are appended. `taken` holds names already used in the output
 * folder by other retrievers (name -> {@link retrieverKey}); they are avoided the same way.
 *
 * @throws XlalignError when two explicit names collide.
 * @example retrieverNames([{ model: 'runs/a/model' }, { model: 'runs/b/model' }]) // ['a/model', 'b/model']
 */
export function retrieverNames(specs: readonly RetrieverSpec[], taken: ReadonlyMap<string, string> = new Map()): string[] {
  const keys = specs.map(retrieverKey);
  const depth = specs.map(() => 1);
  const takenForms = new Map([...taken].map(([n, k]) => [fileForm(n), k]));
  for (let round = 0; round < 64; round++) {
    const names = specs.map((s, i) => nameAt(s, depth[i]));
    const byForm = new Map<string, number[]>();
    names.forEach((n, i) => byForm.set(fileForm(n.name), [...(byForm.get(fileForm(n.name)) ?? []), i]));
    let changed = false;
    for (const [form, idx] of byForm) {
      const distinct = new Set(idx.map((i) => keys[i]));
      const other = takenForms.get(form);
      const clash = distinct.size > 1 || (other !== undefined && !distinct.has(other));
      if (!clash) continue;
      for (const i of idx) {
        if (names[i].more) {
          depth[i]++;
          changed = true;
        }
      }
    }
    if (!changed) {
      // no more detail to add: explicit names must differ; other equal names get #2, #3
      const out = names.map((n) => n.name);
      const used = new Map<string, string>(takenForms);
      return out.map((n, i) => {
        let name = n;
        for (let k = 2; used.has(fileForm(name)) && used.get(fileForm(name)) !== keys[i]; k++) {
          if (specs[i].name) throw xlError('retrieverNames', `name '${specs[i].name}' is already used by another retriever (${used.get(fileForm(name))}); choose another --name`);
          name = `${n}#${k}`;
        }
        used.set(fileForm(name), keys[i]);
        return name;
      });
    }
  }
  throw xlError('retrieverNames', 'could not make the names unique');
}

/**
 * Turn a retriever name into a retriever: `bm25`; `default` (the embedded static model,
 * `data/models/xlalign-static-v1`); a local model folder in the Hugging Face layout; or a hub
 * id such as `Xenova/multilingual-e5-small` (downloaded by transformers.js where the
 * network allows). Every dense model goes through the one loading path, `loadEmbedder`.
 * Pooling, Dense, normalisation and prefixes not set in `embed` come from the model folder's
 * sentence-transformers files (`embedder.describe()`), else from the model's preset (e5: mean and
 * `query: `/`passage: `; bge-m3: cls; LaBSE: pooler), recorded in `retriever.embedPreset`.
 * An adapter (`embed.adapter`, e.g. `loadAdapter(path)` from `lib/train/adapter.ts`) is
 * applied by the embedder after pooling; the name then says so (`default+adapter`).
 *
 * @example
 * const r = await resolveRetriever('default');
 * const a = await resolveRetriever('default', { embed: { adapter: loadAdapter('out/adapter.safetensors') }, adapterPath: 'out/adapter.safetensors' });
 */
export async function resolveRetriever(name: string, options: ResolveRetrieverOptions = {}): Promise<Retriever & { embedPreset?: { preset?: string; applied: Partial<EmbedOptions> } }> {
  if (name === 'bm25') {
    if (options.embed?.adapter) throw xlError('resolveRetriever', 'an adapter applies to dense models; bm25 has no vectors');
    return new Bm25Retriever({ ...options.bm25, ...(options.name ? { name: options.name } : {}) });
  }
  const displayName = options.name ?? retrieverNames([{ model: name, adapter: options.adapterPath ?? (options.embed?.adapter ? 'adapter' : undefined) }])[0];
  const path = name === 'default' ? defaultModelPath() : name;
  // the folder's sentence-transformers files, else the name preset (loadEmbedder reads both); recorded here
  const embedder = await loadEmbedder(path, { ...(options.embed ?? {}), modelConfig: options.preset !== false });
  const chain = embedder.moduleChain;
  const applied = chain.source === 'preset' ? applyEmbedPreset(path, options.embed ?? {}).applied : {};
  const r = new DenseRetriever(embedder, { name: displayName }) as DenseRetriever & { embedPreset?: { preset?: string; applied: Partial<EmbedOptions> } };
  r.embedPreset = { preset: chain.preset, applied };
  return r;
}


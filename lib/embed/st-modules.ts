/**
 * The model folder as the source of truth for how a text becomes a vector: sentence-transformers'
 * module chain, read from the files its authors publish.
 *
 * | file | what is read |
 * |---|---|
 * | `modules.json` | the modules in order: `Transformer` (path `""`), `Pooling`, `Dense` (any number), `Normalize` |
 * | `<Pooling>/config.json` | modes (`pooling_mode_*_token(s)` booleans, or v5's `pooling_mode` string/list), `include_prompt` |
 * | `<Dense>/config.json` + `model.safetensors` or `pytorch_model.bin` | `in_features`, `out_features`, `bias`, `activation_function`; `linear.weight`, `linear.bias` |
 * | `config_sentence_transformers.json` | `prompts` (query: `query`; passage: `document`, `passage` or `corpus`, first found, as `encode_document`), `default_prompt_name`, `similarity_fn_name` |
 * | `sentence_bert_config.json` | `max_seq_length` (the default token limit), `do_lower_case` |
 *
 * The chain, as sentence-transformers' `encode` runs it (its public code, `SentenceTransformer.encode`
 * and `models/Pooling.py`, `Dense.py`, `Normalize.py`, read for this; no code copied):
 *
 * 1. text = prompt + text (lowercased when `do_lower_case`); tokenize, truncate to `max_seq_length`;
 * 2. with `include_prompt: false`, the pooling mask zeroes the first `len(tokenize(prompt)) − 1`
 *    positions (the leading special token and the prompt's tokens), right padding;
 * 3. pooling over the pooling mask m, modes concatenated in their order: `cls` the first token
 *    with m = 1; `max` over tokens with m = 1 (−1e9 elsewhere); `mean` Σ m·h / max(Σ m, 1e-9);
 *    `mean_sqrt_len_tokens` Σ m·h / √max(Σ m, 1e-9); `weightedmean` weights (t+1)·m (t from 0);
 *    `lasttoken` the last token with m = 1;
 * 4. each Dense: act(W v + b); 5. Normalize: v / max(‖v‖, 1e-12).
 *
 * This is sentence-transformers 5. Versions 2-4 differ only with `include_prompt: false`:
 * `cls` takes token 0 (the prompt's first token) and `lasttoken` a zero vector (its argmin
 * finds the masked prompt); xlalign follows v5 there.
 *
 * A folder without these files gets the name preset (`presets.ts`) or the defaults; a folder
 * whose files name no query/passage prompt (written before sentence-transformers had prompts,
 * as multilingual-e5's) takes only the prefixes from the preset, and says so.
 * xlalign ranks by the dot product of its vectors, so vectors are L2-normalised when the chain
 * has a Normalize module or its similarity is cosine (sentence-transformers' default), and left
 * as they are for `dot` without Normalize.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCheckpoint, readCheckpoint } from '../nn/checkpoint.js';
import type { SafeTensorsFile } from '../nn/safetensors.js';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { resolveModelSource } from './model-source.js';
import { applyEmbedPreset } from './presets.js';
import type { EmbedOptions, Pooling } from './types.js';

/** sentence-transformers' pooling mode names -> xlalign's. */
const ST_MODES: Record<string, Pooling> = {
  cls: 'cls', max: 'max', mean: 'mean', mean_sqrt_len_tokens: 'mean_sqrt_len', weightedmean: 'weightedmean', lasttoken: 'last_token',
};
/** The legacy boolean keys, in the order the modes are concatenated. */
const LEGACY_KEYS: [string, string][] = [
  ['pooling_mode_cls_token', 'cls'], ['pooling_mode_max_tokens', 'max'], ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len_tokens'], ['pooling_mode_weightedmean_tokens', 'weightedmean'], ['pooling_mode_lasttoken', 'lasttoken'],
];
/** Dense activations by the class name sentence-transformers stores. */
export const DENSE_ACTIVATIONS: Record<string, 'identity' | 'tanh' | 'relu' | 'sigmoid'> = {
  'torch.nn.modules.linear.Identity': 'identity',
  'torch.nn.modules.activation.Tanh': 'tanh',
  'torch.nn.modules.activation.ReLU': 'relu',
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
};
export type DenseActivation = (typeof DENSE_ACTIVATIONS)[string];

/** One Dense module: `act(W v + b)`, W `out x in` row-major. */
export interface DenseModule {
  /** Its folder in the model folder (`2_Dense`). */
  path: string;
  inFeatures: number;
  outFeatures: number;
  activation: DenseActivation;
  /** The class name as stored (`torch.nn.modules.activation.Tanh`). */
  activationClass: string;
  /** Its `config.json` as read (written back unchanged). */
  configJson: Record<string, unknown>;
  /** `linear.weight` [out, in] and `linear.bias` [out] (views of `file`'s tensors: training changes them). */
  weight: Float32Array;
  bias?: Float32Array;
  /** The tensors as read (dtypes kept for writing back). */
  file: SafeTensorsFile;
}

/** How a model turns text into a vector, and where each part came from. */
export interface ModuleChain {
  /** `sentence-transformers` (the folder's files), `preset` (the name preset), `defaults`. */
  source: 'sentence-transformers' | 'preset' | 'defaults';
  /** The preset's name when `source` is `preset`. */
  preset?: string;
  /** Files read, relative to the folder. */
  files: string[];
  /** The modules in order, e.g. `['Transformer', 'Pooling', 'Dense', 'Normalize']`; `[]` without modules.json. */
  modules: { type: string; path: string }[];
  /** Pooling modes, concatenated in this order (one, unless the Pooling module lists several). */
  pooling: Pooling[];
  /** Whether prompt tokens take part in pooling. */
  includePrompt: boolean;
  dense: DenseModule[];
  /** L2-normalise the final vector. */
  normalize: boolean;
  /** Whether the chain has a Normalize module. */
  normalizeModule: boolean;
  queryPrefix: string;
  passagePrefix: string;
  /** The prompt names used (`config_sentence_transformers.json`). */
  promptNames: { query?: string; passage?: string };
  /** Where the prefixes came from: the folder's prompts, the name preset (a folder whose files name no query/passage prompt, e.g. multilingual-e5's), or the defaults. */
  promptsFrom: 'folder' | 'preset' | 'defaults';
  /** `similarity_fn_name` as stored. */
  similarity?: string;
  /** `max_seq_length` of sentence_bert_config.json. */
  maxSeqLength?: number;
  /** `do_lower_case` of sentence_bert_config.json. */
  lowercase: boolean;
  /** Options the user set that differ from what the folder (or preset) says: name -> { folder, user }. */
  overrides: Record<string, { folder: unknown; user: unknown }>;
  /** Other things worth printing (e.g. a similarity xlalign cannot rank by). */
  notes: string[];
}

function readJson(dir: string, rel: string, files: string[]): Record<string, unknown> | undefined {
  const path = join(dir, rel);
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    files.push(rel);
    return v as Record<string, unknown>;
  } catch (e) {
    throw xlError('readModuleChain', `${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** The pooling modes and include_prompt of a Pooling config (legacy booleans or v5's `pooling_mode`). */
export function parsePoolingConfig(json: Record<string, unknown>, path: string): { pooling: Pooling[]; includePrompt: boolean } {
  let names: string[];
  if (json.pooling_mode !== undefined && (typeof json.pooling_mode === 'string' || Array.isArray(json.pooling_mode))) {
    names = typeof json.pooling_mode === 'string' ? [json.pooling_mode] : (json.pooling_mode as string[]);
  } else {
    names = LEGACY_KEYS.filter(([k]) => json[k] === true).map(([, m]) => m);
    if (names.length === 0) names = ['mean'];
  }
  const pooling = names.map((n) => {
    const m = ST_MODES[n === 'mean_tokens' ? 'mean' : n];
    if (!m) throw xlError('readModuleChain', `${path}: field 'pooling_mode': unknown mode '${n}'; sentence-transformers' modes are ${Object.keys(ST_MODES).join(', ')}`);
    return m;
  });
  const ip = json.include_prompt;
  if (ip !== undefined && typeof ip !== 'boolean') throw xlError('readModuleChain', `${path}: field 'include_prompt' must be true or false`);
  return { pooling, includePrompt: ip !== false };
}

/** Read a Dense module folder (config.json + weights in any hub form). */
export function readDenseModule(dir: string, path: string): DenseModule {
  const where = 'readModuleChain';
  const folder = join(dir, path);
  const cfgPath = join(folder, 'config.json');
  if (!existsSync(cfgPath)) throw xlError(where, `${cfgPath} is missing; modules.json lists a Dense module at '${path}'`);
  const files: string[] = [];
  const configJson = readJson(folder, 'config.json', files)!;
  const inF = configJson.in_features;
  const outF = configJson.out_features;
  if (!Number.isInteger(inF) || !Number.isInteger(outF) || (inF as number) < 1 || (outF as number) < 1) throw xlError(where, `${cfgPath}: fields 'in_features' and 'out_features' must be positive integers`);
  const activationClass = String(configJson.activation_function ?? 'torch.nn.modules.activation.Tanh');
  const activation = DENSE_ACTIVATIONS[activationClass];
  if (!activation) throw xlError(where, `${cfgPath}: field 'activation_function': '${activationClass}' is not supported; use one of ${Object.keys(DENSE_ACTIVATIONS).join(', ')}`);
  const ck = findCheckpoint(folder);
  if (!ck) throw xlError(where, `${folder} has no weights (model.safetensors or pytorch_model.bin) for its Dense layer`);
  const file = readCheckpoint(ck);
  const w = file.tensors.get('linear.weight');
  const hasBias = configJson.bias !== false;
  const b = file.tensors.get('linear.bias');
  if (!w?.data || w.shape.join(',') !== `${outF},${inF}`) throw xlError(where, `${ck.files[0]}: tensor 'linear.weight' ${w ? `has shape [${w.shape.join(', ')}]` : 'is missing'}; config.json implies [${outF}, ${inF}]`);
  if (hasBias && (!b?.data || b.shape.join(',') !== `${outF}`)) throw xlError(where, `${ck.files[0]}: tensor 'linear.bias' ${b ? `has shape [${b.shape.join(', ')}]` : 'is missing'}; config.json (bias true) implies [${outF}]`);
  return { path, inFeatures: inF as number, outFeatures: outF as number, activation, activationClass, configJson, weight: w.data, bias: hasBias ? b!.data : undefined, file };
}

/**
 * The module chain of a folder (hub ids: `dir` undefined, name preset only) and of the user's
 * options: what the folder says, then the preset by `name` when the folder has no
 * sentence-transformers files, then the defaults; an option the user set wins and is
 * recorded in `overrides` when it differs.
 *
 * @param name  the model as given (hub id or path), for the preset.
 * @param user  the user's options (`undefined` = not given).
 * @param options.preset  apply the name preset to a folder without sentence-transformers files. Default true.
 * @throws XlalignError for a malformed file, an unknown module type, pooling mode or activation,
 *   or Dense weights that disagree with their config.
 * @example readModuleChain('models/e5', 'models/e5', {}).pooling // ['mean']
 */
export function readModuleChain(dir: string | undefined, name: string, user: EmbedOptions, options: { preset?: boolean } = {}): ModuleChain {
  const where = 'readModuleChain';
  const files: string[] = [];
  const chain: ModuleChain = {
    source: 'defaults', files, modules: [], pooling: ['mean'], includePrompt: true, dense: [], normalize: true, normalizeModule: false,
    queryPrefix: '', passagePrefix: '', promptNames: {}, promptsFrom: 'defaults', lowercase: false, overrides: {}, notes: [],
  };
  const modulesJson = dir ? readJson(dir, 'modules.json', files) : undefined;
  const stConfig = dir ? readJson(dir, 'config_sentence_transformers.json', files) : undefined;
  // the Transformer module's own config (at the root, or in its folder as older sentence-transformers saved it: 0_Transformer/)
  const tPath = Array.isArray(modulesJson) ? String((modulesJson as { path?: string; type?: string }[]).find((m) => String(m.type ?? '').endsWith('Transformer'))?.path ?? '') : '';
  const bertConfig = dir ? readJson(dir, join(tPath, 'sentence_bert_config.json'), files) : undefined;
  if (dir && modulesJson) {
    chain.source = 'sentence-transformers';
    if (!Array.isArray(modulesJson)) throw xlError(where, `${join(dir, 'modules.json')}: expected a list of {idx, name, path, type}`);
    const list = [...(modulesJson as { idx?: number; path?: string; type?: string }[])].sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0));
    let pooled = false;
    for (const [i, m] of list.entries()) {
      const type = String(m.type ?? '').split('.').pop()!;
      const path = String(m.path ?? '');
      chain.modules.push({ type, path });
      if (type === 'Transformer') {
        if (i !== 0) throw xlError(where, `${join(dir, 'modules.json')}: the Transformer module must come first`);
      } else if (type === 'Pooling') {
        const cfg = readJson(dir, join(path, 'config.json'), files);
        if (!cfg) throw xlError(where, `${join(dir, path, 'config.json')} is missing; modules.json lists a Pooling module at '${path}'`);
        Object.assign(chain, parsePoolingConfig(cfg, join(dir, path, 'config.json')));
        pooled = true;
      } else if (type === 'Dense') {
        if (!pooled) throw xlError(where, `${join(dir, 'modules.json')}: a Dense module before Pooling (on token vectors) is not supported`);
        const d = readDenseModule(dir, path);
        files.push(join(path, 'config.json'), ...(findCheckpoint(join(dir, path))?.files.map((f) => join(path, f.slice(join(dir, path).length + 1))) ?? []));
        chain.dense.push(d);
      } else if (type === 'Normalize') {
        chain.normalizeModule = true;
      } else if (type === 'Dropout') {
        // identity at inference (eval mode)
      } else {
        throw xlError(where, `${join(dir, 'modules.json')}: module '${m.type}' is not supported; xlalign runs Transformer, Pooling, Dense, Dropout (identity) and Normalize`);
      }
    }
    if (!pooled) throw xlError(where, `${join(dir, 'modules.json')}: no Pooling module (xlalign needs one text vector)`);
    let dim = -1;
    for (const d of chain.dense) {
      if (dim >= 0 && d.inFeatures !== dim) throw xlError(where, `${join(dir, d.path, 'config.json')}: in_features ${d.inFeatures} does not match the previous module's output ${dim}`);
      dim = d.outFeatures;
    }
  }
  if (stConfig) {
    const prompts = (stConfig.prompts ?? {}) as Record<string, unknown>;
    if (typeof prompts !== 'object' || Array.isArray(prompts)) throw xlError(where, `${join(dir!, 'config_sentence_transformers.json')}: field 'prompts' must be an object of name -> text`);
    const dflt = typeof stConfig.default_prompt_name === 'string' ? stConfig.default_prompt_name : undefined;
    if (dflt !== undefined && typeof prompts[dflt] !== 'string') throw xlError(where, `${join(dir!, 'config_sentence_transformers.json')}: default_prompt_name '${dflt}' is not in prompts`);
    const q = typeof prompts.query === 'string' ? 'query' : dflt;
    const p = ['document', 'passage', 'corpus'].find((n) => typeof prompts[n] === 'string') ?? dflt;
    if (q) chain.queryPrefix = prompts[q] as string;
    if (p) chain.passagePrefix = prompts[p] as string;
    chain.promptNames = { ...(q ? { query: q } : {}), ...(p ? { passage: p } : {}) };
    if (q || p) chain.promptsFrom = 'folder';
    if (typeof stConfig.similarity_fn_name === 'string') chain.similarity = stConfig.similarity_fn_name;
    // without modules.json the folder says nothing about pooling: the preset (or the defaults) decides that
    if (chain.source === 'defaults' && (q || p)) chain.notes.push('prompts from config_sentence_transformers.json (no modules.json)');
  }
  if (bertConfig) {
    if (Number.isInteger(bertConfig.max_seq_length) && (bertConfig.max_seq_length as number) > 0) chain.maxSeqLength = bertConfig.max_seq_length as number;
    chain.lowercase = bertConfig.do_lower_case === true;
  }
  const preset = options.preset === false ? undefined : applyEmbedPreset(name, {});
  if (chain.source === 'sentence-transformers') {
    const sim = chain.similarity;
    chain.normalize = chain.normalizeModule || sim === undefined || sim === 'cosine';
    if (sim !== undefined && !['cosine', 'dot', 'dot_product'].includes(sim)) chain.notes.push(`similarity '${sim}' is not a dot product; xlalign ranks by cosine (normalised vectors)`);
    // files written before sentence-transformers had prompts (multilingual-e5's) name none: the preset's prefixes, said so
    if (chain.promptsFrom === 'defaults' && preset?.preset && (preset.options.queryPrefix || preset.options.passagePrefix)) {
      chain.queryPrefix = preset.options.queryPrefix ?? '';
      chain.passagePrefix = preset.options.passagePrefix ?? '';
      chain.promptsFrom = 'preset';
      chain.preset = preset.preset;
      chain.notes.push(`the folder names no query/passage prompt; prefixes from preset ${preset.preset}`);
    }
  } else if (preset?.preset) {
    chain.source = 'preset';
    chain.preset = preset.preset;
    if (preset.options.pooling) chain.pooling = [preset.options.pooling];
    if (chain.promptsFrom === 'defaults') {
      chain.queryPrefix = preset.options.queryPrefix ?? '';
      chain.passagePrefix = preset.options.passagePrefix ?? '';
      chain.promptsFrom = 'preset';
    }
  }
  // the user's options win; differences are overrides
  const set = <K extends 'pooling' | 'queryPrefix' | 'passagePrefix' | 'normalize'>(k: K, folder: unknown, userValue: unknown, apply: () => void) => {
    if (userValue === undefined) return;
    if (JSON.stringify(folder) !== JSON.stringify(userValue)) chain.overrides[k] = { folder, user: userValue };
    apply();
  };
  set('pooling', chain.pooling.length === 1 ? chain.pooling[0] : chain.pooling, user.pooling, () => (chain.pooling = [user.pooling!]));
  set('queryPrefix', chain.queryPrefix, user.queryPrefix, () => (chain.queryPrefix = user.queryPrefix!));
  set('passagePrefix', chain.passagePrefix, user.passagePrefix, () => (chain.passagePrefix = user.passagePrefix!));
  set('normalize', chain.normalize, user.normalize, () => (chain.normalize = user.normalize!));
  return chain;
}

/**
 * {@link readModuleChain} of a model as given: a local folder is read; a hub id gets the name
 * preset only (its files are read once fetched, by `loadEmbedder` and the encoder's loader).
 * @example modelChainFor('models/e5', {}).source // 'sentence-transformers'
 */
export function modelChainFor(model: string, user: EmbedOptions, options: { preset?: boolean } = {}): ModuleChain {
  const source = resolveModelSource(model);
  return readModuleChain(source.kind === 'local' ? source.dir : undefined, model, user, options);
}

/** Output size of the chain for a hidden size `hidden`. */
export function chainDim(chain: ModuleChain, hidden: number): number {
  return chain.dense.length ? chain.dense[chain.dense.length - 1].outFeatures : chain.pooling.length * hidden;
}

/**
 * Apply the chain's Dense modules to `n` row-major vectors (float64 sums).
 * @throws XlalignError when the vector size is not the first Dense module's `in_features`.
 */
export function applyDense(chain: ModuleChain, vectors: Float32Array, n: number): Float32Array {
  let v = vectors;
  for (const d of chain.dense) {
    if (v.length !== n * d.inFeatures) throw xlError('embed', `Dense ${d.path} expects vectors of ${d.inFeatures} values; the pooling gives ${v.length / n} (check in_features against the pooling modes and hidden size)`);
    const out = new Float32Array(n * d.outFeatures);
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < d.outFeatures; o++) {
        let s = d.bias ? d.bias[o] : 0;
        const w = o * d.inFeatures;
        for (let i = 0; i < d.inFeatures; i++) s += d.weight[w + i] * v[r * d.inFeatures + i];
        out[r * d.outFeatures + o] = activate(d.activation, s);
      }
    }
    v = out;
  }
  return v;
}

function activate(a: DenseActivation, x: number): number {
  if (a === 'tanh') return Math.tanh(x);
  if (a === 'relu') return x > 0 ? x : 0;
  if (a === 'sigmoid') return 1 / (1 + Math.exp(-x));
  return x;
}

/** A short record of the chain for config.json and the cache key (no weights). */
export function describeChain(chain: ModuleChain): Record<string, unknown> {
  return {
    source: chain.source,
    ...(chain.preset ? { preset: chain.preset } : {}),
    files: chain.files,
    modules: chain.modules.map((m) => m.type),
    pooling: chain.pooling,
    includePrompt: chain.includePrompt,
    dense: chain.dense.map((d) => ({ path: d.path, in: d.inFeatures, out: d.outFeatures, bias: d.bias !== undefined, activation: d.activation })),
    normalize: chain.normalize,
    queryPrefix: chain.queryPrefix,
    passagePrefix: chain.passagePrefix,
    promptNames: chain.promptNames,
    promptsFrom: chain.promptsFrom,
    ...(chain.similarity ? { similarity: chain.similarity } : {}),
    ...(chain.maxSeqLength ? { maxSeqLength: chain.maxSeqLength } : {}),
    ...(chain.lowercase ? { lowercase: true } : {}),
    overrides: chain.overrides,
    ...(chain.notes.length ? { notes: chain.notes } : {}),
  };
}

/** One line for stderr: what was read and what the user overrode. @example 'e5: sentence-transformers (modules.json, ...): pooling mean, Normalize, prompts query "query: " / document "passage: "' */
export function chainSummary(name: string, chain: ModuleChain): string {
  const what = chain.source === 'sentence-transformers' ? `sentence-transformers files (${chain.files.join(', ')})` : chain.source === 'preset' ? `preset ${chain.preset}` : 'defaults (no sentence-transformers files, no preset)';
  const dense = chain.dense.map((d) => `Dense ${d.inFeatures}->${d.outFeatures}${d.activation === 'identity' ? '' : ` ${d.activation}`}`);
  const prompts = `prefixes query ${JSON.stringify(chain.queryPrefix)}${chain.promptNames.query ? ` (${chain.promptNames.query})` : ''} / passage ${JSON.stringify(chain.passagePrefix)}${chain.promptNames.passage ? ` (${chain.promptNames.passage})` : ''}`;
  const parts = [`pooling ${chain.pooling.join('+')}${chain.includePrompt ? '' : ' (prompt excluded)'}`, ...dense, chain.normalize ? 'normalize' : 'no normalize', prompts];
  if (chain.maxSeqLength) parts.push(`max_seq_length ${chain.maxSeqLength}`);
  if (chain.lowercase) parts.push('lowercase');
  const over = Object.entries(chain.overrides).map(([k, v]) => `${k} ${JSON.stringify(v.user)} (folder: ${JSON.stringify(v.folder)})`);
  return `${name}: ${what}: ${parts.join(', ')}${over.length ? `; override: ${over.join(', ')}` : ''}${chain.notes.length ? `; note: ${chain.notes.join('; ')}` : ''}`;
}

/** Hash of the chain's parts that change vectors beyond the text and the pooling name (Dense weights, prompt exclusion, lowercasing); undefined when none. */
export function chainCacheKey(chain: ModuleChain): string | undefined {
  if (chain.dense.length === 0 && chain.includePrompt && !chain.lowercase) return undefined;
  const h = createHash('sha256');
  h.update(JSON.stringify({ includePrompt: chain.includePrompt, lowercase: chain.lowercase }));
  for (const d of chain.dense) {
    h.update(JSON.stringify({ in: d.inFeatures, out: d.outFeatures, act: d.activation }));
    h.update(new Uint8Array(d.weight.buffer, d.weight.byteOffset, d.weight.byteLength));
    if (d.bias) h.update(new Uint8Array(d.bias.buffer, d.bias.byteOffset, d.bias.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Write the chain as sentence-transformers' files into a model folder (a fine-tuned model is
 * written back with the modules it was trained with): `modules.json`, `<Pooling>/config.json`
 * (the legacy booleans every version reads, `include_prompt`), `config_sentence_transformers.json`
 * (prompts `query` / `document` or the names read, `similarity_fn_name`; other fields of an
 * existing file kept). Files already in the folder (copied from a sentence-transformers
 * source) are rewritten only where the chain differs from them. Dense weights are written by
 * the model's saver (same paths). Returns false (and writes nothing)
 * for a pooling sentence-transformers has no mode for (`pooler`).
 */
export function writeModuleChain(dir: string, chain: ModuleChain, hidden: number): boolean {
  const modeName = (p: Pooling) => Object.entries(ST_MODES).find(([, v]) => v === p)?.[0];
  if (chain.pooling.some((p) => !modeName(p))) return false;
  // files copied from a sentence-transformers folder stay as they are unless what they say changed
  const modules = chain.modules.length
    ? chain.modules
    : [{ type: 'Transformer', path: '' }, { type: 'Pooling', path: '1_Pooling' }, ...(chain.normalize ? [{ type: 'Normalize', path: '2_Normalize' }] : [])];
  if (!existsSync(join(dir, 'modules.json')) || chain.modules.length === 0) {
    const list = modules.map((m, idx) => ({ idx, name: String(idx), path: m.path, type: `sentence_transformers.models.${m.type}` }));
    writeFileAtomic(join(dir, 'modules.json'), JSON.stringify(list, null, 2) + '\n');
  }
  for (const m of modules) if (m.type === 'Normalize') mkdirSync(join(dir, m.path), { recursive: true });
  const poolPath = modules.find((m) => m.type === 'Pooling')!.path;
  const poolFile = join(dir, poolPath, 'config.json');
  let samePooling = false;
  if (existsSync(poolFile)) {
    const old = parsePoolingConfig(JSON.parse(readFileSync(poolFile, 'utf8')) as Record<string, unknown>, poolFile);
    samePooling = old.includePrompt === chain.includePrompt && old.pooling.join('+') === chain.pooling.join('+');
  }
  if (!samePooling) {
    const cfg: Record<string, unknown> = { word_embedding_dimension: hidden };
    for (const [k, m] of LEGACY_KEYS) cfg[k] = chain.pooling.some((p) => modeName(p) === m);
    cfg.include_prompt = chain.includePrompt;
    mkdirSync(join(dir, poolPath), { recursive: true });
    writeFileAtomic(poolFile, JSON.stringify(cfg, null, 2) + '\n');
  }
  const stPath = join(dir, 'config_sentence_transformers.json');
  const st = existsSync(stPath) ? (JSON.parse(readFileSync(stPath, 'utf8')) as Record<string, unknown>) : {};
  const before = JSON.stringify(st);
  const prompts: Record<string, string> = { ...((st.prompts as Record<string, string> | undefined) ?? {}) };
  const qName = chain.promptNames.query ?? 'query';
  const pName = chain.promptNames.passage ?? 'document';
  if (chain.queryPrefix || prompts[qName] !== undefined) prompts[qName] = chain.queryPrefix;
  if (chain.passagePrefix || prompts[pName] !== undefined) prompts[pName] = chain.passagePrefix;
  st.prompts = prompts;
  if (st.default_prompt_name === undefined) st.default_prompt_name = null;
  st.similarity_fn_name = chain.similarity ?? (chain.normalize ? 'cosine' : 'dot');
  if (JSON.stringify(st) !== before) writeFileAtomic(stPath, JSON.stringify(st, null, 2) + '\n');
  return true;
}

/**
 * The parameters of a BERT / XLM-R encoder under their Hugging Face names, read from and
 * written to a model folder (`config.json` + the weights in any of the hub's forms, see
 * `lib/nn/checkpoint.ts`; written back as `model.safetensors`).
 *
 * Names are kept without the checkpoint's prefix (`bert.`, `roberta.`, ...), which is
 * remembered and put back on save, together with every other tensor of the file (buffers
 * such as `embeddings.position_ids`, heads), each in its stored dtype.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { xlError } from '../../util/errors.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import { embeddingNames, rotaryParamShapes } from './families.js';
import { findCheckpoint, readCheckpoint, type CheckpointFiles } from '../../nn/checkpoint.js';
import type { SafeTensorsFile } from './safetensors.js';
import type { DenseModule } from '../../embed/st-modules.js';

/** An encoder's config and tensors. */
export interface EncoderWeights {
  config: EncoderConfig;
  /** config.json as read (written back unchanged). */
  configJson: Record<string, unknown>;
  /** All tensors of model.safetensors (float ones decoded to float32; the parameters below are views of these). */
  file: SafeTensorsFile;
  /** Prefix of the parameter names in the file (`''`, `'bert.'`, `'roberta.'`, ...). */
  prefix: string;
  /** Where the weights were read from (absent for weights built in memory). Saving always writes `model.safetensors`. */
  checkpoint?: CheckpointFiles;
  /** sentence-transformers' Dense modules after pooling (set by `TransformerEncoder`), parameters `<path>/linear.weight|bias`; saved into `<path>/model.safetensors`. */
  dense?: DenseModule[];
}

/** Canonical (unprefixed) names of the parameters of layer `i`. */
export function layerParamNames(i: number): string[] {
  const p = `encoder.layer.${i}.`;
  const wb = (n: string) => [`${p}${n}.weight`, `${p}${n}.bias`];
  return [
    ...wb('attention.self.query'), ...wb('attention.self.key'), ...wb('attention.self.value'),
    ...wb('attention.output.dense'), ...wb('attention.output.LayerNorm'),
    ...wb('intermediate.dense'), ...wb('output.dense'), ...wb('output.LayerNorm'),
  ];
}

/** The embedding-block parameters. */
export const EMBEDDING_PARAMS = [
  'embeddings.word_embeddings.weight',
  'embeddings.position_embeddings.weight',
  'embeddings.token_type_embeddings.weight',
  'embeddings.LayerNorm.weight',
  'embeddings.LayerNorm.bias',
] as const;

/** The pooler parameters (absent in some checkpoints, e.g. bge-m3). */
export const POOLER_PARAMS = ['pooler.dense.weight', 'pooler.dense.bias'] as const;

/** The shape of every parameter of an encoder with this config, by canonical name (pooler included). */
export function paramShapes(c: EncoderConfig): Map<string, number[]> {
  if (c.layout !== 'bert') return rotaryParamShapes(c);
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxPositions, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let i = 0; i < c.numLayers; i++) {
    const [qw, qb, kw, kb, vw, vb, aow, aob, alnw, alnb, iw, ib, ow, ob, lnw, lnb] = layerParamNames(i);
    for (const n of [qw, kw, vw, aow]) m.set(n, [H, H]);
    for (const n of [qb, kb, vb, aob, alnw, alnb, ob, lnw, lnb]) m.set(n, [H]);
    m.set(iw, [I, H]);
    m.set(ib, [I]);
    m.set(ow, [H, I]);
  }
  m.set('pooler.dense.weight', [H, H]);
  m.set('pooler.dense.bias', [H]);
  return m;
}

/**
 * The weights' float32 values of parameter `name` (a view: writing changes the weights).
 * `name@t` is the slice t along the first axis (one task's LoRA factor of jina-embeddings-v3).
 */
export function param(w: EncoderWeights, name: string): Float32Array {
  const slash = name.indexOf('/');
  if (slash > 0) {
    const d = w.dense?.find((m) => m.path === name.slice(0, slash));
    const t = d?.file.tensors.get(name.slice(slash + 1));
    if (!t?.data) throw xlError('param', `no Dense parameter '${name}'`);
    return t.data;
  }
  const at = name.lastIndexOf('@');
  const base = at < 0 ? name : name.slice(0, at);
  const t = w.file.tensors.get(w.prefix + base);
  if (!t?.data) throw xlError('param', `the checkpoint has no float tensor '${w.prefix + base}'`);
  if (at < 0) return t.data;
  const k = Number(name.slice(at + 1));
  const n = t.data.length / t.shape[0];
  if (!Number.isInteger(k) || k < 0 || k >= t.shape[0]) throw xlError('param', `'${name}': slice ${name.slice(at + 1)} is outside [0, ${t.shape[0]})`);
  return t.data.subarray(k * n, (k + 1) * n);
}

/** Whether the checkpoint has a pooler. */
export function hasPooler(w: EncoderWeights): boolean {
  return w.file.tensors.has(w.prefix + POOLER_PARAMS[0]);
}

/**
 * Check a folder before any long work: config.json parses with a supported model_type and
 * the weights exist in one of the hub's forms (`lib/nn/checkpoint.ts`: model.safetensors,
 * sharded safetensors with their index, pytorch_model.bin, sharded pytorch_model.bin). Reads no weights.
 * @throws XlalignError as {@link readEncoderWeights} for those files.
 * @example checkEncoderFolder('models/e5-small'); // { config, configJson, safetensors: '.../model.safetensors', checkpoint }
 */
export function checkEncoderFolder(dir: string): { config: EncoderConfig; configJson: Record<string, unknown>; safetensors: string; checkpoint: CheckpointFiles } {
  const where = 'readEncoderWeights';
  const root = resolve(dir);
  const configPath = join(root, 'config.json');
  if (!existsSync(configPath)) throw xlError(where, `${configPath} is missing; expected a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)`);
  let configJson: Record<string, unknown>;
  try {
    configJson = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw xlError(where, `${configPath} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const config = parseEncoderConfig(configJson, configPath);
  const checkpoint = findCheckpoint(root);
  if (!checkpoint) {
    const has = ['onnx/model.onnx', 'model.onnx', 'tf_model.h5', 'flax_model.msgpack'].filter((f) => existsSync(join(root, f)));
    const hint = has.length > 0
      ? ` (the folder has only ${has.join(', ')}: training needs the PyTorch/safetensors weights; get model.safetensors or pytorch_model.bin from the hub repo, or in Python: AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True))`
      : '';
    throw xlError(where, `${join(root, 'model.safetensors')} is missing; fine-tuning needs the weights as model.safetensors, model.safetensors.index.json + shards, or pytorch_model.bin${hint}`);
  }
  return { config, configJson, safetensors: checkpoint.files[0], checkpoint };
}

/**
 * Read `config.json` and the weights of a model folder (any form of {@link checkEncoderFolder};
 * float32, float16 or bfloat16) and check every parameter's name and shape against the config.
 * @throws XlalignError when the folder or config.json is missing, model_type is not
 *   supported, the weights are missing (naming what the folder has instead: ONNX weights),
 *   a pytorch_model.bin holds anything but a state dict, or a parameter is missing or has the wrong shape.
 * @example const w = readEncoderWeights('models/e5-small'); w.config.numLayers // 12
 */
export function readEncoderWeights(dir: string): EncoderWeights {
  const where = 'readEncoderWeights';
  const { config, configJson, checkpoint } = checkEncoderFolder(dir);
  const file = readCheckpoint(checkpoint);
  const stPath = checkpoint.index ?? checkpoint.files[0];
  const prefix = findPrefix(file, stPath, embeddingNames(config).word);
  const w: EncoderWeights = { config, configJson, file, prefix, checkpoint };
  for (const [name, shape] of paramShapes(config)) {
    const t = file.tensors.get(prefix + name);
    if (!t) {
      if ((POOLER_PARAMS as readonly string[]).includes(name)) continue;
      throw xlError(where, `${stPath}: tensor '${prefix + name}' is missing (model_type '${config.modelType}', ${config.numLayers} layers)`);
    }
    if (!t.data) throw xlError(where, `${stPath}: tensor '${prefix + name}' is ${t.dtype}; expected a float tensor`);
    if (t.shape.join(',') !== shape.join(',')) {
      throw xlError(where, `${stPath}: tensor '${prefix + name}' has shape [${t.shape.join(', ')}]; config.json implies [${shape.join(', ')}]`);
    }
  }
  return w;
}

function findPrefix(file: SafeTensorsFile, path: string, key: string): string {
  for (const name of file.tensors.keys()) if (name === key || name.endsWith('.' + key)) return name.slice(0, name.length - key.length);
  throw xlError('readEncoderWeights', `${path}: no tensor named '${key}' (or '<prefix>.${key}'); not a checkpoint of this model_type with Hugging Face names`);
}

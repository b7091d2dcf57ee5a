/**
 * Write an encoder as a Hugging Face model folder that transformers.js (and so xlalign's
 * `loadEmbedder`), `transformers.AutoModel` and sentence-transformers load:
 *
 * | file                         | content                                                        |
 * |------------------------------|----------------------------------------------------------------|
 * | `config.json`                | as read (`transformers.js_config.use_external_data_format` set when the export needs external data) |
 * | tokenizer files              | copied from the source folder (tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt, sentencepiece.bpe.model, sentence-transformers' modules.json, 1_Pooling/, ...) |
 * | `model.safetensors`          | every tensor of the source weights (model.safetensors, shards or pytorch_model.bin), same names, shapes and dtypes |
 * | `<n>_Dense/model.safetensors` | sentence-transformers' Dense modules with their (trained) weights; `modules.json`, `1_Pooling/config.json`, `config_sentence_transformers.json` written from `options.moduleChain` |
 * | `onnx/model.onnx[_data]`     | (`model.onnx_data`: the weights, when over ~1.5 GB, as ONNX external data) |
 * | `onnx/model.onnx`            | fp32, the stored values (F16/BF16 weights rounded as saved); hub export layout: `input_ids`, `attention_mask` [, `token_type_ids` for BERT] -> `last_hidden_state` (+ `pooler_output` with a pooler) |
 */
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { xlError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { writeModuleChain, type ModuleChain } from '../../embed/st-modules.js';
import { isWeightFile } from '../../nn/checkpoint.js';
import { buildExportGraph } from './graph.js';
import { hasPooler, param, paramShapes, type EncoderWeights } from './weights.js';
import { roundedToDtype, writeSafetensors } from './safetensors.js';

/** Files and folders of a source folder that are weights or exports (not copied; every weight form of `isWeightFile` too, shards included: the output has one model.safetensors). */
const NOT_COPIED = new Set(['onnx', 'config.json', '.git', 'tf_model.h5', 'flax_model.msgpack', 'openvino']);

/**
 * Write `weights` (and the tokenizer files of `sourceDir`) as a model folder at `outDir`.
 * config.json is written last, so a folder with config.json is complete.
 * @throws XlalignError when `outDir` is `sourceDir`'s weights (refuses to overwrite the input).
 * @example saveEncoderFolder(encoder.weights, encoder.sourceDir, 'runs/ft/model');
 */
export function saveEncoderFolder(weights: EncoderWeights, sourceDir: string | undefined, outDir: string, options: { externalData?: boolean; moduleChain?: ModuleChain } = {}): void {
  const out = resolve(outDir);
  if (sourceDir && resolve(sourceDir) === out) throw xlError('saveEncoderFolder', `${out} is the source folder; write the fine-tuned model to another folder`);
  mkdirSync(join(out, 'onnx'), { recursive: true });
  if (sourceDir) {
    for (const f of readdirSync(sourceDir)) {
      if (NOT_COPIED.has(f) || isWeightFile(f) || f.endsWith('.tmp')) continue;
      const src = join(sourceDir, f);
      cpSync(src, join(out, f), { recursive: statSync(src).isDirectory() });
    }
  }
  writeSafetensors(join(out, 'model.safetensors'), weights.file);
  // sentence-transformers' Dense modules (trained with the encoder): <path>/model.safetensors with linear.weight|bias, config.json as read
  for (const d of weights.dense ?? []) {
    const dir = join(out, d.path);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (isWeightFile(f)) rmSync(join(dir, f));
    writeSafetensors(join(dir, 'model.safetensors'), d.file);
    writeFileAtomic(join(dir, 'config.json'), JSON.stringify(d.configJson, null, 2) + '\n');
  }
  // the module chain the model was trained with (pooling, prompts, Normalize), so the folder embeds the same under any name
  if (options.moduleChain) writeModuleChain(out, options.moduleChain, weights.config.hiddenSize);
  const shapes = paramShapes(weights.config);
  // Over ~1.5 GB of weights the ONNX file would pass protobuf's 2 GB limit: external data then.
  let floatBytes = 0;
  for (const t of weights.file.tensors.values()) if (t.data) floatBytes += 4 * t.data.length;
  const external = options.externalData ?? floatBytes > 1.5e9;
  const { model, externalData } = buildExportGraph(weights.config, (n) => storedValues(weights, n), shapes, { pooler: hasPooler(weights), externalData: external ? 'model.onnx_data' : undefined });
  const dataPath = join(out, 'onnx', 'model.onnx_data');
  if (external) writeChunksAtomic(dataPath, externalData);
  else rmSync(dataPath, { force: true });
  writeFileAtomic(join(out, 'onnx', 'model.onnx'), model);
  // transformers.js loads onnx/model.onnx_data when config.json says so.
  const configJson = { ...weights.configJson };
  const tjs = { ...((configJson['transformers.js_config'] as Record<string, unknown> | undefined) ?? {}) };
  if (external) tjs.use_external_data_format = true;
  else delete tjs.use_external_data_format;
  if (Object.keys(tjs).length > 0) configJson['transformers.js_config'] = tjs;
  else delete configJson['transformers.js_config'];
  writeFileAtomic(join(out, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');
}

/** Write `chunks` one after another into `path`, atomically (temporary file, then rename). */
function writeChunksAtomic(path: string, chunks: Uint8Array[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) {
      let done = 0;
      while (done < c.length) done += writeSync(fd, c, done, Math.min(c.length - done, 1 << 30));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The values of parameter `name` as model.safetensors stores them (rounded to F16/BF16 when that is its dtype), so the ONNX export equals the safetensors file. */
function storedValues(w: EncoderWeights, name: string): Float32Array {
  const dtype = w.file.tensors.get(w.prefix + name)!.dtype;
  return dtype === 'F32' ? param(w, name) : roundedToDtype(param(w, name), dtype);
}

/**
 * Write a model folder from scratch: config.json, tokenizer files, model.safetensors and
 * onnx/model.onnx (for test models and random-weight benchmark models).
 */
export function writeEncoderFolder(dir: string, weights: EncoderWeights, files: { tokenizer: object; tokenizerConfig: object; extra?: Record<string, string> }): void {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  writeFileAtomic(join(out, 'tokenizer.json'), JSON.stringify(files.tokenizer));
  writeFileAtomic(join(out, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2) + '\n');
  for (const [name, content] of Object.entries(files.extra ?? {})) writeFileAtomic(join(out, name), content);
  saveEncoderFolder(weights, undefined, out);
}

/** Whether `dir` holds a complete encoder folder written by {@link saveEncoderFolder}. */
export function isEncoderFolder(dir: string): boolean {
  return ['config.json', 'model.safetensors', 'onnx/model.onnx'].every((f) => existsSync(join(dir, f)));
}

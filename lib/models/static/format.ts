/**
 * Static embedding models in the Hugging Face folder layout, so that transformers.js (and
 * so {@link loadEmbedder}) loads them offline like any BERT-style encoder.
 *
 * A static model is one embedding table: token id -> vector, no attention, no position.
 * The ONNX graph is a single `Gather` over the table; transformers.js feeds `input_ids`
 * and `attention_mask` and the embedder mean-pools `last_hidden_state` over the mask, so
 * a text's vector is the mean of its tokens' rows (the tokenizer's special tokens
 * included when its post-processor adds them).
 *
 * Folder layout written by {@link writeStaticModel}:
 *
 * | file                    | content                                                   |
 * |-------------------------|-----------------------------------------------------------|
 * | `config.json`           | `model_type: 'bert'` (so AutoModel picks an encoder), sizes, `xlalign_static` |
 * | `tokenizer.json`        | the full tokenizers JSON (WordPiece, Unigram, ...)        |
 * | `tokenizer_config.json` | given, or a BERT-style default                            |
 * | `onnx/model.onnx`       | inputs `input_ids`, `attention_mask` [batch, seq] int64; output `last_hidden_state` [batch, seq, dim] fp32; the table is the fp32 initializer `embeddings` (raw_data) |
 * | `README.md`             | the card                                                  |
 *
 * The ONNX protobuf is built with the `onnx-proto` package (generated protobufjs code for
 * onnx.proto), so no byte is hand-encoded.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { xlError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { tensorInfo } from '../../util/onnx-graph.js';

const { onnx } = onnxProto;

/** A static embedding model in memory. */
export interface StaticModel {
  /** The table, `vocabSize x dim`, row-major (row `i` is token id `i`). */
  embeddings: Float32Array;
  /** Number of rows; must cover every id of the tokenizer's vocabulary and added tokens. */
  vocabSize: number;
  /** Vector size. */
  dim: number;
  /** The full `tokenizer.json` content (a Hugging Face tokenizers object). */
  tokenizer: object;
  /** `tokenizer_config.json`; default: a BERT-style config ({@link defaultTokenizerConfig}). */
  tokenizerConfig?: object;
  /** Model name recorded in config.json and the card; default `'xlalign-static'`. */
  name?: string;
  /** README.md content; default: a short generated card. */
  card?: string;
}

/** Name of the table initializer inside `onnx/model.onnx`. */
export const STATIC_TABLE_NAME = 'embeddings';
/** ONNX opset the graph declares (Gather has been stable since 13). */
export const STATIC_OPSET = 13;

const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;

/**
 * Write a static model as a Hugging Face folder that transformers.js loads offline.
 *
 * Contract: after `writeStaticModel(dir, m)`, `loadEmbedder(dir, { pooling: 'mean',
 * normalize: false })` embeds a text as the mean of `m.embeddings` rows of its token ids
 * (as `tokenizer.json` tokenizes it). Every file is written atomically (temporary file,
 * then rename); the folder is created if missing; existing files are replaced.
 *
 * @param dir  output folder.
 * @param model  the table, sizes and tokenizer; see {@link StaticModel}.
 * @param options  {@link StaticOnnxOptions} (default: inputs `input_ids`, `attention_mask`).
 * @throws XlalignError when `embeddings.length !== vocabSize * dim`, a value is not finite,
 *   the tokenizer is not a tokenizers JSON object (no `model` field) or one of its token
 *   ids is outside `[0, vocabSize)`.
 * @example
 * writeStaticModel('models/default', { embeddings, vocabSize: 30000, dim: 256, tokenizer: JSON.parse(tokJson) });
 * const emb = await loadEmbedder('models/default');
 */
export function writeStaticModel(dir: string, model: StaticModel, options: StaticOnnxOptions = {}): void {
  const where = 'writeStaticModel';
  const { embeddings, vocabSize, dim, tokenizer } = model;
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) throw xlError(where, `vocabSize must be a positive integer, got ${vocabSize}`);
  if (!Number.isInteger(dim) || dim <= 0) throw xlError(where, `dim must be a positive integer, got ${dim}`);
  if (!(embeddings instanceof Float32Array)) throw xlError(where, 'embeddings must be a Float32Array (vocabSize x dim, row-major)');
  if (embeddings.length !== vocabSize * dim) {
    throw xlError(where, `embeddings has ${embeddings.length} values; expected vocabSize x dim = ${vocabSize} x ${dim} = ${vocabSize * dim}`);
  }
  for (let i = 0; i < embeddings.length; i++) {
    if (!Number.isFinite(embeddings[i])) {
      throw xlError(where, `embeddings[${i}] (token ${Math.floor(i / dim)}, component ${i % dim}) is ${embeddings[i]}; all values must be finite`);
    }
  }
  const maxId = maxTokenId(tokenizer, where);
  if (maxId >= vocabSize) {
    throw xlError(where, `the tokenizer has token id ${maxId} but the table has only ${vocabSize} rows (ids 0..${vocabSize - 1}); pass vocabSize > ${maxId}`);
  }
  const name = model.name ?? 'xlalign-static';
  const config = {
    _name_or_path: name,
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: dim,
    vocab_size: vocabSize,
    max_position_embeddings: 8192,
    xlalign_static: { kind: 'static-embedding', table: STATIC_TABLE_NAME, opset: STATIC_OPSET, pooling: 'mean' },
  };
  const tokenizerConfig = model.tokenizerConfig ?? defaultTokenizerConfig(model.tokenizer);
  const card = model.card ?? defaultCard(name, vocabSize, dim);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileAtomic(join(dir, 'onnx', 'model.onnx'), buildStaticOnnx(embeddings, vocabSize, dim, options));
  writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n');
  writeFileAtomic(join(dir, 'README.md'), card);
  // config.json last: a folder with a config.json is a complete model.
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
}

/**
 * Read back a static model written by {@link writeStaticModel} (to continue training from
 * it). The table is decoded from the `embeddings` initializer of `onnx/model.onnx`.
 *
 * @param dir  a folder written by {@link writeStaticModel}.
 * @returns the table, sizes, tokenizer, tokenizer config, name and card.
 * @throws XlalignError when a file is missing or unreadable, or the ONNX file has no fp32
 *   initializer `embeddings` of shape [vocabSize, dim].
 * @example
 * const m = readStaticModel('models/default'); // m.embeddings.length === m.vocabSize * m.dim
 */
export function readStaticModel(dir: string): StaticModel {
  const where = 'readStaticModel';
  const path = (f: string): string => {
    const p = resolve(dir, f);
    if (!existsSync(p)) throw xlError(where, `${p} is missing; expected a folder written by writeStaticModel (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)`);
    return p;
  };
  const readJson = (f: string): Record<string, unknown> => {
    const p = path(f);
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw xlError(where, `${p} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  };
  const config = readJson('config.json');
  const tokenizer = readJson('tokenizer.json');
  const tokenizerConfig = readJson('tokenizer_config.json');
  const onnxPath = path(join('onnx', 'model.onnx'));
  let decoded;
  try {
    decoded = onnx.ModelProto.decode(readFileSync(onnxPath));
  } catch (e) {
    throw xlError(where, `${onnxPath} is not an ONNX model: ${(e as Error).message}`, { cause: e });
  }
  const init = decoded.graph?.initializer?.find((t) => t.name === STATIC_TABLE_NAME);
  if (!init) throw xlError(where, `${onnxPath} has no initializer '${STATIC_TABLE_NAME}'; not a static model written by writeStaticModel`);
  const dims = init.dims ?? [];
  if (init.dataType !== TENSOR_FLOAT || dims.length !== 2) {
    throw xlError(where, `${onnxPath}: initializer '${STATIC_TABLE_NAME}' must be fp32 with 2 dims, got dataType ${init.dataType} dims [${dims.join(', ')}]`);
  }
  const vocabSize = Number(dims[0]);
  const dim = Number(dims[1]);
  let embeddings: Float32Array;
  if (init.rawData && init.rawData.length > 0) {
    if (init.rawData.length !== vocabSize * dim * 4) {
      throw xlError(where, `${onnxPath}: '${STATIC_TABLE_NAME}' raw_data has ${init.rawData.length} bytes; expected ${vocabSize} x ${dim} x 4`);
    }
    // Copy into a fresh (aligned) buffer, reading little-endian as ONNX raw_data is.
    const view = new DataView(init.rawData.buffer, init.rawData.byteOffset, init.rawData.byteLength);
    embeddings = new Float32Array(vocabSize * dim);
    for (let i = 0; i < embeddings.length; i++) embeddings[i] = view.getFloat32(i * 4, true);
  } else if (init.floatData && init.floatData.length === vocabSize * dim) {
    embeddings = Float32Array.from(init.floatData);
  } else {
    throw xlError(where, `${onnxPath}: '${STATIC_TABLE_NAME}' has no data (raw_data or float_data of ${vocabSize * dim} values)`);
  }
  const readme = resolve(dir, 'README.md');
  return {
    embeddings,
    vocabSize,
    dim,
    tokenizer,
    tokenizerConfig,
    name: typeof config._name_or_path === 'string' ? config._name_or_path : undefined,
    card: existsSync(readme) ? readFileSync(readme, 'utf8') : undefined,
  };
}

/** Options of {@link buildStaticOnnx} / {@link writeStaticModel}. */
export interface StaticOnnxOptions {
  /**
   * Also declare a `token_type_ids` input (unused by the graph), as BERT exports have, so
   * transformers.js feeds it. Default `false`.
   */
  tokenTypeIds?: boolean;
}

/**
 * Build the ONNX bytes of a static model: `last_hidden_state = Gather(embeddings, input_ids)`
 * with `attention_mask` declared as an input (transformers.js always feeds it; the graph
 * does not use it, pooling applies the mask), and `token_type_ids` when `options.tokenTypeIds`.
 *
 * @param embeddings  `vocabSize x dim` fp32, row-major; stored as raw_data, little-endian.
 * @example const bytes = buildStaticOnnx(table, 12, 4);
 */
export function buildStaticOnnx(embeddings: Float32Array, vocabSize: number, dim: number, options: StaticOnnxOptions = {}): Uint8Array {
  const { tokenTypeIds = false } = options;
  const raw = new Uint8Array(vocabSize * dim * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < vocabSize * dim; i++) view.setFloat32(i * 4, embeddings[i], true); // ONNX raw_data is little-endian
  const seqInput = (name: string) => tensorInfo(name, TENSOR_INT64, ['batch_size', 'sequence_length']);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'xlalign',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: STATIC_OPSET }],
    graph: {
      name: 'static_embedding',
      node: [{ opType: 'Gather', input: [STATIC_TABLE_NAME, 'input_ids'], output: ['last_hidden_state'], name: 'lookup', attribute: [{ name: 'axis', type: 2 /* INT */, i: 0 }] }],
      initializer: [{ name: STATIC_TABLE_NAME, dataType: TENSOR_FLOAT, dims: [vocabSize, dim], rawData: raw }],
      input: [seqInput('input_ids'), seqInput('attention_mask'), ...(tokenTypeIds ? [seqInput('token_type_ids')] : [])],
      output: [tensorInfo('last_hidden_state', TENSOR_FLOAT, ['batch_size', 'sequence_length', dim])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A BERT-style `tokenizer_config.json` (the fields transformers.js reads): used when
 * {@link StaticModel.tokenizerConfig} is not given. `do_lower_case` is read from the
 * tokenizer's own normalizer (`tokenizer.json`), so the two files never disagree.
 */
export function defaultTokenizerConfig(tokenizer?: object): Record<string, unknown> {
  const normalizer = (tokenizer as { normalizer?: { lowercase?: boolean } } | undefined)?.normalizer;
  return {
    tokenizer_class: 'BertTokenizer',
    model_max_length: 8192,
    do_lower_case: normalizer?.lowercase ?? false,
    clean_up_tokenization_spaces: true,
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
  };
}

function defaultCard(name: string, vocabSize: number, dim: number): string {
  return `# ${name}\n\nStatic embedding model written by xlalign (\`writeStaticModel\`): one table of ${vocabSize} tokens x ${dim} dims; a text's vector is the mean of its tokens' rows.\n\nLoad with \`loadEmbedder('<this folder>')\` or transformers.js \`AutoModel.from_pretrained\` (ONNX graph: Gather over the table, output \`last_hidden_state\`).\n`;
}

/** The largest token id in a tokenizers JSON (model vocab and added tokens). */
function maxTokenId(tokenizer: object, where: string): number {
  const tok = tokenizer as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] };
  if (tok === null || typeof tok !== 'object' || typeof tok.model !== 'object' || tok.model === null) {
    throw xlError(where, "tokenizer must be the content of a tokenizer.json (an object with a 'model' field)");
  }
  let max = -1;
  const vocab = tok.model.vocab;
  if (Array.isArray(vocab)) {
    max = vocab.length - 1; // Unigram: [token, score][], id = index
  } else if (vocab && typeof vocab === 'object') {
    for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw xlError(where, `tokenizer.model.vocab['${token}'] = ${String(id)}; ids must be integers >= 0`);
      if (id > max) max = id;
    }
  } else {
    throw xlError(where, 'tokenizer.model.vocab is missing; expected an object token -> id (WordPiece, BPE) or an array (Unigram)');
  }
  for (const [i, t] of (tok.added_tokens ?? []).entries()) {
    if (typeof t.id !== 'number' || !Number.isInteger(t.id) || t.id < 0) throw xlError(where, `tokenizer.added_tokens[${i}].id must be an integer >= 0`);
    if (t.id > max) max = t.id;
  }
  return max;
}

/**
 * Random-weight encoders with Hugging Face names, for tests, the notebook's offline model and
 * the benchmark (multilingual-e5-small's shape). Initialisation as BERT's `_init_weights`:
 * weights N(0, 0.02²), biases 0, LayerNorm γ = 1, β = 0; seeded.
 */
import { createRng } from '../../util/rng.js';
import { parseEncoderConfig, type EncoderModelType } from './config.js';
import { roundedToDtype, type SafeTensor } from './safetensors.js';
import { paramShapes, type EncoderWeights } from './weights.js';

/** Sizes of a random encoder (config.json field names). */
export interface RandomEncoderSpec {
  modelType: EncoderModelType;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions?: number;
  padTokenId?: number;
  /** Initial weight standard deviation. Default 0.02. */
  std?: number;
  /** Stored dtype of the float tensors. Default 'F32'. */
  dtype?: 'F32' | 'F16' | 'BF16';
  seed?: number;
  /** Include pooler weights. Default true. */
  pooler?: boolean;
}

/** The config.json object of a spec. */
export function randomEncoderConfigJson(s: RandomEncoderSpec): Record<string, unknown> {
  const xlmr = s.modelType === 'xlm-roberta';
  return {
    architectures: [xlmr ? 'XLMRobertaModel' : 'BertModel'],
    model_type: s.modelType,
    vocab_size: s.vocabSize,
    hidden_size: s.hiddenSize,
    num_hidden_layers: s.numLayers,
    num_attention_heads: s.numHeads,
    intermediate_size: s.intermediateSize,
    max_position_embeddings: s.maxPositions ?? (xlmr ? 514 : 512),
    type_vocab_size: xlmr ? 1 : 2,
    layer_norm_eps: xlmr ? 1e-5 : 1e-12,
    pad_token_id: s.padTokenId ?? (xlmr ? 1 : 0),
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
  };
}

/**
 * Random weights for a spec (names without prefix; `embeddings.position_ids` buffer included
 * for BERT as older checkpoints have it).
 * @example const w = randomEncoderWeights({ modelType: 'bert', vocabSize: 40, hiddenSize: 32, numLayers: 2, numHeads: 2, intermediateSize: 64 });
 */
export function randomEncoderWeights(s: RandomEncoderSpec): EncoderWeights {
  const configJson = randomEncoderConfigJson(s);
  const config = parseEncoderConfig(configJson, 'randomEncoderWeights');
  const rng = createRng(s.seed ?? 1);
  const std = s.std ?? 0.02;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, shape] of paramShapes(config)) {
    if (name.startsWith('pooler.') && s.pooler === false) continue;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (name.endsWith('.weight')) for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    tensors.set(name, { dtype: s.dtype ?? 'F32', shape, data });
  }
  if (s.modelType === 'bert') {
    const raw = new Uint8Array(config.maxPositions * 8);
    const v = new DataView(raw.buffer);
    for (let i = 0; i < config.maxPositions; i++) v.setBigInt64(i * 8, BigInt(i), true);
    tensors.set('embeddings.position_ids', { dtype: 'I64', shape: [1, config.maxPositions], raw });
  }
  if (s.dtype && s.dtype !== 'F32') {
    // Round to the stored dtype now so that in-memory values equal what a reload reads.
    for (const t of tensors.values()) if (t.data) t.data = roundedToDtype(t.data, s.dtype);
  }
  return { config, configJson, file: { tensors, metadata: { format: 'pt' } }, prefix: '' };
}

/**
 * A small BERT whose word-embedding table is a given token table (e.g. the default static
 * model's): random transformer layers (N(0, std²), near-identity through the residual
 * connections) on top of pretrained token vectors. The notebook's offline encoder.
 * @example const w = encoderFromTable(m.embeddings, m.vocabSize, m.dim, { numLayers: 1, numHeads: 8 });
 */
export function encoderFromTable(
  table: Float32Array,
  vocabSize: number,
  dim: number,
  options: { numLayers?: number; numHeads?: number; intermediateSize?: number; maxPositions?: number; std?: number; seed?: number } = {},
): EncoderWeights {
  const { numLayers = 1, numHeads = 8, intermediateSize = 2 * dim, maxPositions = 512, std = 0.02, seed = 1 } = options;
  const w = randomEncoderWeights({ modelType: 'bert', vocabSize, hiddenSize: dim, numLayers, numHeads, intermediateSize, maxPositions, std, seed });
  w.file.tensors.get('embeddings.word_embeddings.weight')!.data!.set(table);
  // Positions and token types start at zero, so the first layer sees the token vectors themselves.
  w.file.tensors.get('embeddings.position_embeddings.weight')!.data!.fill(0);
  w.file.tensors.get('embeddings.token_type_embeddings.weight')!.data!.fill(0);
  return w;
}

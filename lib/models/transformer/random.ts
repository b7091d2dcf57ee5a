/**
 * Random-weight encoders with Hugging Face names, for tests, the notebook's offline model and
 * the benchmark (multilingual-e5-small's shape). Initialisation as BERT's `_init_weights`:
 * weights N(0, 0.02²), biases 0, LayerNorm γ = 1, β = 0; seeded.
 */
import { createRng } from '../../util/rng.js';
import { parseEncoderConfig, type EncoderLayout, type EncoderModelType } from './config.js';
import { roundedToDtype, type SafeTensor } from './safetensors.js';
import { paramShapes, type EncoderWeights } from './weights.js';

/** Sizes of a random encoder (config.json field names). */
export interface RandomEncoderSpec {
  modelType: EncoderModelType;
  /** `'jina-lora'` with modelType `xlm-roberta`: jina-embeddings-v3's rotary XLM-R with task adapters. Default: the model type's layout. */
  layout?: EncoderLayout;
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

/** The five tasks of jina-embeddings-v3 (`lora_adaptations`) and their instructions (`task_instructions`), as its config.json has them. */
export const JINA_V3_TASKS: Record<string, string> = {
  'retrieval.query': 'Represent the query for retrieving evidence documents: ',
  'retrieval.passage': 'Represent the document for retrieval: ',
  separation: '',
  classification: '',
  'text-matching': '',
};

/**
 * The config.json object of a spec. gte ('new') and jina-embeddings-v3 carry every field of
 * the real checkpoints' config.json (remote-code `auto_map` included), at the spec's sizes.
 */
export function randomEncoderConfigJson(s: RandomEncoderSpec): Record<string, unknown> {
  const sizes = {
    vocab_size: s.vocabSize, hidden_size: s.hiddenSize, num_hidden_layers: s.numLayers, num_attention_heads: s.numHeads, intermediate_size: s.intermediateSize,
  };
  if (s.modelType === 'new') {
    // gte-multilingual-base's config.json (Alibaba-NLP/new-impl NewConfig fields).
    return {
      architectures: ['NewForTokenClassification'],
      auto_map: { AutoConfig: 'Alibaba-NLP/new-impl--configuration.NewConfig', AutoModel: 'Alibaba-NLP/new-impl--modeling.NewModel', AutoModelForTokenClassification: 'Alibaba-NLP/new-impl--modeling.NewForTokenClassification' },
      model_type: 'new', ...sizes,
      max_position_embeddings: s.maxPositions ?? 8192, type_vocab_size: 1, layer_norm_eps: 1e-12, pad_token_id: s.padTokenId ?? 1,
      hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.0, classifier_dropout: 0.0, initializer_range: 0.02,
      position_embedding_type: 'rope', rope_theta: 20000, rope_scaling: { factor: 8.0, type: 'ntk' }, layer_norm_type: 'layer_norm',
      pack_qkv: true, unpad_inputs: true, use_memory_efficient_attention: true, logn_attention_scale: false, logn_attention_clip1: false,
      torch_dtype: 'float32',
    };
  }
  if (s.layout === 'jina-lora') {
    // jina-embeddings-v3's config.json (jinaai/xlm-roberta-flash-implementation XLMRobertaFlashConfig fields).
    return {
      architectures: ['XLMRobertaLoRA'],
      auto_map: { AutoConfig: 'jinaai/xlm-roberta-flash-implementation--configuration_xlm_roberta.XLMRobertaFlashConfig', AutoModel: 'jinaai/xlm-roberta-flash-implementation--modeling_lora.XLMRobertaLoRA' },
      model_type: 'xlm-roberta', ...sizes,
      max_position_embeddings: s.maxPositions ?? 8194, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: s.padTokenId ?? 1, bos_token_id: 0, eos_token_id: 2,
      hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, initializer_range: 0.02,
      position_embedding_type: 'rotary', rotary_emb_base: 20000.0,
      lora_adaptations: Object.keys(JINA_V3_TASKS), task_instructions: JINA_V3_TASKS, lora_rank: 4, lora_alpha: 1, lora_dropout_p: 0.0, lora_main_params_trainable: false, load_trained_adapters: true,
      use_flash_attn: true, emb_pooler: null, matryoshka_dimensions: [32, 64, 128, 256, 512, 768, 1024], truncate_dim: null, torch_dtype: 'float32',
    };
  }
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
    if (name.startsWith('pooler.') && (s.pooler === false || (config.layout !== 'bert' && s.pooler !== true))) continue;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (/(LayerNorm|_ln|norm\d)\.weight$/.test(name)) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < n; i++) data[i] = rng.normal() * std; // weights, jina's '.original' and LoRA factors
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

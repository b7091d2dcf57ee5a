/**
 * `config.json` of the supported encoder families, as Hugging Face writes it, reduced
 * to what the forward pass needs. One home for the family differences:
 *
 * | family (`layout`)                  | config.json                                         | positions                                              | token types              |
 * |------------------------------------|-----------------------------------------------------|--------------------------------------------------------|--------------------------|
 * | `bert`                             | `model_type: bert`                                  | 0, 1, ..., T−1 (absolute table)                        | input `token_type_ids`   |
 * | `bert` (XLM-R)                     | `model_type: xlm-roberta`                           | pad + cumsum(id ≠ pad) at tokens, pad at padding (HF `create_position_ids_from_input_ids`) | always type 0 (no input) |
 * | `new` (gte-multilingual-base)      | `model_type: new`, `position_embedding_type: rope`  | 0, 1, ..., T−1, rotary (`rope_theta`, NTK `rope_scaling`) | type 0 (input `token_type_ids` when `type_vocab_size` > 0) |
 * | `jina-lora` (jina-embeddings-v3)   | `model_type: xlm-roberta`, `position_embedding_type: rotary`, `lora_adaptations` | 0, 1, ..., T−1, rotary (`rotary_emb_base`) | always type 0 (no input) |
 *
 * The layer layouts themselves are in `families.ts`.
 */
import { z } from 'zod';
import { xlError } from '../../util/errors.js';

/** The supported `model_type` values. */
export const ENCODER_MODEL_TYPES = ['bert', 'xlm-roberta', 'new'] as const;
export type EncoderModelType = (typeof ENCODER_MODEL_TYPES)[number];

/** The layer layout (parameter names, blocks): see the table above and `families.ts`. */
export type EncoderLayout = 'bert' | 'new' | 'jina-lora';

/** Rotary position embedding (Su et al. 2021, rotate-half form): per head, pairs (d, d + dh/2) turn by pos·invFreq[d]. */
export interface RopeConfig {
  /** Base θ (gte `rope_theta`, jina `rotary_emb_base`). */
  theta: number;
  /** gte's fixed NTK scaling (`rope_scaling: {type: 'ntk', factor}`): invFreq = (θ·f)^(−2d/dh) / f^(2/dh). */
  ntkFactor?: number;
}

/** jina-embeddings-v3's per-task LoRA adapters on every linear and embedding layer: W + (α/r)·B_t A_t. */
export interface LoraConfig {
  /** Task names in adapter order (`lora_adaptations`): the index is the `task_id`. */
  tasks: string[];
  rank: number;
  alpha: number;
}

/** Sizes and constants of one encoder (camelCase of the config.json fields). */
export interface EncoderConfig {
  modelType: EncoderModelType;
  /** Layer layout (`bert` for BERT and XLM-R). */
  layout: EncoderLayout;
  /** Rotary embeddings (layouts `new`, `jina-lora`); absent for absolute positions. */
  rope?: RopeConfig;
  /** Task LoRA adapters (layout `jina-lora`). */
  lora?: LoraConfig;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** Pad token id (XLM-R positions are offset by it + 1). */
  padTokenId: number;
}

const schema = z.object({
  model_type: z.string(),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  type_vocab_size: z.number().int().nonnegative().default(2),
  layer_norm_eps: z.number().positive().default(1e-12),
  pad_token_id: z.number().int().nonnegative().default(0),
  hidden_act: z.string().default('gelu'),
  position_embedding_type: z.string().default('absolute'),
  // gte "new" (Alibaba-NLP/new-impl configuration.py)
  rope_theta: z.number().positive().default(10000),
  rope_scaling: z.object({ type: z.string(), factor: z.number().positive(), mixed_b: z.number().nullable().optional() }).nullable().default(null),
  layer_norm_type: z.string().default('layer_norm'),
  pack_qkv: z.boolean().default(true),
  logn_attention_scale: z.boolean().default(false),
  // jina-embeddings-v3 (jinaai/xlm-roberta-flash-implementation configuration_xlm_roberta.py)
  rotary_emb_base: z.number().positive().default(10000),
  lora_adaptations: z.array(z.string()).min(1).nullable().optional(),
  lora_rank: z.number().int().positive().default(4),
  lora_alpha: z.number().positive().default(1),
});

/**
 * Parse a config.json object.
 * @param source  file name for messages.
 * @throws XlalignError for an unsupported `model_type`, activation or position embedding, a
 *   missing field, or a hidden size not divisible by the head count.
 * @example parseEncoderConfig(JSON.parse(readFileSync('m/config.json', 'utf8')), 'm/config.json')
 */
export function parseEncoderConfig(json: unknown, source: string): EncoderConfig {
  const where = 'parseEncoderConfig';
  if ((json as { xlalign_static?: unknown })?.xlalign_static) {
    throw xlError(where, `${source}: this is an xlalign static model (one token table, no transformer layers); fine-tune it with the static model head, not as an encoder`);
  }
  const type = (json as { model_type?: unknown })?.model_type;
  if (!(ENCODER_MODEL_TYPES as readonly unknown[]).includes(type)) {
    throw xlError(where, `${source}: unsupported model_type '${String(type)}'; use ${ENCODER_MODEL_TYPES.map((t) => `'${t}'`).join(' or ')}`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw xlError(where, `${source}: field '${issue.path.join('.')}': ${issue.message}`);
  }
  const c = r.data;
  if (c.hidden_act !== 'gelu') throw xlError(where, `${source}: unsupported hidden_act '${c.hidden_act}'; use 'gelu' (erf)`);
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw xlError(where, `${source}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  }
  let layout: EncoderLayout = 'bert';
  let rope: RopeConfig | undefined;
  let lora: LoraConfig | undefined;
  if (c.model_type === 'new') {
    layout = 'new';
    if (c.position_embedding_type !== 'rope') throw xlError(where, `${source}: model_type 'new' with position_embedding_type '${c.position_embedding_type}' is not supported; use 'rope' (gte-multilingual-base)`);
    if (c.layer_norm_type !== 'layer_norm') throw xlError(where, `${source}: unsupported layer_norm_type '${c.layer_norm_type}'; use 'layer_norm'`);
    if (!c.pack_qkv) throw xlError(where, `${source}: pack_qkv false (separate q/k/v projections) is not supported; use a checkpoint with qkv_proj`);
    if (c.logn_attention_scale) throw xlError(where, `${source}: logn_attention_scale true is not supported`);
    if (c.rope_scaling && (c.rope_scaling.type !== 'ntk' || c.rope_scaling.mixed_b != null)) throw xlError(where, `${source}: rope_scaling '${c.rope_scaling.type}'${c.rope_scaling.mixed_b != null ? ' with mixed_b' : ''} is not supported; use {type: 'ntk', factor} or null`);
    rope = { theta: c.rope_theta, ...(c.rope_scaling ? { ntkFactor: c.rope_scaling.factor } : {}) };
  } else if (c.model_type === 'xlm-roberta' && c.position_embedding_type === 'rotary') {
    layout = 'jina-lora';
    if (!c.lora_adaptations) throw xlError(where, `${source}: an XLM-R with rotary embeddings needs 'lora_adaptations' (jina-embeddings-v3); none found`);
    if (c.type_vocab_size < 1) throw xlError(where, `${source}: field 'type_vocab_size' must be >= 1 for jina-embeddings-v3`);
    rope = { theta: c.rotary_emb_base };
    lora = { tasks: c.lora_adaptations, rank: c.lora_rank, alpha: c.lora_alpha };
  } else {
    if (c.position_embedding_type !== 'absolute') throw xlError(where, `${source}: unsupported position_embedding_type '${c.position_embedding_type}' for model_type '${c.model_type}'; use 'absolute' (or 'rotary' with lora_adaptations: jina-embeddings-v3)`);
    if (c.type_vocab_size < 1) throw xlError(where, `${source}: field 'type_vocab_size' must be >= 1`);
  }
  const hd = c.hidden_size / c.num_attention_heads;
  if (rope && hd % 2 !== 0) throw xlError(where, `${source}: rotary embeddings need an even head size; hidden_size / num_attention_heads = ${hd}`);
  return {
    modelType: c.model_type as EncoderModelType,
    layout,
    ...(rope ? { rope } : {}),
    ...(lora ? { lora } : {}),
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    intermediateSize: c.intermediate_size,
    maxPositions: c.max_position_embeddings,
    typeVocabSize: c.type_vocab_size,
    layerNormEps: c.layer_norm_eps,
    padTokenId: c.pad_token_id,
  };
}

/** Positions a text may span: the absolute table's rows (XLM-R: less the pad offset), the rotary models' `max_position_embeddings`. */
export function maxTextPositions(c: EncoderConfig): number {
  return c.modelType === 'bert' || c.rope ? c.maxPositions : c.maxPositions - c.padTokenId - 1;
}

/**
 * The rotary inverse frequencies invFreq[d], d < dh/2, as the hub code computes them
 * (new-impl `NTKScalingRotaryEmbedding` builds its cache at max_position_embeddings·factor, so
 * the NTK base applies at every length), rounded to float32 as PyTorch holds them.
 */
export function ropeInvFreq(c: EncoderConfig): Float32Array {
  const r = c.rope;
  if (!r) throw xlError('ropeInvFreq', `model_type '${c.modelType}' has no rotary embeddings`);
  const dh = c.hiddenSize / c.numHeads;
  const f = r.ntkFactor ?? 1;
  const base = r.theta * f;
  return Float32Array.from({ length: dh / 2 }, (_, d) => 1 / Math.pow(base, (2 * d) / dh) / (r.ntkFactor ? Math.pow(f, 2 / dh) : 1));
}

/** Position ids of one padded row of token ids, as the family defines them (see the table above). */
export function positionIds(config: EncoderConfig, ids: ArrayLike<number>, out: Int32Array = new Int32Array(ids.length)): Int32Array {
  if (config.modelType === 'bert' || config.rope) {
    for (let t = 0; t < ids.length; t++) out[t] = t;
  } else {
    let c = 0;
    for (let t = 0; t < ids.length; t++) {
      if (ids[t] !== config.padTokenId) out[t] = config.padTokenId + ++c;
      else out[t] = config.padTokenId;
    }
  }
  return out;
}

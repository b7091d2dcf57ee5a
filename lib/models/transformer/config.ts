/**
 * `config.json` of the two supported encoder families, as Hugging Face writes it, reduced
 * to what the forward pass needs. One home for the family differences:
 *
 * | family        | positions                                              | token types              |
 * |---------------|--------------------------------------------------------|--------------------------|
 * | `bert`        | 0, 1, ..., T−1                                         | input `token_type_ids`   |
 * | `xlm-roberta` | pad + cumsum(id ≠ pad) at tokens, pad at padding (HF `create_position_ids_from_input_ids`) | always type 0 (no input) |
 */
import { z } from 'zod';
import { xlError } from '../../util/errors.js';

/** The supported `model_type` values. */
export const ENCODER_MODEL_TYPES = ['bert', 'xlm-roberta'] as const;
export type EncoderModelType = (typeof ENCODER_MODEL_TYPES)[number];

/** Sizes and constants of one encoder (camelCase of the config.json fields). */
export interface EncoderConfig {
  modelType: EncoderModelType;
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
  type_vocab_size: z.number().int().positive().default(2),
  layer_norm_eps: z.number().positive().default(1e-12),
  pad_token_id: z.number().int().nonnegative().default(0),
  hidden_act: z.string().default('gelu'),
  position_embedding_type: z.string().default('absolute'),
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
  if (c.position_embedding_type !== 'absolute') throw xlError(where, `${source}: unsupported position_embedding_type '${c.position_embedding_type}'; use 'absolute'`);
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw xlError(where, `${source}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  }
  return {
    modelType: c.model_type as EncoderModelType,
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

/** Position ids of one padded row of token ids, as the family defines them (see the table above). */
export function positionIds(config: EncoderConfig, ids: ArrayLike<number>, out: Int32Array = new Int32Array(ids.length)): Int32Array {
  if (config.modelType === 'bert') {
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

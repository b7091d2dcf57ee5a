/**
 * The encoder's ONNX graphs, built with the reverse-mode tape of `lib/nn/onnx-autodiff.ts`:
 *
 * - the **training graph**: inputs `inputs_embeds` [M, H] (word + token type + position
 *   embeddings, summed in JavaScript, M = B·T), `attention_mask` [B, T] int64, `pool`
 *   [B, M] (the pooling matrix) and every parameter as an input; outputs `pooled` [B, D]
 *   and `last_hidden_state` [M, H]; with `backward`, also the input `grad_pooled` [B, D]
 *   and outputs `grad.<param>` for each trainable parameter and `grad.inputs_embeds`.
 * - the **export graph** (hub layout, for transformers.js): inputs `input_ids`,
 *   `attention_mask` [, `token_type_ids`] int64 [batch_size, sequence_length] -> output
 *   `last_hidden_state` [batch_size, sequence_length, H] (and `pooler_output` [batch_size, H]
 *   when the checkpoint has a pooler); weights as initializers.
 *
 * Both share {@link encoderBody}: post-LN blocks (Devlin et al. 2019):
 *   x ← LN(x + Attn(x)),  x ← LN(x + W₂ GELU(W₁ x + b₁) + b₂),
 * with the additive mask (1 − m)·float32_min added to the attention scores, as in
 * Hugging Face's `get_extended_attention_mask`.
 */
import { GradTape, ONNX_FLOAT, ONNX_INT64 } from '../../nn/onnx-autodiff.js';
import type { EncoderConfig } from './config.js';
import { EMBEDDING_PARAMS, layerParamNames, POOLER_PARAMS } from './weights.js';

/** The most negative float32, HF's additive mask value. */
export const MASK_MIN = -3.4028234663852886e38;

/** How token vectors become one text vector: mean over the mask, first token, or BERT's pooler (tanh(W·h_cls + b)). */
export const ENCODER_POOLINGS = ['mean', 'cls', 'pooler'] as const;
export type EncoderPooling = (typeof ENCODER_POOLINGS)[number];

/** Additive mask [B,1,1,T] and the head-split shape [B, T, heads, H/heads] from `attention_mask`. */
function maskAndShape(g: GradTape, c: EncoderConfig, attentionMask: string): { maskAdd: string; shape4: string } {
  const m = g.op('Cast', [attentionMask], { to: ONNX_FLOAT });
  const inv = g.op('Sub', [g.constFloat([1]), m]);
  const maskAdd = g.op('Unsqueeze', [g.op('Mul', [inv, g.constFloat([MASK_MIN])]), g.constInt([1, 2])]);
  const shape4 = g.op('Concat', [g.op('Shape', [attentionMask]), g.constInt([c.numHeads, c.hiddenSize / c.numHeads])], { axis: 0 });
  return { maskAdd, shape4 };
}

/** Embedding LayerNorm and all layers on `x` [M, H]; returns the last hidden state [M, H]. */
export function encoderBody(g: GradTape, c: EncoderConfig, x: string, attentionMask: string): string {
  const { maskAdd, shape4 } = maskAndShape(g, c, attentionMask);
  const eps = c.layerNormEps;
  const scale = 1 / Math.sqrt(c.hiddenSize / c.numHeads);
  let h = g.layerNorm(x, EMBEDDING_PARAMS[3], EMBEDDING_PARAMS[4], eps);
  for (let i = 0; i < c.numLayers; i++) {
    const [qw, qb, kw, kb, vw, vb, aow, aob, alnw, alnb, iw, ib, ow, ob, lnw, lnb] = layerParamNames(i);
    const ctx = g.attention(g.linear(h, qw, qb), g.linear(h, kw, kb), g.linear(h, vw, vb), maskAdd, shape4, c.hiddenSize, scale);
    const h1 = g.layerNorm(g.add(g.linear(ctx, aow, aob), h), alnw, alnb, eps);
    const ff = g.linear(g.gelu(g.linear(h1, iw, ib)), ow, ob);
    h = g.layerNorm(g.add(ff, h1), lnw, lnb, eps);
  }
  return h;
}

/** Every parameter the body (and the pooler, for pooling 'pooler') reads, except the three embedding tables. */
export function graphParamNames(c: EncoderConfig, pooling: EncoderPooling): string[] {
  const names: string[] = [EMBEDDING_PARAMS[3], EMBEDDING_PARAMS[4]];
  for (let i = 0; i < c.numLayers; i++) names.push(...layerParamNames(i));
  if (pooling === 'pooler') names.push(...POOLER_PARAMS);
  return names;
}

/** Options of {@link buildTrainGraph}. */
export interface TrainGraphOptions {
  pooling: EncoderPooling;
  /** Emit the backward pass. Default false (forward only). */
  backward?: boolean;
  /** Parameters to differentiate (canonical names among {@link graphParamNames}). */
  trainable?: readonly string[];
  /** Also output dL/d(inputs_embeds) (for the embedding tables). Default false. */
  embeddingsGrad?: boolean;
  /** Shapes of the parameters (for the input declarations). */
  shapes: Map<string, number[]>;
}

/** Build the training (or forward-only) graph; see the file comment for its inputs and outputs. */
export function buildTrainGraph(c: EncoderConfig, o: TrainGraphOptions): Uint8Array {
  const g = trainTape(c, o);
  return g.toBytes(o.backward ? 'xlalign_encoder_train' : 'xlalign_encoder_forward');
}

/**
 * The training graph cut where its backward begins ({@link OnnxGraphBuilder.split}): a
 * forward graph with the training graph's inputs but `grad_pooled`, output `pooled` and
 * every activation the backward reads (`saved`), and a backward graph taking those plus
 * `grad_pooled` and the parameters, with the training graph's `grad.*` outputs. Forward
 * then backward computes what the training graph computes, without running the forward
 * twice (GradCache's recomputation) when the activations can be kept in between.
 */
export function buildSplitTrainGraphs(c: EncoderConfig, o: TrainGraphOptions): { forward: Uint8Array; backward: Uint8Array; saved: string[] } {
  const g = trainTape(c, { ...o, backward: true });
  const { first, second, saved } = g.split(g.backwardStart!, 'xlalign_encoder_train');
  return { forward: first, backward: second, saved };
}

function trainTape(c: EncoderConfig, o: TrainGraphOptions): GradTape {
  const g = new GradTape();
  const H = c.hiddenSize;
  const x = g.input('inputs_embeds', ONNX_FLOAT, ['tokens', H]);
  const mask = g.input('attention_mask', ONNX_INT64, ['batch', 'seq']);
  const pool = g.input('pool', ONNX_FLOAT, ['batch', 'tokens']);
  const names = graphParamNames(c, o.pooling);
  for (const n of names) g.input(n, ONNX_FLOAT, o.shapes.get(n)!);
  const trainable = o.backward ? (o.trainable ?? []) : [];
  for (const n of trainable) g.requireGrad(n);
  if (o.backward && o.embeddingsGrad) g.requireGrad(x);
  const last = encoderBody(g, c, x, mask);
  let pooled = g.constMatMul(pool, last);
  if (o.pooling === 'pooler') pooled = g.tanh(g.linear(pooled, POOLER_PARAMS[0], POOLER_PARAMS[1]));
  g.output(pooled, 'pooled', ONNX_FLOAT, ['batch', H]);
  if (!o.backward) {
    g.output(last, 'last_hidden_state', ONNX_FLOAT, ['tokens', H]);
    return g;
  }
  const seed = g.input('grad_pooled', ONNX_FLOAT, ['batch', H]);
  const wrt = [...trainable, ...(o.embeddingsGrad ? [x] : [])];
  const grads = g.backward(new Map([[pooled, seed]]), wrt);
  for (const n of trainable) g.output(grads.get(n)!, `grad.${n}`, ONNX_FLOAT, o.shapes.get(n)!);
  if (o.embeddingsGrad) g.output(grads.get(x)!, 'grad.inputs_embeds', ONNX_FLOAT, ['tokens', H]);
  return g;
}

/**
 * Build the export graph in the hub's layout (see the file comment), weights as initializers
 * (with `externalData: 'model.onnx_data'`, their bytes go to that external-data file, as the
 * hub's exports of models over 2 GB do; the chunks are returned for the caller to write).
 * Embeddings: word(input_ids) + token_type(token_type_ids or 0) + position(ids of the family).
 * @param get  the float32 values of a parameter by canonical name.
 */
export function buildExportGraph(c: EncoderConfig, get: (name: string) => Float32Array, shapes: Map<string, number[]>, options: { pooler?: boolean; externalData?: string } = {}): { model: Uint8Array; externalData: Uint8Array[] } {
  const g = new GradTape();
  const H = c.hiddenSize;
  const dims = ['batch_size', 'sequence_length'];
  const ids = g.input('input_ids', ONNX_INT64, dims);
  const mask = g.input('attention_mask', ONNX_INT64, dims);
  const types = c.modelType === 'bert' ? g.input('token_type_ids', ONNX_INT64, dims) : g.op('Mul', [ids, g.constInt([0], [])]);
  for (const n of [...EMBEDDING_PARAMS.slice(0, 3), ...graphParamNames(c, options.pooler ? 'pooler' : 'mean')]) g.initializer(n, get(n), shapes.get(n)!);
  let pos: string;
  if (c.modelType === 'bert') {
    // positions 0..T-1: CumSum of ones along the sequence, minus one.
    const ones = g.op('Add', [g.op('Mul', [ids, g.constInt([0], [])]), g.constInt([1], [])]);
    pos = g.op('Sub', [g.op('CumSum', [ones, g.constInt([1], [])]), g.constInt([1], [])]);
  } else {
    // HF create_position_ids_from_input_ids: cumsum(id != pad) * (id != pad) + pad.
    const notPad = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, g.constInt([c.padTokenId], [])])])], { to: ONNX_INT64 });
    pos = g.op('Add', [g.op('Mul', [g.op('CumSum', [notPad, g.constInt([1], [])]), notPad]), g.constInt([c.padTokenId], [])]);
  }
  const word = g.op('Gather', [EMBEDDING_PARAMS[0], ids]);
  const tt = g.op('Gather', [EMBEDDING_PARAMS[2], types]);
  const pe = g.op('Gather', [EMBEDDING_PARAMS[1], pos]);
  const emb = g.op('Add', [g.op('Add', [word, tt]), pe]);
  const x = g.op('Reshape', [emb, g.constInt([-1, H])]);
  const last = encoderBody(g, c, x, mask);
  const shape3 = g.op('Concat', [g.op('Shape', [ids]), g.constInt([H])], { axis: 0 });
  const hidden = g.op('Reshape', [last, shape3]);
  g.output(hidden, 'last_hidden_state', ONNX_FLOAT, [...dims, H]);
  if (options.pooler) {
    // BertPooler: tanh(W h_[CLS] + b), output `pooler_output` [batch_size, H] as the hub's exports have it.
    const cls = g.op('Gather', [hidden, g.constInt([0], [])], { axis: 1 });
    g.output(g.op('Tanh', [g.op('Gemm', [cls, POOLER_PARAMS[0], POOLER_PARAMS[1]], { transB: 1 })]), 'pooler_output', ONNX_FLOAT, ['batch_size', H]);
  }
  const externalData = options.externalData ? g.externalize(options.externalData) : [];
  return { model: g.toBytes('xlalign_encoder'), externalData };
}

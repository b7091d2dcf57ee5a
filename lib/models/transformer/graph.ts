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
import { ropeInvFreq, type EncoderConfig } from './config.js';
import { embeddingNames, graphShape, isTaskParam, rotaryBody, rotaryLayerParamNames } from './families.js';
import { EMBEDDING_PARAMS, layerParamNames, POOLER_PARAMS } from './weights.js';

/** The most negative float32, HF's additive mask value. */
export const MASK_MIN = -3.4028234663852886e38;

/**
 * How token vectors become one text vector: mean over the mask, first token, BERT's pooler
 * (tanh(W·h_cls + b)), or sentence-transformers' `mean_sqrt_len_tokens`, `weightedmean` and
 * `lasttoken` modes. All but the pooler are a constant pooling matrix (`pool`, built per batch
 * in JavaScript), so the graph is the same for them.
 */
export const ENCODER_POOLINGS = ['mean', 'cls', 'pooler', 'mean_sqrt_len', 'weightedmean', 'last_token'] as const;
export type EncoderPooling = (typeof ENCODER_POOLINGS)[number];

/** A sentence-transformers Dense module after pooling: y = act(W x + b) (W `[out, in]`); parameter names as graph inputs. */
export interface DenseSpec {
  weight: string;
  /** Absent for `bias: false` (a zero constant then). */
  bias?: string;
  out: number;
  activation: 'identity' | 'tanh';
}

/** Additive mask [B,1,1,T] and the head-split shape [B, T, heads, H/heads] from `attention_mask`. */
function maskAndShape(g: GradTape, c: EncoderConfig, attentionMask: string): { maskAdd: string; shape4: string } {
  const m = g.op('Cast', [attentionMask], { to: ONNX_FLOAT });
  const inv = g.op('Sub', [g.constFloat([1]), m]);
  const maskAdd = g.op('Unsqueeze', [g.op('Mul', [inv, g.constFloat([MASK_MIN])]), g.constInt([1, 2])]);
  const shape4 = g.op('Concat', [g.op('Shape', [attentionMask]), g.constInt([c.numHeads, c.hiddenSize / c.numHeads])], { axis: 0 });
  return { maskAdd, shape4 };
}

/**
 * Embedding LayerNorm and all layers on `x` [M, H]; returns the last hidden state [M, H].
 * Rotary layouts (`families.ts`) take the per-token cos / sin tables `rope` [M, dh].
 */
export function encoderBody(g: GradTape, c: EncoderConfig, x: string, attentionMask: string, rope?: { cos: string; sin: string }, get?: (name: string) => string): string {
  const { maskAdd, shape4 } = maskAndShape(g, c, attentionMask);
  if (c.layout !== 'bert') return rotaryBody(g, c, x, maskAdd, shape4, rope!, get);
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

/** Every parameter the body (and the pooler, for pooling 'pooler'; and the Dense modules) reads, except the three embedding tables. */
export function graphParamNames(c: EncoderConfig, pooling: EncoderPooling, dense: readonly DenseSpec[] = []): string[] {
  const e = embeddingNames(c);
  const names: string[] = [e.lnWeight, e.lnBias];
  for (let i = 0; i < c.numLayers; i++) names.push(...(c.layout === 'bert' ? layerParamNames(i) : rotaryLayerParamNames(c, i)));
  if (pooling === 'pooler') names.push(...POOLER_PARAMS);
  for (const d of dense) names.push(d.weight, ...(d.bias ? [d.bias] : []));
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
  /** Shapes of the parameters (full shapes; a LoRA factor's input is one task's slice). */
  shapes: Map<string, number[]>;
  /** Dense modules after pooling (sentence-transformers' 2_Dense ...), in order. */
  dense?: readonly DenseSpec[];
}

/** Graph inputs `rope_cos`, `rope_sin` [tokens, dh] of a rotary layout (tables per token, from its position). */
function ropeInputs(g: GradTape, c: EncoderConfig): { cos: string; sin: string } | undefined {
  if (!c.rope) return undefined;
  const dh = c.hiddenSize / c.numHeads;
  return { cos: g.input('rope_cos', ONNX_FLOAT, ['tokens', dh]), sin: g.input('rope_sin', ONNX_FLOAT, ['tokens', dh]) };
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
  const dense = o.dense ?? [];
  const names = graphParamNames(c, o.pooling, dense);
  const rope = ropeInputs(g, c);
  for (const n of names) g.input(n, ONNX_FLOAT, graphShape(n, o.shapes.get(n)!));
  const trainable = o.backward ? (o.trainable ?? []) : [];
  for (const n of trainable) g.requireGrad(n);
  if (o.backward && o.embeddingsGrad) g.requireGrad(x);
  const last = encoderBody(g, c, x, mask, rope);
  let pooled = g.constMatMul(pool, last);
  if (o.pooling === 'pooler') pooled = g.tanh(g.linear(pooled, POOLER_PARAMS[0], POOLER_PARAMS[1]));
  for (const d of dense) {
    pooled = g.linear(pooled, d.weight, d.bias ?? g.constFloat(new Array<number>(d.out).fill(0), [d.out]));
    if (d.activation === 'tanh') pooled = g.tanh(pooled);
  }
  const D = dense.length ? dense[dense.length - 1].out : H;
  g.output(pooled, 'pooled', ONNX_FLOAT, ['batch', D]);
  if (!o.backward) {
    g.output(last, 'last_hidden_state', ONNX_FLOAT, ['tokens', H]);
    return g;
  }
  const seed = g.input('grad_pooled', ONNX_FLOAT, ['batch', D]);
  const wrt = [...trainable, ...(o.embeddingsGrad ? [x] : [])];
  const grads = g.backward(new Map([[pooled, seed]]), wrt);
  for (const n of trainable) g.output(grads.get(n)!, `grad.${n}`, ONNX_FLOAT, graphShape(n, o.shapes.get(n)!));
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
  if (c.layout !== 'bert') return buildRotaryExportGraph(c, get, shapes, options);
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

/**
 * The export graph of the rotary layouts, in the layout of their hub repositories' ONNX files:
 * gte-multilingual-base `input_ids`, `attention_mask` [, `token_type_ids` when
 * `type_vocab_size` > 0] -> `last_hidden_state`; jina-embeddings-v3 adds `task_id` (int64
 * scalar, the index in `lora_adaptations`) and applies that task's adapters
 * (W + (α/r)·B_t A_t per linear layer, rows of W + (α/r)·A_t B_t per embedding table).
 * Positions 0..T−1; cos / sin of pos·invFreq computed in the graph in float32, as PyTorch
 * builds its cache.
 */
function buildRotaryExportGraph(c: EncoderConfig, get: (name: string) => Float32Array, shapes: Map<string, number[]>, options: { pooler?: boolean; externalData?: string }): { model: Uint8Array; externalData: Uint8Array[] } {
  const g = new GradTape();
  const H = c.hiddenSize;
  const dh = H / c.numHeads;
  const dims = ['batch_size', 'sequence_length'];
  const ids = g.input('input_ids', ONNX_INT64, dims);
  const mask = g.input('attention_mask', ONNX_INT64, dims);
  const e = embeddingNames(c);
  const zeros = g.op('Mul', [ids, g.constInt([0], [])]);
  const types = c.layout === 'new' && e.tokenType ? g.input('token_type_ids', ONNX_INT64, dims) : zeros;
  const task = c.lora ? g.input('task_id', ONNX_INT64, []) : undefined;
  const names = [e.word, ...(e.tokenType ? [e.tokenType] : []), ...graphParamNames(c, options.pooler ? 'pooler' : 'mean')];
  if (e.wordLora) names.push(e.wordLora.a, e.wordLora.b, e.tokenTypeLora!.a, e.tokenTypeLora!.b);
  const value = new Map<string, string>();
  for (const n of names) {
    if (isTaskParam(n)) {
      // The adapters of every task as one initializer; the graph picks task_id's slice.
      g.initializer(`${n}.all`, get(n), shapes.get(n)!);
      value.set(n, g.op('Gather', [`${n}.all`, task!], { axis: 0 }));
    } else value.set(n, g.initializer(n, get(n), shapes.get(n)!));
  }
  const v = (n: string) => value.get(n)!;
  let emb = g.op('Gather', [v(e.word), ids]);
  if (e.wordLora) {
    const s = g.constFloat([c.lora!.alpha / c.lora!.rank]);
    // rows of W + s·A_t B_t: W[id] + s·(A_t[id] B_t)
    const lora = (table: string, idx: string, l: { a: string; b: string }) => g.op('Add', [g.op('Gather', [table, idx]), g.op('Mul', [g.op('MatMul', [g.op('Gather', [v(l.a), idx]), v(l.b)]), s])]);
    emb = g.op('Add', [lora(v(e.word), ids, e.wordLora), lora(v(e.tokenType!), zeros, e.tokenTypeLora!)]);
  } else if (e.tokenType) emb = g.op('Add', [emb, g.op('Gather', [v(e.tokenType), types])]);
  const x = g.op('Reshape', [emb, g.constInt([-1, H])]);
  // positions 0..T-1 per row; angles pos·invFreq, duplicated over the two halves of dh.
  const ones = g.op('Add', [zeros, g.constInt([1], [])]);
  const pos = g.op('Cast', [g.op('Sub', [g.op('CumSum', [ones, g.constInt([1], [])]), g.constInt([1], [])])], { to: ONNX_FLOAT });
  const inv = ropeInvFreq(c);
  const angles = g.op('Reshape', [g.op('Mul', [g.op('Unsqueeze', [pos, g.constInt([-1])]), g.constFloat([...inv, ...inv], [dh])]), g.constInt([-1, dh])]);
  const rope = { cos: g.op('Cos', [angles]), sin: g.op('Sin', [angles]) };
  const last = encoderBody(g, c, x, mask, rope, v);
  const shape3 = g.op('Concat', [g.op('Shape', [ids]), g.constInt([H])], { axis: 0 });
  const hidden = g.op('Reshape', [last, shape3]);
  g.output(hidden, 'last_hidden_state', ONNX_FLOAT, [...dims, H]);
  if (options.pooler && c.layout === 'new') {
    const cls = g.op('Gather', [hidden, g.constInt([0], [])], { axis: 1 });
    g.output(g.op('Tanh', [g.op('Gemm', [cls, v(POOLER_PARAMS[0]), v(POOLER_PARAMS[1])], { transB: 1 })]), 'pooler_output', ONNX_FLOAT, ['batch_size', H]);
  }
  const externalData = options.externalData ? g.externalize(options.externalData) : [];
  return { model: g.toBytes('xlalign_encoder'), externalData };
}

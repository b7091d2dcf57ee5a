/**
 * The layer layouts of the rotary families, beside BERT / XLM-R's (`weights.ts`, `graph.ts`):
 * parameter names (as the hub checkpoints name them), shapes, and the encoder body on the
 * {@link GradTape}. Read from the public modelling code of each model (not copied):
 *
 * | layout | model | embeddings | attention | feed-forward | blocks |
 * |---|---|---|---|---|---|
 * | `new` | gte-multilingual-base (`Alibaba-NLP/new-impl` `NewModel`) | `embeddings.word_embeddings` (+ `token_type_embeddings` when `type_vocab_size` > 0), `embeddings.LayerNorm`; no position table | `attention.qkv_proj` (packed q|k|v, bias), rotary on q and k, `attention.o_proj` | `mlp.up_gate_proj` (no bias) -> [up | gate], GELU(gate) ⊙ up, `mlp.down_proj` | post-LN: `attn_ln(x + attn)`, `mlp_ln(h + mlp)` |
 * | `jina-lora` | jina-embeddings-v3 (`jinaai/xlm-roberta-flash-implementation`) | `embeddings.word_embeddings`, `embeddings.token_type_embeddings` (each with LoRA), `emb_ln`; no position table | `encoder.layers.N.mixer.Wqkv` (packed, bias), rotary on q and k, `mixer.out_proj` | `mlp.fc1`, GELU, `mlp.fc2` | post-LN: `norm1`, `norm2` |
 *
 * jina-embeddings-v3's linear and embedding weights are registered as PyTorch
 * parametrizations: `<layer>.parametrizations.weight.original` [out, in] and the adapters of
 * all tasks `<layer>.parametrizations.weight.0.lora_A` [T, r, in] / `lora_B` [T, out, r]; the
 * weight used for task t is W + (α/r)·B_t A_t. For the embeddings the factors are swapped
 * (`lora_A` [T, V, r], `lora_B` [T, r, H], table = W + (α/r)·A_t B_t). Graph inputs hold the
 * task's slices (`lora_A` [r, in], `lora_B` [out, r]); a batch is one task.
 *
 * Both keep rotary embeddings on positions 0..T−1 (right padding; the unpadded / flash paths of
 * the hub code give the same numbers on the real tokens), attention scaled by 1/√dh, the
 * additive mask (1 − m)·float32_min, exact-erf GELU, dropout off.
 */
import type { GradTape } from '../../nn/onnx-autodiff.js';
import type { EncoderConfig } from './config.js';

/** The embedding-block parameters of a layout (canonical names, without the checkpoint prefix). */
export interface EmbeddingNames {
  word: string;
  /** Absolute position table (BERT / XLM-R only). */
  position?: string;
  /** Token-type table (row 0 is added to every token). */
  tokenType?: string;
  lnWeight: string;
  lnBias: string;
  /** jina: LoRA factors of the word and token-type tables ([T, V, r], [T, r, H]). */
  wordLora?: { a: string; b: string };
  tokenTypeLora?: { a: string; b: string };
}

const JINA_W = '.parametrizations.weight.original';
const LORA_A = '.parametrizations.weight.0.lora_A';
const LORA_B = '.parametrizations.weight.0.lora_B';

/** The embedding-block names of `c`'s layout. */
export function embeddingNames(c: EncoderConfig): EmbeddingNames {
  if (c.layout === 'jina-lora') {
    const w = 'embeddings.word_embeddings';
    const t = 'embeddings.token_type_embeddings';
    return {
      word: w + JINA_W, tokenType: t + JINA_W, lnWeight: 'emb_ln.weight', lnBias: 'emb_ln.bias',
      wordLora: { a: w + LORA_A, b: w + LORA_B }, tokenTypeLora: { a: t + LORA_A, b: t + LORA_B },
    };
  }
  return {
    word: 'embeddings.word_embeddings.weight',
    ...(c.layout === 'bert' ? { position: 'embeddings.position_embeddings.weight' } : {}),
    ...(c.typeVocabSize > 0 ? { tokenType: 'embeddings.token_type_embeddings.weight' } : {}),
    lnWeight: 'embeddings.LayerNorm.weight',
    lnBias: 'embeddings.LayerNorm.bias',
  };
}

/** Whether `name` is a per-task LoRA factor (its graph input is the slice of one task). */
export function isTaskParam(name: string): boolean {
  return name.endsWith('.lora_A') || name.endsWith('.lora_B');
}

/** The four linear layers of a jina block, with their [out, in] sizes. */
function jinaLinears(c: EncoderConfig, i: number): { name: string; out: number; in: number }[] {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const p = `encoder.layers.${i}.`;
  return [
    { name: `${p}mixer.Wqkv`, out: 3 * H, in: H },
    { name: `${p}mixer.out_proj`, out: H, in: H },
    { name: `${p}mlp.fc1`, out: I, in: H },
    { name: `${p}mlp.fc2`, out: H, in: I },
  ];
}

/** Names of layer `i`'s parameters in a rotary layout, in graph order. */
export function rotaryLayerParamNames(c: EncoderConfig, i: number): string[] {
  if (c.layout === 'new') {
    const p = `encoder.layer.${i}.`;
    return [
      `${p}attention.qkv_proj.weight`, `${p}attention.qkv_proj.bias`, `${p}attention.o_proj.weight`, `${p}attention.o_proj.bias`,
      `${p}attn_ln.weight`, `${p}attn_ln.bias`,
      `${p}mlp.up_gate_proj.weight`, `${p}mlp.down_proj.weight`, `${p}mlp.down_proj.bias`,
      `${p}mlp_ln.weight`, `${p}mlp_ln.bias`,
    ];
  }
  const p = `encoder.layers.${i}.`;
  const names: string[] = [];
  for (const l of jinaLinears(c, i)) names.push(l.name + JINA_W, `${l.name}.bias`, l.name + LORA_A, l.name + LORA_B);
  names.push(`${p}norm1.weight`, `${p}norm1.bias`, `${p}norm2.weight`, `${p}norm2.bias`);
  return names;
}

/** The LoRA factors of layer `i` (jina; empty otherwise): what the `adapters` training mode trains. */
export function loraLayerParamNames(c: EncoderConfig, i: number): string[] {
  return c.layout === 'jina-lora' ? rotaryLayerParamNames(c, i).filter(isTaskParam) : [];
}

/** Full shapes of every parameter of a rotary layout (LoRA factors with their task axis). */
export function rotaryParamShapes(c: EncoderConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const e = embeddingNames(c);
  const m = new Map<string, number[]>([[e.word, [c.vocabSize, H]]]);
  if (e.tokenType) m.set(e.tokenType, [c.typeVocabSize, H]);
  m.set(e.lnWeight, [H]);
  m.set(e.lnBias, [H]);
  if (c.layout === 'new') {
    for (let i = 0; i < c.numLayers; i++) {
      const [qkvw, qkvb, ow, ob, alw, alb, ug, dw, db, mlw, mlb] = rotaryLayerParamNames(c, i);
      m.set(qkvw, [3 * H, H]).set(qkvb, [3 * H]).set(ow, [H, H]).set(ob, [H]).set(alw, [H]).set(alb, [H]);
      m.set(ug, [2 * I, H]).set(dw, [H, I]).set(db, [H]).set(mlw, [H]).set(mlb, [H]);
    }
  } else {
    const { tasks, rank: r } = c.lora!;
    const T = tasks.length;
    m.set(e.wordLora!.a, [T, c.vocabSize, r]).set(e.wordLora!.b, [T, r, H]);
    m.set(e.tokenTypeLora!.a, [T, c.typeVocabSize, r]).set(e.tokenTypeLora!.b, [T, r, H]);
    for (let i = 0; i < c.numLayers; i++) {
      for (const l of jinaLinears(c, i)) {
        m.set(l.name + JINA_W, [l.out, l.in]).set(`${l.name}.bias`, [l.out]).set(l.name + LORA_A, [T, r, l.in]).set(l.name + LORA_B, [T, l.out, r]);
      }
      const p = `encoder.layers.${i}.`;
      for (const n of ['norm1', 'norm2']) m.set(`${p}${n}.weight`, [H]).set(`${p}${n}.bias`, [H]);
    }
  }
  m.set('pooler.dense.weight', [H, H]);
  m.set('pooler.dense.bias', [H]);
  return m;
}

/** The shape a parameter has as a graph input: a LoRA factor without its task axis. */
export function graphShape(name: string, full: number[]): number[] {
  return isTaskParam(name) ? full.slice(1) : full;
}

/**
 * The rotary families' body on x = inputs_embeds `[M, H]`: embedding LayerNorm, then the
 * layers of the table in the file comment. `rope` holds the per-token cos / sin tables
 * `[M, dh]`; `get(name)` the value of a parameter (the graph input, or in the export a
 * node selecting the task's slice).
 */
export function rotaryBody(g: GradTape, c: EncoderConfig, x: string, maskAdd: string, shape4: string, rope: { cos: string; sin: string }, get: (name: string) => string = (n) => n): string {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const dh = H / c.numHeads;
  const eps = c.layerNormEps;
  const scale = 1 / Math.sqrt(dh);
  const e = embeddingNames(c);
  let h = g.layerNorm(x, get(e.lnWeight), get(e.lnBias), eps);
  const attention = (qkv: string) => {
    const q = g.rotary(g.sliceLast(qkv, 0, H, 3 * H), rope.cos, rope.sin, c.numHeads, dh);
    const k = g.rotary(g.sliceLast(qkv, H, 2 * H, 3 * H), rope.cos, rope.sin, c.numHeads, dh);
    return g.attention(q, k, g.sliceLast(qkv, 2 * H, 3 * H, 3 * H), maskAdd, shape4, H, scale);
  };
  for (let i = 0; i < c.numLayers; i++) {
    if (c.layout === 'new') {
      const [qkvw, qkvb, ow, ob, alw, alb, ug, dw, db, mlw, mlb] = rotaryLayerParamNames(c, i).map(get);
      const ctx = attention(g.linear(h, qkvw, qkvb));
      const h1 = g.layerNorm(g.add(h, g.linear(ctx, ow, ob)), alw, alb, eps);
      const upGate = g.linear(h1, ug);
      // new-impl NewGatedMLP: torch.split(up_gate, I) -> (up, gate); act(gate) * up.
      const gated = g.mul(g.gelu(g.sliceLast(upGate, I, 2 * I, 2 * I)), g.sliceLast(upGate, 0, I, 2 * I));
      h = g.layerNorm(g.add(h1, g.linear(gated, dw, db)), mlw, mlb, eps);
    } else {
      const n = rotaryLayerParamNames(c, i).map(get);
      const s = c.lora!.alpha / c.lora!.rank;
      // [W, b, A, B] per linear: Wqkv, out_proj, fc1, fc2; then norm1, norm2.
      const lin = (k: number, v: string) => g.linear(v, g.lowRank(n[4 * k], n[4 * k + 2], n[4 * k + 3], s), n[4 * k + 1]);
      const [n1w, n1b, n2w, n2b] = n.slice(16);
      const ctx = attention(lin(0, h));
      const h1 = g.layerNorm(g.add(lin(1, ctx), h), n1w, n1b, eps);
      h = g.layerNorm(g.add(lin(3, g.gelu(lin(2, h1))), h1), n2w, n2b, eps);
    }
  }
  return h;
}

/**
 * A small reverse-mode differentiator that writes ONNX graphs: forward ops are emitted as
 * ONNX nodes, and each op records how to emit its vector-Jacobian product (VJP) as more
 * ONNX nodes. `backward(seeds)` walks the recorded ops in reverse order, sums the
 * gradients of values used more than once (an `Add` node), and leaves one gradient value
 * per requested input. The result is one ONNX graph (forward + backward) that ONNX Runtime
 * runs with all its kernels and threads; nothing is differentiated in JavaScript.
 *
 * The ops are the "layer-sized" pieces of transformer encoders (a Gemm linear layer,
 * LayerNormalization, erf GELU, tanh, masked multi-head attention, a constant-matrix
 * MatMul for pooling, Add, elementwise Mul, a column slice, rotary position embedding, a
 * LoRA low-rank weight update), each with its VJP derived by hand (formulas on each method).
 * Working at this granularity keeps the backward graph small and uses ONNX Runtime's fused
 * kernels (Gemm, LayerNormalization, Softmax) instead of dozens of elementwise nodes.
 *
 * Values are names of ONNX tensors (strings). 2-D activations are `[M, H]` (tokens x features).
 *
 * @example
 * const g = new GradTape();
 * g.input('x', FLOAT, ['m', 4], true); g.input('W', FLOAT, [3, 4], true); g.input('b', FLOAT, [3], true);
 * const y = g.linear('x', 'W', 'b');
 * g.output(y, FLOAT, ['m', 3]);
 * const grads = g.backward(new Map([[y, g.input('dy', FLOAT, ['m', 3])]]), ['W', 'b']);
 */
import onnxProto from 'onnx-proto';
import { xlError } from '../util/errors.js';
import { tensorInfo } from '../util/onnx-graph.js';

const { onnx } = onnxProto;

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
/** Opset of the graphs written here (LayerNormalization is in the default domain since 17). */
export const TAPE_OPSET = 17;

type Attr = number | number[] | { f: number };

/** The ONNX graph under construction: nodes, inputs, outputs, initializers, fresh names. */
export class OnnxGraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;
  private readonly consts = new Map<string, string>();

  /** A new unique value name starting with `prefix`. */
  fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  /** Emit one node; returns its output names (`nOut` of them). Attributes: int, ints, or `{ f }` for a float. */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, nOut = 1, prefix = op): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(prefix));
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
      if (typeof v === 'number') return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
      return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.f });
    });
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: outputs, name: outputs[0], attribute }));
    return outputs;
  }

  /** Shorthand for a one-output node. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, attrs, 1)[0];
  }

  /** Declare a graph input. */
  input(name: string, elemType: number, dims: (string | number)[]): string {
    this.inputs.push(tensorInfo(name, elemType, dims));
    return name;
  }

  /** Declare `value` as a graph output named `name` (an Identity node renames it). */
  output(value: string, name: string, elemType: number, dims: (string | number)[]): string {
    if (value !== name) this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` }));
    this.outputs.push(tensorInfo(name, elemType, dims));
    return name;
  }

  /** An fp32 initializer (raw little-endian data). */
  initializer(name: string, data: Float32Array, dims: number[]): string {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push(onnx.TensorProto.create({ name, dataType: ONNX_FLOAT, dims, rawData: new Uint8Array(raw) }));
    return name;
  }

  /** A float constant (cached by value). */
  constFloat(values: number[], dims: number[] = []): string {
    const key = `f:${dims.join(',')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh('constf');
      this.initializers.push(onnx.TensorProto.create({ name, dataType: ONNX_FLOAT, dims, floatData: values }));
      this.consts.set(key, name);
    }
    return name;
  }

  /** An int64 constant (cached by value). */
  constInt(values: number[], dims: number[] = [values.length]): string {
    const key = `i:${dims.join(',')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh('consti');
      this.initializers.push(onnx.TensorProto.create({ name, dataType: ONNX_INT64, dims, int64Data: values }));
      this.consts.set(key, name);
    }
    return name;
  }

  /**
   * Move the data of every initializer of at least `minBytes` bytes to an ONNX external-data
   * file named `location` (beside the model file): the initializer keeps its name, type and
   * shape, with `location` / `offset` / `length` entries. Returns the data chunks in file
   * order (write them one after another). For models over protobuf's 2 GB limit.
   */
  externalize(location: string, minBytes = 1024): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of this.initializers) {
      const raw = t.rawData as Uint8Array | undefined;
      if (!raw || raw.length < minBytes) continue;
      t.externalData = [
        onnx.StringStringEntryProto.create({ key: 'location', value: location }),
        onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
        onnx.StringStringEntryProto.create({ key: 'length', value: String(raw.length) }),
      ];
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.rawData = new Uint8Array(0);
      chunks.push(raw);
      offset += raw.length;
    }
    return chunks;
  }

  /** The serialised ModelProto (IR 8, opset {@link TAPE_OPSET}). */
  toBytes(graphName: string): Uint8Array {
    return modelBytes(graphName, this.nodes, this.inputs, this.outputs, this.initializers);
  }

  /**
   * The element type of every value: graph inputs and initializers as declared, node outputs
   * by rule (`Shape` int64, `Cast` its `to`, any other op the type of its first typed input:
   * true of every op the tape emits).
   */
  valueTypes(): Map<string, number> {
    const types = new Map<string, number>();
    for (const i of this.inputs) types.set(i.name!, i.type!.tensorType!.elemType!);
    for (const t of this.initializers) types.set(t.name!, t.dataType!);
    for (const n of this.nodes) {
      let ty: number | undefined;
      if (n.opType === 'Shape') ty = ONNX_INT64;
      else if (n.opType === 'Cast') ty = Number(n.attribute!.find((a) => a.name === 'to')!.i);
      else ty = n.input!.map((i) => types.get(i)).find((t) => t !== undefined);
      if (ty === undefined) throw xlError('OnnxGraphBuilder.valueTypes', `cannot type the output of node ${n.name} (${n.opType})`);
      for (const o of n.output!) types.set(o, ty);
    }
    return types;
  }

  /**
   * Cut the graph in two at node index `boundary` (e.g. {@link GradTape.backwardStart}):
   * the **first** graph runs nodes [0, boundary) and outputs, besides the graph outputs they
   * produce, every value the later nodes read from them (`saved`, in first-use order,
   * shapes left open); the **second** runs the rest with those values as extra inputs. Each
   * keeps only the inputs and initializers its nodes read. Running one then the other
   * computes exactly what the whole graph computes, with the saved values crossing in
   * between (the caller holds them, e.g. between a forward and a backward pass).
   */
  split(boundary: number, graphName: string): { first: Uint8Array; second: Uint8Array; saved: string[] } {
    const types = this.valueTypes();
    const firstNodes = this.nodes.slice(0, boundary);
    const secondNodes = this.nodes.slice(boundary);
    const producedFirst = new Set(firstNodes.flatMap((n) => n.output!));
    const reads = (nodes: typeof this.nodes) => new Set(nodes.flatMap((n) => n.input!));
    const readFirst = reads(firstNodes);
    const readSecond = reads(secondNodes);
    const saved: string[] = [];
    for (const n of secondNodes) for (const i of n.input!) if (producedFirst.has(i) && !saved.includes(i)) saved.push(i);
    const open = (name: string) => onnx.ValueInfoProto.create({ name, type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: types.get(name)! }) }) });
    const outFirst = this.outputs.filter((o) => producedFirst.has(o.name!));
    const outSecond = this.outputs.filter((o) => !producedFirst.has(o.name!));
    const first = modelBytes(
      `${graphName}_first`, firstNodes,
      this.inputs.filter((i) => readFirst.has(i.name!)),
      [...outFirst, ...saved.filter((v) => !outFirst.some((o) => o.name === v)).map(open)],
      this.initializers.filter((t) => readFirst.has(t.name!)),
    );
    const second = modelBytes(
      `${graphName}_second`, secondNodes,
      [...this.inputs.filter((i) => readSecond.has(i.name!)), ...saved.map(open)],
      outSecond,
      this.initializers.filter((t) => readSecond.has(t.name!)),
    );
    return { first, second, saved };
  }
}

function modelBytes(
  graphName: string,
  node: InstanceType<typeof onnx.NodeProto>[],
  input: InstanceType<typeof onnx.ValueInfoProto>[],
  output: InstanceType<typeof onnx.ValueInfoProto>[],
  initializer: InstanceType<typeof onnx.TensorProto>[],
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'xlalign',
    opsetImport: [{ domain: '', version: TAPE_OPSET }],
    graph: onnx.GraphProto.create({ name: graphName, node, input, output, initializer }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** One recorded op: its inputs that need gradients, its output, and its VJP emitter. */
interface TapeEntry {
  output: string;
  vjp: (gradOut: string) => void;
}

/**
 * {@link OnnxGraphBuilder} plus a tape for reverse mode. Mark differentiable values with
 * `requireGrad`; every op below records a VJP when one of its inputs needs a gradient.
 */
export class GradTape extends OnnxGraphBuilder {
  private readonly needs = new Set<string>();
  private readonly tape: TapeEntry[] = [];
  private grads = new Map<string, string>();
  /** Index of the first node emitted by {@link backward} (where {@link OnnxGraphBuilder.split} cuts forward from backward). */
  backwardStart?: number;

  /** Mark `value` as differentiable (a parameter or an input whose gradient is wanted). */
  requireGrad(value: string): string {
    this.needs.add(value);
    return value;
  }

  /** Whether `value` depends on a differentiable value. */
  needsGrad(value: string): boolean {
    return this.needs.has(value);
  }

  private record(inputs: string[], output: string, vjp: (g: string) => void): string {
    if (inputs.some((i) => this.needs.has(i))) {
      this.needs.add(output);
      this.tape.push({ output, vjp });
    }
    return output;
  }

  /** Add `g` to the gradient of `value` (only if it needs one). */
  private accumulate(value: string, g: string): void {
    if (!this.needs.has(value)) return;
    const prev = this.grads.get(value);
    this.grads.set(value, prev ? this.op('Add', [prev, g]) : g);
  }

  /**
   * y = a + b (same shapes). VJP: da = db = dy.
   */
  add(a: string, b: string): string {
    const y = this.op('Add', [a, b]);
    return this.record([a, b], y, (g) => {
      this.accumulate(a, g);
      this.accumulate(b, g);
    });
  }

  /**
   * Linear layer y = x Wᵀ + b, x `[M, in]`, W `[out, in]` (PyTorch's layout), b `[out]`
   * (optional: gte's `up_gate_proj` has none).
   * VJP: dx = dy W, dW = dyᵀ x, db = Σ_rows dy.
   */
  linear(x: string, w: string, b?: string): string {
    const y = this.op('Gemm', b ? [x, w, b] : [x, w], { transB: 1 });
    return this.record(b ? [x, w, b] : [x, w], y, (g) => {
      if (this.needs.has(x)) this.accumulate(x, this.op('MatMul', [g, w]));
      if (this.needs.has(w)) this.accumulate(w, this.op('Gemm', [g, x], { transA: 1 }));
      if (b && this.needs.has(b)) this.accumulate(b, this.op('ReduceSum', [g, this.constInt([0])], { keepdims: 0 }));
    });
  }

  /** y = a ⊙ b (same shapes). VJP: da = dy ⊙ b, db = dy ⊙ a. */
  mul(a: string, b: string): string {
    const y = this.op('Mul', [a, b]);
    return this.record([a, b], y, (g) => {
      if (this.needs.has(a)) this.accumulate(a, this.op('Mul', [g, b]));
      if (this.needs.has(b)) this.accumulate(b, this.op('Mul', [g, a]));
    });
  }

  /**
   * Columns [start, end) of x `[M, width]` (e.g. q, k, v of a packed qkv projection, the two
   * halves of a GLU). VJP: dx = dy zero-padded back to `[M, width]` (a slice is a projection).
   */
  sliceLast(x: string, start: number, end: number, width: number): string {
    const y = this.op('Slice', [x, this.constInt([start]), this.constInt([end]), this.constInt([-1])]);
    return this.record([x], y, (g) => this.accumulate(x, this.op('Pad', [g, this.constInt([0, start, 0, width - end])])));
  }

  /**
   * Rotary position embedding, rotate-half form (Su et al. 2021; GPT-NeoX / Hugging Face
   * `apply_rotary_pos_emb`), on x `[M, heads·dh]` with per-token tables cos, sin `[M, dh]`
   * (each holding its dh/2 angles twice): y = x ⊙ cos + R(x) ⊙ sin per head, where
   * R([x₁, x₂]) = [−x₂, x₁] on the two halves of dh. R is linear and orthogonal with
   * Rᵀ = −R, so the VJP is dx = dy ⊙ cos + Rᵀ(dy ⊙ sin) = dy ⊙ cos − R(dy ⊙ sin).
   */
  rotary(x: string, cos: string, sin: string, heads: number, headDim: number): string {
    const half = headDim / 2;
    const shape3 = this.constInt([-1, heads, headDim]);
    const flat = this.constInt([-1, heads * headDim]);
    const c3 = this.op('Unsqueeze', [cos, this.constInt([1])]);
    const s3 = this.op('Unsqueeze', [sin, this.constInt([1])]);
    const rot = (z3: string, sign: 1 | -1) => {
      const [a, b] = this.node('Split', [z3, this.constInt([half, half])], { axis: -1 }, 2, 'Split');
      return sign > 0 ? this.op('Concat', [this.op('Neg', [b]), a], { axis: -1 }) : this.op('Concat', [b, this.op('Neg', [a])], { axis: -1 });
    };
    const x3 = this.op('Reshape', [x, shape3]);
    const y = this.op('Reshape', [this.op('Add', [this.op('Mul', [x3, c3]), this.op('Mul', [rot(x3, 1), s3])]), flat]);
    return this.record([x], y, (g) => {
      const g3 = this.op('Reshape', [g, shape3]);
      this.accumulate(x, this.op('Reshape', [this.op('Add', [this.op('Mul', [g3, c3]), rot(this.op('Mul', [g3, s3]), -1)]), flat]));
    });
  }

  /**
   * A low-rank update of a weight (LoRA, Hu et al. 2022): W' = W + s · B A, W `[out, in]`,
   * B `[out, r]`, A `[r, in]`. VJP: dW = dW', dB = s · dW' Aᵀ, dA = s · Bᵀ dW'.
   */
  lowRank(w: string, a: string, b: string, scale: number): string {
    const s = this.constFloat([scale]);
    const y = this.op('Add', [w, this.op('Mul', [this.op('MatMul', [b, a]), s])]);
    return this.record([w, a, b], y, (g) => {
      this.accumulate(w, g);
      if (!this.needs.has(a) && !this.needs.has(b)) return;
      const gs = this.op('Mul', [g, s]);
      if (this.needs.has(b)) this.accumulate(b, this.op('Gemm', [gs, a], { transB: 1 }));
      if (this.needs.has(a)) this.accumulate(a, this.op('Gemm', [b, gs], { transA: 1 }));
    });
  }

  /**
   * LayerNorm over the last axis: x̂ = (x − μ)·r with r = 1/√(σ² + ε), y = γ ⊙ x̂ + β
   * (Ba et al. 2016). VJP with ĝ = dy ⊙ γ:
   *   dx = r · (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)),  dγ = Σ_rows dy ⊙ x̂,  dβ = Σ_rows dy.
   */
  layerNorm(x: string, gamma: string, beta: string, eps: number): string {
    const [y, mean, invStd] = this.node('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { f: eps } }, 3, 'LayerNorm');
    return this.record([x, gamma, beta], y, (g) => {
      const xhat = this.op('Mul', [this.op('Sub', [x, mean]), invStd]);
      if (this.needs.has(gamma)) this.accumulate(gamma, this.op('ReduceSum', [this.op('Mul', [g, xhat]), this.constInt([0])], { keepdims: 0 }));
      if (this.needs.has(beta)) this.accumulate(beta, this.op('ReduceSum', [g, this.constInt([0])], { keepdims: 0 }));
      if (this.needs.has(x)) {
        const gh = this.op('Mul', [g, gamma]);
        const m1 = this.op('ReduceMean', [gh], { axes: [-1], keepdims: 1 });
        const m2 = this.op('ReduceMean', [this.op('Mul', [gh, xhat])], { axes: [-1], keepdims: 1 });
        const inner = this.op('Sub', [this.op('Sub', [gh, m1]), this.op('Mul', [xhat, m2])]);
        this.accumulate(x, this.op('Mul', [inner, invStd]));
      }
    });
  }

  /**
   * GELU with the exact erf (Hendrycks & Gimpel 2016): y = x · Φ(x) = ½x(1 + erf(x/√2)).
   * VJP: dx = dy · (Φ(x) + x·φ(x)), φ(x) = exp(−x²/2)/√(2π).
   * Φ(x) is recomputed in the backward (equal up to float32 rounding) rather than kept from the
   * forward: one activation of the intermediate size less per layer held until the backward.
   */
  gelu(x: string): string {
    const half = this.constFloat([0.5]);
    const one = this.constFloat([1]);
    const cdfOf = (erf: string) => this.op('Mul', [this.op('Add', [erf, one]), half]);
    const y = this.op('Mul', [x, cdfOf(this.op('Erf', [this.op('Mul', [x, this.constFloat([Math.SQRT1_2])])]))]);
    return this.record([x], y, (g) => {
      // x/√2 as a Div here (a Mul in the forward): ONNX Runtime's common-subexpression
      // elimination would otherwise merge the two and keep Φ(x) alive again.
      const cdf = cdfOf(this.op('Erf', [this.op('Div', [x, this.constFloat([Math.SQRT2])])]));
      const x2 = this.op('Mul', [x, x]);
      const pdf = this.op('Mul', [this.op('Exp', [this.op('Mul', [x2, this.constFloat([-0.5])])]), this.constFloat([1 / Math.sqrt(2 * Math.PI)])]);
      const d = this.op('Add', [cdf, this.op('Mul', [x, pdf])]);
      this.accumulate(x, this.op('Mul', [g, d]));
    });
  }

  /** y = tanh(x). VJP: dx = dy · (1 − y²). */
  tanh(x: string): string {
    const y = this.op('Tanh', [x]);
    return this.record([x], y, (g) => {
      const d = this.op('Sub', [this.constFloat([1]), this.op('Mul', [y, y])]);
      this.accumulate(x, this.op('Mul', [g, d]));
    });
  }

  /** y = P h with a constant (non-differentiable) matrix P `[B, M]`, h `[M, H]`. VJP: dh = Pᵀ dy. */
  constMatMul(p: string, h: string): string {
    const y = this.op('MatMul', [p, h]);
    return this.record([h], y, (g) => this.accumulate(h, this.op('Gemm', [p, g], { transA: 1 })));
  }

  /**
   * Multi-head scaled dot-product attention (Vaswani et al. 2017) on `[M, H]` values with
   * M = B·T, heads split as `shape4` = [B, T, heads, H/heads]:
   *   S = Q Kᵀ · s + mask,  P = softmax(S) (last axis),  C = P V,   s = 1/√(H/heads),
   * `maskAdd` `[B, 1, 1, T]` (0 where attended, a large negative number at padding).
   * VJP: dP = dC Vᵀ, dV = Pᵀ dC, dS = P ⊙ (dP − Σ_j dP ⊙ P), dQ = s·dS K, dK = s·dSᵀ Q.
   */
  attention(q: string, k: string, v: string, maskAdd: string, shape4: string, hidden: number, scale: number): string {
    const split = (x: string) => this.op('Transpose', [this.op('Reshape', [x, shape4])], { perm: [0, 2, 1, 3] });
    const merge = (x4: string) => this.op('Reshape', [this.op('Transpose', [x4], { perm: [0, 2, 1, 3] }), this.constInt([-1, hidden])]);
    const swap = (x4: string) => this.op('Transpose', [x4], { perm: [0, 1, 3, 2] });
    const sc = this.constFloat([scale]);
    // The scale is applied to Q (T x d/h per head) rather than to the T x T scores: fewer multiplications.
    const qs4 = this.op('Mul', [split(q), sc]);
    const k4 = split(k);
    const v4 = split(v);
    const s = this.op('Add', [this.op('MatMul', [qs4, swap(k4)]), maskAdd]);
    const p = this.op('Softmax', [s], { axis: -1 });
    const c = merge(this.op('MatMul', [p, v4]));
    return this.record([q, k, v], c, (g) => {
      const g4 = split(g);
      if (this.needs.has(v)) this.accumulate(v, merge(this.op('MatMul', [swap(p), g4])));
      if (!this.needs.has(q) && !this.needs.has(k)) return;
      const gp = this.op('MatMul', [g4, swap(v4)]);
      const dot = this.op('ReduceSum', [this.op('Mul', [gp, p]), this.constInt([-1])], { keepdims: 1 });
      const gs = this.op('Mul', [p, this.op('Sub', [gp, dot])]);
      if (this.needs.has(q)) this.accumulate(q, merge(this.op('Mul', [this.op('MatMul', [gs, k4]), sc])));
      if (this.needs.has(k)) this.accumulate(k, merge(this.op('MatMul', [swap(gs), qs4])));
    });
  }

  /**
   * Emit the backward pass. `seeds` maps output values to the names of their incoming
   * gradients; returns the gradient value of each of `wrt` (a zero-size request for a
   * value no seed depends on throws, naming it).
   */
  backward(seeds: Map<string, string>, wrt: string[]): Map<string, string> {
    this.backwardStart = this.nodes.length;
    this.grads = new Map(seeds);
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const entry = this.tape[i];
      const g = this.grads.get(entry.output);
      if (g) entry.vjp(g);
    }
    const out = new Map<string, string>();
    for (const w of wrt) {
      const g = this.grads.get(w);
      if (!g) throw xlError('GradTape.backward', `no gradient reaches '${w}' from the seeds (${[...seeds.keys()].join(', ')})`, { kind: 'internal' });
      out.set(w, g);
    }
    return out;
  }
}

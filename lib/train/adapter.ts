import { readFileSync } from 'node:fs';
import { xlError } from '../util/errors.js';
import { sha256, writeFileAtomic } from '../util/fs.js';
import { createRng } from '../util/rng.js';
import type { AdamW } from '../nn/adamw.js';
import { gemmABt, normalizeRows, normalizeRowsBackward, transpose, type FloatArray, type Matrix } from '../nn/matrix.js';

/** Options of {@link AlignmentAdapter.create}. */
export interface AdapterOptions {
  /**
   * Rank r of the residual: W = I + U·V with U (dim x r) and V (r x dim). Default
   * `undefined` = full rank, W = I + Δ with Δ (dim x dim).
   */
  rank?: number;
  /** Seed of V's initial values (low rank only; U starts at 0 so W starts at I). Default 42. */
  seed?: number;
  /** Standard deviation of V's initial entries. Default 1/√dim. */
  initStd?: number;
}

/** The forward pass kept for {@link AlignmentAdapter.backward}. */
export interface AdapterForward {
  /** Input rows (frozen embeddings), n x dim. */
  input: Matrix;
  /** Output rows, L2-normalised, n x dim. */
  output: Matrix;
  /** Norms of W·x before normalisation. */
  norms: Float64Array;
  /** X·Vᵀ (n x r), low rank only. */
  hidden?: Float64Array;
}

/** What is stored in an adapter file beside the weights. */
export interface AdapterConfig {
  dim: number;
  /** `null` for full rank. */
  rank: number | null;
  seed: number;
  /** Free-form training record (loss config, optimizer, data, epochs, ...). */
  training?: Record<string, unknown>;
}

/**
 * The alignment adapter: a linear map on top of a frozen encoder's embeddings, initialised
 * to the identity, then re-normalised:
 *
 *   e = W·x / ‖W·x‖,  W = I + Δ (full rank)  or  W = I + U·V (rank r, LoRA-style)
 *
 * Parameterising the *residual* makes AdamW's weight decay pull W toward the identity (the
 * frozen model) rather than toward 0. Because W is linear, normalising x first changes
 * nothing, so it may be trained on normalised cached embeddings and applied to pooled,
 * unnormalised ones (the embedder's `EmbedOptions.adapter` hook); it implements that hook
 * (`apply`, `id`).
 *
 * Backward (x frozen, so only parameter gradients): with G = dL/dy from the normalisation
 * backward, dΔ = Gᵀ·X; low rank: H = X·Vᵀ, dU = Gᵀ·H, dV = (G·U)ᵀ·X.
 *
 * @example
 * const adapter = AlignmentAdapter.create(384);                 // identity
 * const f = adapter.forward({ data: x, rows: n, cols: 384 });
 * adapter.backward(f, dLde); adapter.step(new AdamW({ lr: 1e-3 }));
 * saveAdapter('models/e5-small.adapter.safetensors', adapter);
 * const emb = await loadEmbedder('Xenova/multilingual-e5-small', { adapter: loadAdapter('models/e5-small.adapter.safetensors') });
 */
export class AlignmentAdapter {
  readonly dim: number;
  readonly rank: number | null;
  readonly seed: number;
  /** Full rank: Δ (dim x dim, row-major, W = I + Δ). */
  readonly delta?: Float32Array;
  /** Low rank: U (dim x r). */
  readonly u?: Float32Array;
  /** Low rank: V (r x dim). */
  readonly v?: Float32Array;
  /** Training record, saved with the weights. */
  training: Record<string, unknown> = {};
  private gDelta?: Float64Array;
  private gU?: Float64Array;
  private gV?: Float64Array;

  constructor(dim: number, params: { delta?: Float32Array; u?: Float32Array; v?: Float32Array; rank?: number | null; seed?: number }) {
    if (!Number.isInteger(dim) || dim < 1) throw xlError('AlignmentAdapter', `dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.rank = params.rank ?? null;
    this.seed = params.seed ?? 42;
    if (this.rank === null) {
      if (!params.delta || params.delta.length !== dim * dim) {
        throw xlError('AlignmentAdapter', `full-rank adapter needs delta with dim*dim = ${dim * dim} values, got ${params.delta?.length}`);
      }
      this.delta = params.delta;
      this.gDelta = new Float64Array(dim * dim);
    } else {
      const r = this.rank;
      if (!params.u || params.u.length !== dim * r || !params.v || params.v.length !== r * dim) {
        throw xlError('AlignmentAdapter', `rank-${r} adapter needs u (${dim}x${r}) and v (${r}x${dim}), got ${params.u?.length} and ${params.v?.length} values`);
      }
      this.u = params.u;
      this.v = params.v;
      this.gU = new Float64Array(dim * r);
      this.gV = new Float64Array(r * dim);
    }
  }

  /**
   * A new adapter equal to the identity map (see {@link AdapterOptions}).
   * @throws XlalignError when rank is not an integer in [1, dim].
   */
  static create(dim: number, options: AdapterOptions = {}): AlignmentAdapter {
    const { rank, seed = 42, initStd = 1 / Math.sqrt(dim) } = options;
    if (rank === undefined) return new AlignmentAdapter(dim, { delta: new Float32Array(dim * dim), seed });
    if (!Number.isInteger(rank) || rank < 1 || rank > dim) throw xlError('AlignmentAdapter.create', `rank must be an integer in [1, ${dim}], got ${rank}`);
    const rng = createRng(seed);
    const v = new Float32Array(rank * dim);
    for (let k = 0; k < v.length; k++) v[k] = rng.normal() * initStd;
    return new AlignmentAdapter(dim, { u: new Float32Array(dim * rank), v, rank, seed });
  }

  /** Number of trainable values. */
  get parameterCount(): number {
    return this.rank === null ? this.dim * this.dim : 2 * this.dim * this.rank;
  }

  /**
   * y = W·x for each row (no normalisation), into a new array of the input's kind:
   * y_a = x_a + Σ_b Δ[a,b] x_b, a dot product of contiguous rows of Δ and x.
   */
  private linear(x: Matrix): { y: FloatArray; hidden?: Float64Array } {
    const { dim } = this;
    if (x.cols !== dim) throw xlError('AlignmentAdapter', `input has ${x.cols} columns, the adapter expects ${dim}`);
    const n = x.rows;
    const xd = x.data;
    const y = x.data instanceof Float64Array ? new Float64Array(xd) : new Float32Array(xd);
    if (this.delta) {
      gemmABt(y, xd, n, this.delta, dim, dim, 1, true); // y = x + x·Δᵀ
      return { y };
    }
    const r = this.rank!;
    const hidden = new Float64Array(n * r);
    gemmABt(hidden, xd, n, this.v!, r, dim); // H = X·Vᵀ
    gemmABt(y, hidden, n, this.u!, dim, r, 1, true); // y = x + H·Uᵀ
    return { y, hidden };
  }

  /** Forward: normalised W·x of each input row, with what {@link backward} needs. */
  forward(input: Matrix): AdapterForward {
    const { y, hidden } = this.linear(input);
    const output = { data: y, rows: input.rows, cols: this.dim };
    const norms = normalizeRows(output);
    return { input, output, norms, hidden };
  }

  /**
   * Accumulate parameter gradients for dL/d(output) of a forward (`rows x dim`).
   * @throws XlalignError when the gradient has the wrong length.
   */
  backward(fwd: AdapterForward, gradOutput: FloatArray): void {
    const { dim } = this;
    const n = fwd.input.rows;
    if (gradOutput.length !== n * dim) throw xlError('AlignmentAdapter.backward', `gradient has ${gradOutput.length} values, expected ${n}x${dim}`);
    const g = normalizeRowsBackward(gradOutput, fwd.output, fwd.norms);
    const xT = transpose(fwd.input.data, n, dim);
    const gT = transpose(g, n, dim);
    if (this.gDelta) {
      gemmABt(this.gDelta, gT, dim, xT, dim, n, 1, true); // dΔ += Gᵀ·X
      return;
    }
    const r = this.rank!;
    gemmABt(this.gU!, gT, dim, transpose(fwd.hidden!, n, r), r, n, 1, true); // dU += Gᵀ·H
    const gh = new Float64Array(n * r);
    gemmABt(gh, g, n, transpose(this.u!, dim, r), r, dim); // dH = G·U
    gemmABt(this.gV!, transpose(gh, n, r), r, xT, dim, n, 1, true); // dV += dHᵀ·X
  }

  /** Apply the accumulated gradients with `optimizer`, then clear them. */
  step(optimizer: AdamW): void {
    if (this.delta) {
      optimizer.step('adapter.delta', this.delta, this.gDelta!);
      this.gDelta!.fill(0);
    } else {
      optimizer.step('adapter.u', this.u!, this.gU!);
      optimizer.step('adapter.v', this.v!, this.gV!);
      this.gU!.fill(0);
      this.gV!.fill(0);
    }
  }

  /** The accumulated gradients (for tests and logging): `delta`, or `u` and `v`. */
  gradients(): Record<string, Float64Array> {
    return this.gDelta ? { delta: this.gDelta } : { u: this.gU!, v: this.gV! };
  }

  /**
   * The embedder hook (`EmbedOptions.adapter`): W·x for `n` row-major vectors, normalised.
   * @throws XlalignError when `dim` differs from the adapter's.
   */
  apply(vectors: Float32Array, n: number, dim: number): Float32Array {
    if (dim !== this.dim) throw xlError('AlignmentAdapter.apply', `vectors have dim ${dim}, the adapter was trained for ${this.dim}`);
    const out = this.forward({ data: vectors, rows: n, cols: dim }).output.data;
    return out instanceof Float32Array ? out : Float32Array.from(out);
  }

  /** Identity for embedding caches: `adapter@sha256:<16 hex>` of the weights (recomputed on each read). */
  get id(): string {
    const parts = this.delta ? [this.delta] : [this.u!, this.v!];
    const bytes = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
    let o = 0;
    for (const p of parts) {
      bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), o);
      o += p.byteLength;
    }
    return `adapter@sha256:${sha256(bytes).slice(0, 16)}`;
  }

  /** The config stored with the weights. */
  getConfig(): AdapterConfig {
    return { dim: this.dim, rank: this.rank, seed: this.seed, training: this.training };
  }
}

/**
 * Save an adapter as a safetensors file (8-byte little-endian header length, JSON header
 * with each tensor's dtype/shape/offsets and `__metadata__.xlalign` = the JSON config, then
 * the raw little-endian F32 data), atomically. Loadable by Python's `safetensors` too.
 * @example saveAdapter('models/default.adapter.safetensors', adapter);
 */
export function saveAdapter(path: string, adapter: AlignmentAdapter): void {
  const tensors: [string, Float32Array, number[]][] = adapter.delta
    ? [['delta', adapter.delta, [adapter.dim, adapter.dim]]]
    : [
        ['u', adapter.u!, [adapter.dim, adapter.rank!]],
        ['v', adapter.v!, [adapter.rank!, adapter.dim]],
      ];
  const header: Record<string, unknown> = { __metadata__: { format: 'xlalign-adapter-v1', xlalign: JSON.stringify(adapter.getConfig()) } };
  let offset = 0;
  for (const [name, data, shape] of tensors) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // safetensors pads the header to 8 bytes
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let o = 8 + headerBytes.length;
  for (const [, data] of tensors) {
    // Float32Array bytes are little-endian on every platform Node runs on (x86, ARM).
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), o);
    o += data.byteLength;
  }
  writeFileAtomic(path, out);
}

/**
 * Load an adapter written by {@link saveAdapter}.
 * @throws XlalignError naming the file when it is missing, truncated, or not an xlalign adapter.
 * @example const adapter = loadAdapter('models/default.adapter.safetensors');
 */
export function loadAdapter(path: string): AlignmentAdapter {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (cause) {
    throw xlError('loadAdapter', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  if (buf.length < 8) throw xlError('loadAdapter', `${path}: ${buf.length} bytes, too short for a safetensors file`);
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (8 + headerLength > buf.length) throw xlError('loadAdapter', `${path}: header length ${headerLength} exceeds the file size ${buf.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  let config: AdapterConfig;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
    config = JSON.parse(header.__metadata__?.xlalign ?? 'null');
  } catch (cause) {
    throw xlError('loadAdapter', `${path}: header is not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (!config || typeof config.dim !== 'number') throw xlError('loadAdapter', `${path}: __metadata__.xlalign with the adapter config is missing; not an xlalign adapter`);
  const base = 8 + headerLength;
  const tensor = (name: string, size: number): Float32Array => {
    const t = header[name];
    if (!t || t.dtype !== 'F32') throw xlError('loadAdapter', `${path}: tensor '${name}' (F32) is missing`);
    const [start, end] = t.data_offsets;
    if (end - start !== size * 4 || base + end > buf.length) {
      throw xlError('loadAdapter', `${path}: tensor '${name}' has ${(end - start) / 4} values (file ${buf.length} bytes), expected ${size}`);
    }
    const copy = new Uint8Array(end - start);
    copy.set(buf.subarray(base + start, base + end));
    return new Float32Array(copy.buffer);
  };
  const { dim, rank, seed } = config;
  const adapter =
    rank === null
      ? new AlignmentAdapter(dim, { delta: tensor('delta', dim * dim), seed })
      : new AlignmentAdapter(dim, { u: tensor('u', dim * rank), v: tensor('v', rank * dim), rank, seed });
  adapter.training = config.training ?? {};
  return adapter;
}

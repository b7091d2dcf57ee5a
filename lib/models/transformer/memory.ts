/**
 * How much memory a forward + backward run of the training graph needs, so that runs can be
 * cut into micro-batches under a budget ({@link rowsPerRun}) and a head can decide whether the
 * activations of a batch can be kept between its forward and its backward pass.
 *
 * Per token and layer the backward reads these float32 activations (post-LN block as in
 * `graph.ts`, GELU's Φ recomputed): the block input (H, read by the Q/K/V layers' weight
 * gradients), Q·s, K, V split by head (3H), the attention probabilities (heads·T), the merged
 * context (H), the two LayerNorm inputs (2H), the attention block output (H), the
 * intermediate pre-activation and GELU output (2I): 8H + 2I + heads·T floats.
 */
import type { EncoderConfig } from './config.js';

/** Default budget of one ONNX Runtime training run's peak (MiB). */
export const DEFAULT_RUN_BUDGET_MIB = 512;

/**
 * Peak of a forward + backward run over what it keeps: the backward's temporaries (the
 * transposed copies of the attention, the gradients in flight). Measured at
 * multilingual-e5-small's shape (bench/encoder.ts): peak RSS grows by ~65 MB per 128-token
 * text, for 47.6 MB kept.
 */
export const RUN_PEAK_FACTOR = 1.4;

/**
 * Bytes of the activations a forward + backward run over `rows` texts of `seq` tokens
 * keeps for its backward (see the file comment), plus the embedding input and its gradient
 * (within 5% of what `forwardKeep` returns at hidden 384, 128 tokens).
 * @example estimateActivationBytes(e5SmallConfig, 32, 128) // ≈ 1.6e9
 */
export function estimateActivationBytes(c: EncoderConfig, rows: number, seq: number): number {
  const H = c.hiddenSize;
  const perTokenLayer = 8 * H + 2 * c.intermediateSize + c.numHeads * seq;
  return 4 * rows * seq * (c.numLayers * perTokenLayer + 2 * H);
}

/** Texts of `seq` tokens per run so that one run's estimated peak (kept x {@link RUN_PEAK_FACTOR}) stays under `budgetMiB` (at least 1). */
export function rowsPerRun(c: EncoderConfig, seq: number, budgetMiB: number): number {
  return Math.max(1, Math.floor((budgetMiB * 2 ** 20) / (RUN_PEAK_FACTOR * estimateActivationBytes(c, 1, seq))));
}

/**
 * The safetensors reader/writer lives in `lib/nn/safetensors.ts` (an earlier layer, so that
 * `lib/embed` reads sentence-transformers' Dense weights with the same code); re-exported
 * here for the family's modules.
 */
export * from '../../nn/safetensors.js';

/**
 * Seeded random unit vectors for the benchmarks (standard normal components, L2-normalised:
 * uniform on the sphere).
 */
import { createRng } from '../lib/util/rng.js';

/**
 * `n x dim` row-major float32 unit vectors from `seed`.
 * @example const docs = seededUnitVectors(200_000, 384, 2);
 */
export function seededUnitVectors(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let norm = 0;
    for (let t = 0; t < dim; t++) {
      const x = rng.normal();
      out[o + t] = x;
      norm += x * x;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let t = 0; t < dim; t++) out[o + t] *= inv;
  }
  return out;
}

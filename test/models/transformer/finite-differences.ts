/**
 * The tests' directional finite-difference check of a parameter group's gradient: along a
 * seeded random unit direction u over the group's entries, the central difference
 * (L(θ + εu) − L(θ − εu)) / 2ε against the analytic g·u.
 */
import type { Rng } from '../../../lib/util/rng.js';

/** A parameter group: the array it lives in, the entries checked, and their analytic gradient (in `idx` order). */
export interface GradGroup {
  name: string;
  values: Float32Array;
  idx: number[];
  grad: ArrayLike<number>;
}

/**
 * Perturb `grp.values` at `grp.idx` by ±eps along a random unit direction, evaluate `lossOf`
 * at both points and restore the values.
 * @returns the central difference `fd`, the analytic directional derivative and |grad|.
 */
export async function directionalDifference(grp: GradGroup, lossOf: () => Promise<number>, rng: Rng, eps = 1e-2): Promise<{ fd: number; analytic: number; gnorm: number }> {
  const u = grp.idx.map(() => rng.normal());
  const norm = Math.hypot(...u);
  const saved = grp.idx.map((i) => grp.values[i]);
  let analytic = 0;
  let gnorm = 0;
  grp.idx.forEach((_, j) => {
    u[j] /= norm;
    analytic += grp.grad[j] * u[j];
    gnorm += grp.grad[j] ** 2;
  });
  grp.idx.forEach((i, j) => (grp.values[i] = saved[j] + eps * u[j]));
  const plus = await lossOf();
  grp.idx.forEach((i, j) => (grp.values[i] = saved[j] - eps * u[j]));
  const minus = await lossOf();
  grp.idx.forEach((i, j) => (grp.values[i] = saved[j]));
  return { fd: (plus - minus) / (2 * eps), analytic, gnorm: Math.sqrt(gnorm) };
}

/**
 * The probe loss of the gradient tests, L = Σ r·p + ½ p² over the pooled values p (r: `n`
 * seeded normals drawn from `rng` now), with dL/dp = r + p.
 * @returns a function computing the loss and dL/dp at the current parameters.
 */
export function quadraticProbe(pooledOf: () => Promise<Float32Array>, n: number, rng: Rng): () => Promise<{ loss: number; grad: Float32Array }> {
  const r = Float64Array.from({ length: n }, () => rng.normal());
  return async () => {
    const pooled = await pooledOf();
    let loss = 0;
    const grad = new Float32Array(pooled.length);
    for (let i = 0; i < pooled.length; i++) {
      loss += r[i] * pooled[i] + 0.5 * pooled[i] * pooled[i];
      grad[i] = r[i] + pooled[i];
    }
    return { loss, grad };
  };
}

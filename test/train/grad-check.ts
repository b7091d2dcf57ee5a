// Test helpers (not a test file): random unit-row matrices and central finite differences.
import { createRng, type Rng } from '../../lib/util/rng.js';
import { normalizeRows, type Matrix } from '../../lib/nn/matrix.js';

/** A rows x cols Float64 matrix of seeded normal values, rows L2-normalised. */
export function randomUnitRows(rng: Rng, rows: number, cols: number): Matrix {
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++) data[k] = rng.normal();
  const m = { data, rows, cols };
  normalizeRows(m);
  return m;
}

/**
 * Largest relative error between `analytic` and the central difference (f(x+h) − f(x−h))/2h
 * (floor 1e-3 in the denominator, so tiny gradients are compared absolutely) over `samples` randomly chosen entries of `x` (or all entries when there are fewer).
 */
export function maxGradError(
  f: () => number,
  x: Float64Array,
  analytic: ArrayLike<number>,
  options: { samples?: number; h?: number; seed?: number } = {},
): number {
  const { samples = 40, h = 1e-6, seed = 7 } = options;
  const rng = createRng(seed);
  const idx = x.length <= samples ? [...x.keys()] : Array.from({ length: samples }, () => rng.int(x.length));
  let worst = 0;
  for (const k of idx) {
    const old = x[k];
    x[k] = old + h;
    const up = f();
    x[k] = old - h;
    const down = f();
    x[k] = old;
    const numeric = (up - down) / (2 * h);
    const err = Math.abs(numeric - analytic[k]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[k]));
    worst = Math.max(worst, err);
  }
  return worst;
}

export { createRng };

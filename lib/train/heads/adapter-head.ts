import { xlError } from '../../util/errors.js';
import type { AdamW } from '../../nn/adamw.js';
import type { AdapterForward, AlignmentAdapter } from '../adapter.js';
import type { ParallelBatch, ParallelGrads } from '../losses/types.js';
import type { TrainHead } from '../train-loop.js';

/** Frozen embeddings of training samples: four `size x dim` row-major arrays, row i for sample i. */
export interface ParallelEmbeddings {
  size: number;
  dim: number;
  queryPivot: Float32Array;
  queryTarget: Float32Array;
  docPivot: Float32Array;
  docTarget: Float32Array;
}

const ROLES = ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const;

/**
 * {@link TrainHead} for the alignment adapter over cached (frozen) embeddings: a batch's
 * 4·B rows are gathered, passed through the adapter in one forward, and split by role.
 *
 * @throws XlalignError when the embeddings' dim differs from the adapter's or arrays have the wrong size.
 * @example
 * const head = new AdapterHead(AlignmentAdapter.create(cached.dim), cached);
 * trainLoop(head, cached.size, { epochs: 3 });
 */
export class AdapterHead implements TrainHead {
  private last?: AdapterForward;
  private lastSize = 0;

  constructor(
    readonly adapter: AlignmentAdapter,
    readonly embeddings: ParallelEmbeddings,
  ) {
    const { size, dim } = embeddings;
    if (dim !== adapter.dim) throw xlError('AdapterHead', `embeddings have dim ${dim}, the adapter ${adapter.dim}`);
    for (const role of ROLES) {
      if (embeddings[role].length !== size * dim) {
        throw xlError('AdapterHead', `embeddings.${role} has ${embeddings[role].length} values, expected size*dim = ${size * dim}`);
      }
    }
  }

  /** Adapted, normalised embeddings of the batch's samples. */
  forward(batch: readonly number[]): ParallelBatch {
    const { dim } = this.embeddings;
    const b = batch.length;
    const input = new Float32Array(4 * b * dim);
    ROLES.forEach((role, r) => {
      const src = this.embeddings[role];
      batch.forEach((i, k) => input.set(src.subarray(i * dim, (i + 1) * dim), (r * b + k) * dim));
    });
    this.last = this.adapter.forward({ data: input, rows: 4 * b, cols: dim });
    this.lastSize = b;
    const out = this.last.output.data;
    const part = (r: number) => ({ data: out.subarray(r * b * dim, (r + 1) * b * dim), rows: b, cols: dim });
    return { queryPivot: part(0), queryTarget: part(1), docPivot: part(2), docTarget: part(3) };
  }

  /** Accumulate the adapter's gradients for the last forward. */
  backward(grads: ParallelGrads): void {
    if (!this.last) throw xlError('AdapterHead.backward', 'no forward to go back through; call forward(batch) first');
    const n = this.lastSize * this.embeddings.dim;
    const g = new Float32Array(4 * n);
    ROLES.forEach((role, r) => g.set(grads[role], r * n));
    this.adapter.backward(this.last, g);
  }

  /** One optimizer step on the adapter. */
  step(optimizer: AdamW): void {
    this.adapter.step(optimizer);
  }
}

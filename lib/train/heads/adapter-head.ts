import { xlError } from '../../util/errors.js';
import { AdamW, type AdamWOptions } from '../../nn/adamw.js';
import type { AdapterForward, AlignmentAdapter } from '../adapter.js';
import type { ParallelBatch, ParallelGrads } from '../losses/types.js';
import type { TrainableHead } from '../head.js';
import { optimizerConfig } from './optimizer-config.js';

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
 * {@link TrainableHead} for the alignment adapter over cached (frozen) embeddings: a batch's
 * 4·B rows are gathered, passed through the adapter in one forward, and split by role.
 * Owns its AdamW (`optimizer`: β₁, β₂, ε, weight decay; default weight decay 0.01, toward
 * the identity since it decays the residual Δ); the loop gives the learning rate per step.
 *
 * @throws XlalignError when the embeddings' dim differs from the adapter's or arrays have the wrong size.
 * @example
 * const head = new AdapterHead(AlignmentAdapter.create(cached.dim), cached, { weightDecay: 0.01 });
 * await trainLoop(head, cached.size, { epochs: 3 });
 */
export class AdapterHead implements TrainableHead {
  private last?: AdapterForward;
  private lastSize = 0;
  /** The head's optimizer; its `lr` is set by each {@link step}. */
  readonly optimizer: AdamW;

  constructor(
    readonly adapter: AlignmentAdapter,
    readonly embeddings: ParallelEmbeddings,
    optimizer: Omit<AdamWOptions, 'lr'> = {},
  ) {
    this.optimizer = new AdamW({ weightDecay: 0.01, ...optimizer });
    const { size, dim } = embeddings;
    if (dim !== adapter.dim) throw xlError('AdapterHead', `embeddings have dim ${dim}, the adapter ${adapter.dim}`);
    for (const role of ROLES) {
      if (embeddings[role].length !== size * dim) {
        throw xlError('AdapterHead', `embeddings.${role} has ${embeddings[role].length} values, expected size*dim = ${size * dim}`);
      }
    }
  }

  /** Adapted, normalised embeddings of the batch's samples. */
  async forward(batch: readonly number[]): Promise<ParallelBatch> {
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
  async backward(grads: ParallelGrads): Promise<void> {
    if (!this.last) throw xlError('AdapterHead.backward', 'no forward to go back through; call forward(batch) first');
    const n = this.lastSize * this.embeddings.dim;
    const g = new Float32Array(4 * n);
    ROLES.forEach((role, r) => g.set(grads[role], r * n));
    this.adapter.backward(this.last, g);
  }

  /** One AdamW step on the adapter at learning rate `lr`. */
  async step(lr: number): Promise<void> {
    this.optimizer.lr = lr;
    this.adapter.step(this.optimizer);
  }

  /** `{ head, weightDecay, optimizer }` for the loop's config. */
  getConfig(): Record<string, unknown> {
    return { head: 'AdapterHead', ...optimizerConfig(this.optimizer) };
  }
}

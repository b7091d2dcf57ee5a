import { xlError } from '../../util/errors.js';
import { AdamW, type AdamWOptions } from '../../nn/adamw.js';
import type { TrainingSample } from '../samples.js';
import type { ParallelBatch, ParallelGrads } from '../losses/types.js';
import type { TrainableHead } from '../head.js';
import { optimizerConfig } from './optimizer-config.js';
import { addSparse, backwardStatic, forwardStatic, type StaticEmbeddingModel, type StaticForward } from '../../models/static/table.js';

const ROLES = ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const;

/**
 * {@link TrainableHead} for the whole static embedding model (every token vector is a
 * parameter): the four texts of each sample are tokenized once up front, a batch is
 * forwarded through `forwardStatic` (masked mean + L2 normalisation), and the sparse row
 * gradients of the four roles are merged (`addSparse`) into one lazy-AdamW step per batch.
 * Owns its AdamW (`optimizer`; default weight decay 0: decay would shrink token vectors
 * toward 0, not toward the pretrained model).
 *
 * @example
 * const model = StaticEmbeddingModel.load('data/models/xlalign-static-v1');
 * await trainLoop(new StaticParallelHead(model, samples, { weightDecay: 0 }), samples.length, { lr: 1e-3 });
 */
export class StaticParallelHead implements TrainableHead {
  private readonly ids: Record<(typeof ROLES)[number], number[][]>;
  private last?: StaticForward[];
  private pending: ReturnType<typeof addSparse>[] = [];
  /** The head's optimizer; its `lr` is set by each {@link step}. */
  readonly optimizer: AdamW;

  constructor(
    readonly model: StaticEmbeddingModel,
    samples: readonly TrainingSample[],
    optimizer: Omit<AdamWOptions, 'lr'> = {},
  ) {
    if (samples.length === 0) throw xlError('StaticParallelHead', 'no samples');
    this.optimizer = new AdamW({ weightDecay: 0, ...optimizer });
    this.ids = {
      queryPivot: model.encode(samples.map((s) => s.queryPivot)),
      queryTarget: model.encode(samples.map((s) => s.queryTarget)),
      docPivot: model.encode(samples.map((s) => s.docPivot)),
      docTarget: model.encode(samples.map((s) => s.docTarget)),
    };
  }

  /** Normalised embeddings of the batch's four texts per sample. */
  async forward(batch: readonly number[]): Promise<ParallelBatch> {
    this.last = ROLES.map((role) =>
      forwardStatic(
        this.model.table,
        this.model.dim,
        batch.map((i) => this.ids[role][i]),
      ),
    );
    const [qp, qt, dp, dt] = this.last.map((f) => f.embeddings);
    return { queryPivot: qp, queryTarget: qt, docPivot: dp, docTarget: dt };
  }

  /** Sparse table gradients for the last forward (kept until {@link step}). */
  async backward(grads: ParallelGrads): Promise<void> {
    if (!this.last) throw xlError('StaticParallelHead.backward', 'no forward to go back through; call forward(batch) first');
    const parts = ROLES.map((role, r) => backwardStatic(this.last![r], grads[role]));
    this.pending.push(addSparse(this.model.dim, ...parts));
  }

  /** One lazy-AdamW step at learning rate `lr` on the rows touched since the last step. */
  async step(lr: number): Promise<void> {
    if (this.pending.length === 0) return;
    this.optimizer.lr = lr;
    this.model.step(this.optimizer, this.pending.length === 1 ? this.pending[0] : addSparse(this.model.dim, ...this.pending));
    this.pending = [];
  }

  /** `{ head, weightDecay, optimizer }` for the loop's config. */
  getConfig(): Record<string, unknown> {
    return { head: 'StaticParallelHead', ...optimizerConfig(this.optimizer) };
  }
}

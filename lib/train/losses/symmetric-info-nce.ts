import { xlError } from '../../util/errors.js';
import { infoNCE } from './info-nce.js';
import type { BatchLoss, PairBatch, PairGrads } from './types.js';

/** Options of {@link SymmetricInfoNCELoss}. */
export interface SymmetricInfoNCELossOptions {
  /** Softmax temperature τ. Default 0.05. */
  temperature?: number;
}

/**
 * SymmetricInfoNCELoss: symmetric InfoNCE over in-batch negatives on translation pairs
 * (sentence-transformers' MultipleNegativesSymmetricRankingLoss). With X the anchors and
 * E the positives of a {@link PairBatch} (B x dim each, rows L2-normalised):
 *
 *   L = ½ [ InfoNCE(X → E) + InfoNCE(E → X) ]
 *
 * each direction a softmax over the B rows of the other side at temperature τ, the
 * positive of row i being row i ({@link infoNCE} with one positive). Gradients:
 * dL/dX = ½ (dA/dX + dC/dX), dL/dE = ½ (dA/dE + dC/dE) for A = InfoNCE(X → E),
 * C = InfoNCE(E → X). The static model's pretraining loss (`lib/train/static/pretrain.ts`).
 *
 * Reference: van den Oord et al., "Representation Learning with Contrastive Predictive
 * Coding" (2018), eq. 4, applied in both directions as in Radford et al., "Learning
 * Transferable Visual Models From Natural Language Supervision" (CLIP, 2021), Fig. 3.
 *
 * | input        | role                                                 |
 * |--------------|------------------------------------------------------|
 * | anchors[b]   | text of pair b; positive positives[b], others negative |
 * | positives[b] | its translation; positive anchors[b], others negative |
 *
 * Related: {@link InfoNCELoss} (queries against both language versions of documents, on
 * parallel batches). `parts` holds the two directions unweighted (`xToE`, `eToX`).
 *
 * @throws XlalignError when τ ≤ 0 (and from {@link infoNCE} for mismatched shapes).
 * @example
 * const loss = new SymmetricInfoNCELoss({ temperature: 0.05 });
 * const { loss: value, grads } = loss.forward({ anchors: x, positives: e }); // grads.anchors: B x dim
 */
export class SymmetricInfoNCELoss implements BatchLoss<PairBatch, PairGrads> {
  readonly temperature: number;

  constructor(options: SymmetricInfoNCELossOptions = {}) {
    const { temperature = 0.05 } = options;
    if (!(temperature > 0)) throw xlError('SymmetricInfoNCELoss', `temperature must be > 0, got ${temperature}`);
    this.temperature = temperature;
  }

  /** Loss and gradients of one batch of pairs. */
  forward(batch: PairBatch): { loss: number; grads: PairGrads; parts: Record<string, number> } {
    const { anchors: x, positives: e } = batch;
    if (x.rows !== e.rows) throw xlError('SymmetricInfoNCELoss', `anchors have ${x.rows} rows but positives ${e.rows}`);
    const { temperature } = this;
    const a = infoNCE(x, e, (i) => [i], { temperature });
    const c = infoNCE(e, x, (i) => [i], { temperature });
    const gx = new Float64Array(a.grads.anchors.length);
    const ge = new Float64Array(a.grads.candidates.length);
    for (let k = 0; k < gx.length; k++) {
      gx[k] = 0.5 * (a.grads.anchors[k] + c.grads.candidates[k]);
      ge[k] = 0.5 * (a.grads.candidates[k] + c.grads.anchors[k]);
    }
    return { loss: 0.5 * (a.loss + c.loss), grads: { anchors: gx, positives: ge }, parts: { xToE: a.loss, eToX: c.loss } };
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'SymmetricInfoNCELoss', temperature: this.temperature };
  }
}

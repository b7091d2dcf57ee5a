import { checkOneOf, xlError } from '../../util/errors.js';
import { zerosLike } from '../../nn/matrix.js';
import { infoNCE } from './info-nce.js';
import { checkBatch, type LossResult, type ParallelBatch, type ParallelGrads, type ParallelLoss } from './types.js';

/** The batch fields {@link StudyInfoNCELoss} can pair. */
export const BATCH_FIELDS = ['queryPivot', 'queryTarget', 'docPivot', 'docTarget'] as const;
export type BatchField = (typeof BATCH_FIELDS)[number];

/** Options of {@link StudyInfoNCELoss}; defaults in the field comments. */
export interface StudyInfoNCELossOptions {
  /** Softmax temperature τ on cosine similarities. The study gives none. Default 0.05 (scale 20, as sentence-transformers and CLEAR). */
  temperature?: number;
  /** The anchors. Default `docTarget` (p_tgt). */
  anchor?: BatchField;
  /** The candidates: row b is the positive of anchor b, the other rows its negatives. Default `queryPivot` (q_en); `docPivot` gives L_NCEpsg. */
  candidates?: BatchField;
  /** Name of the loss in `parts` (`infoNCE`, `ncePsg`). Default `infoNCE`. */
  part?: string;
}

/**
 * StudyInfoNCELoss: the study's L_NCE, a one-positive InfoNCE with cosine similarity
 * between two fields of a {@link ParallelBatch}. Default: anchor = the target-language
 * passage p_tgt (docTarget_b), positive = its English query q_en (queryPivot_b), negatives =
 * the English queries of the other B − 1 samples in the batch:
 *
 *   L_NCE = (1/B) Σ_b [ log Σ_j exp(cos(p_tgt_b, q_en_j)/τ) − cos(p_tgt_b, q_en_b)/τ ]
 *
 * With `candidates: 'docPivot'` it is the ablation L_NCEpsg (the study's row where JSD is
 * replaced by an InfoNCE between the parallel passages p_tgt and p_en). Rows are
 * L2-normalised by the heads (the {@link ParallelBatch} contract), so the dot product is the
 * cosine. Gradients are those of {@link infoNCE} (hand-written, checked by finite
 * differences); the two fields not used get zeros.
 *
 * Reference: arXiv 2604.05684 (ICLR 2026), the retrieval term of its objective (definition
 * from a public write-up; the code is not released); van den Oord et al. (2018), eq. 4.
 *
 * | input        | role (default)                                   |
 * |--------------|--------------------------------------------------|
 * | docTarget_b  | anchor (p_tgt)                                   |
 * | queryPivot_b | positive of anchor b (q_en); others: negatives    |
 * | docPivot, queryTarget | unused (gradient 0)                     |
 *
 * Related: {@link InfoNCELoss} (ours: both query versions against the in-batch documents of
 * both languages, two positives each), {@link StudyLoss}, {@link StudyJsdLoss}.
 *
 * @throws XlalignError when τ ≤ 0, anchor and candidates are the same field, or the batch's shapes disagree.
 * @example
 * const nce = new StudyInfoNCELoss();                                              // L_NCE
 * const psg = new StudyInfoNCELoss({ candidates: 'docPivot', part: 'ncePsg' });    // L_NCEpsg
 */
export class StudyInfoNCELoss implements ParallelLoss {
  readonly temperature: number;
  readonly anchor: BatchField;
  readonly candidates: BatchField;
  readonly part: string;

  constructor(options: StudyInfoNCELossOptions = {}) {
    const { temperature = 0.05, anchor = 'docTarget', candidates = 'queryPivot', part = 'infoNCE' } = options;
    if (!(temperature > 0)) throw xlError('StudyInfoNCELoss', `temperature must be > 0, got ${temperature}`);
    this.anchor = checkOneOf('StudyInfoNCELoss', 'anchor', anchor, BATCH_FIELDS);
    this.candidates = checkOneOf('StudyInfoNCELoss', 'candidates', candidates, BATCH_FIELDS);
    if (anchor === candidates) throw xlError('StudyInfoNCELoss', `anchor and candidates are both '${anchor}'; use two different fields`);
    this.temperature = temperature;
    this.part = part;
  }

  /** Loss and gradients for one batch (see the class comment). */
  forward(batch: ParallelBatch): LossResult {
    const { size, dim } = checkBatch('StudyInfoNCELoss', batch);
    const r = infoNCE(batch[this.anchor], batch[this.candidates], (i) => [i], { temperature: this.temperature });
    const grads = {} as ParallelGrads;
    for (const f of BATCH_FIELDS) grads[f] = zerosLike(batch[f].data, size * dim);
    grads[this.anchor] = r.grads.anchors;
    grads[this.candidates] = r.grads.candidates;
    return { loss: r.loss, grads, parts: { [this.part]: r.loss } };
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return { name: 'StudyInfoNCELoss', temperature: this.temperature, anchor: this.anchor, candidates: this.candidates };
  }
}

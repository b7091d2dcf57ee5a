import { xlError } from '../../util/errors.js';
import { InfoNCELoss, type InfoNCELossOptions } from './info-nce.js';
import { JensenShannonLoss, type JensenShannonLossOptions } from './jensen-shannon.js';
import { forwardViaScores, type BatchScores, type ScoresLoss, type ScoresLossResult } from './scores.js';
import type { LossResult, ParallelBatch, ParallelLoss } from './types.js';

/** Options of {@link AlignmentLoss}. */
export interface AlignmentLossOptions {
  /** Weight of the InfoNCE term; 0 switches it off (ablation "JSD only"). Default 1. */
  infoNCEWeight?: number;
  /** λ, weight of the Jensen-Shannon term; 0 switches it off (ablation "InfoNCE only"). Default 1. */
  jsdWeight?: number;
  /** Options of the InfoNCE term. Default `{ temperature: 0.05, symmetric: false, multiPositive: 'each' }`. */
  infoNCE?: InfoNCELossOptions;
  /** Options of the JSD term. Default `{ temperature: 0.05, sides: 'both' }`. */
  jensenShannon?: JensenShannonLossOptions;
}

/**
 * AlignmentLoss: our earlier reading of the study's remedy, L = w·InfoNCE + λ·JSD on a
 * {@link ParallelBatch} (defaults w = 1, λ = 1); the loss variant `alignment`. InfoNCE teaches
 * retrieval of both parallel documents from both query languages; JSD makes parallel texts
 * induce the same score distribution over the in-batch candidates. It differs from the
 * study's objective ({@link StudyLoss}, the default of `xlalign train`): the study's InfoNCE has
 * one anchor (p_tgt) and one positive (q_en), and its JSD compares two passages' softmaxes
 * over their embedding dimensions (square-rooted), not score distributions over documents.
 * Every choice is an option here and is reported by `getConfig()`.
 *
 * | input                                        | see                 |
 * |----------------------------------------------|---------------------|
 * | queryPivot, queryTarget, docPivot, docTarget | {@link ParallelBatch} |
 *
 * Related: {@link InfoNCELoss}, {@link JensenShannonLoss}.
 * @throws XlalignError when a weight is negative or both are 0.
 * @example
 * const loss = new AlignmentLoss({ jsdWeight: 1 });            // InfoNCE + JSD
 * const ablation = new AlignmentLoss({ jsdWeight: 0 });        // InfoNCE only
 * const { loss: value, parts } = loss.forward(batch);          // parts.infoNCE, parts.jsd
 */
export class AlignmentLoss implements ParallelLoss, ScoresLoss {
  readonly infoNCEWeight: number;
  readonly jsdWeight: number;
  readonly infoNCE: InfoNCELoss;
  readonly jensenShannon: JensenShannonLoss;

  constructor(options: AlignmentLossOptions = {}) {
    const { infoNCEWeight = 1, jsdWeight = 1 } = options;
    if (!(infoNCEWeight >= 0) || !(jsdWeight >= 0)) {
      throw xlError('AlignmentLoss', `weights must be >= 0, got infoNCEWeight=${infoNCEWeight}, jsdWeight=${jsdWeight}`);
    }
    if (infoNCEWeight === 0 && jsdWeight === 0) throw xlError('AlignmentLoss', 'infoNCEWeight and jsdWeight are both 0');
    this.infoNCEWeight = infoNCEWeight;
    this.jsdWeight = jsdWeight;
    this.infoNCE = new InfoNCELoss(options.infoNCE);
    this.jensenShannon = new JensenShannonLoss(options.jensenShannon);
  }

  /** Weighted sum of the enabled terms; `parts` holds each term unweighted. */
  forward(batch: ParallelBatch): LossResult {
    return forwardViaScores('AlignmentLoss', this, batch);
  }

  /**
   * Both terms on the one similarity matrix S = Q·Dᵀ of the batch (computed once), their
   * dL/dS summed with the weights, so the backward to the embeddings runs once.
   */
  forwardScores(scores: BatchScores): ScoresLossResult {
    const terms: [number, ScoresLossResult][] = [];
    if (this.infoNCEWeight > 0) terms.push([this.infoNCEWeight, this.infoNCE.forwardScores(scores)]);
    if (this.jsdWeight > 0) terms.push([this.jsdWeight, this.jensenShannon.forwardScores(scores)]);
    const gradS = new Float64Array(scores.s.length);
    let loss = 0;
    const parts: Record<string, number> = {};
    for (const [w, r] of terms) {
      loss += w * r.loss;
      for (let k = 0; k < gradS.length; k++) gradS[k] += w * r.gradS[k];
      Object.assign(parts, r.parts);
    }
    return { loss, gradS, parts };
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return {
      name: 'AlignmentLoss',
      infoNCEWeight: this.infoNCEWeight,
      jsdWeight: this.jsdWeight,
      infoNCE: this.infoNCE.getConfig(),
      jensenShannon: this.jensenShannon.getConfig(),
    };
  }
}

import { checkOneOf, xlError } from '../../util/errors.js';
import { StudyInfoNCELoss } from './study-infonce.js';
import { StudyJsdLoss, type StudyJsdLossOptions } from './study-jsd.js';
import { checkBatch, type LossResult, type ParallelBatch, type ParallelGrads, type ParallelLoss } from './types.js';

/** The alignment terms {@link StudyLoss} can use: the study's JSD, its InfoNCE-between-passages ablation, or none. */
export const STUDY_ALIGNMENT_TERMS = ['jsd', 'nce-psg', 'none'] as const;
export type StudyAlignmentTerm = (typeof STUDY_ALIGNMENT_TERMS)[number];

/** Options of {@link StudyLoss}; defaults in the field comments. */
export interface StudyLossOptions {
  /** The alignment term: `jsd` (L_JSD, default), `nce-psg` (L_NCEpsg, InfoNCE p_tgt -> p_en) or `none`. */
  alignment?: StudyAlignmentTerm;
  /** Include the retrieval term L_NCE. Default true. */
  retrieval?: boolean;
  /** Weight of the alignment term. Default 1 (the study: equal weights, not tuned). */
  alignmentWeight?: number;
  /** Temperature τ of L_NCE and L_NCEpsg. Default 0.05. */
  nceTemperature?: number;
  /** Options of L_JSD (temperature default 1, normalize default true, epsilon default 1e-8). */
  jsd?: StudyJsdLossOptions;
}

/**
 * StudyLoss: the objective of arXiv 2604.05684 (ICLR 2026), L = L_JSD + L_NCE, and its
 * ablation rows as options:
 *
 * | variant            | options                                   | L                       |
 * |--------------------|-------------------------------------------|-------------------------|
 * | full (the study)   | `{}`                                      | L_JSD + L_NCE           |
 * | L_NCEpsg           | `{ alignment: 'nce-psg' }`                | L_NCEpsg + L_NCE        |
 * | without L_JSD      | `{ alignment: 'none' }`                   | L_NCE                   |
 * | without L_NCE      | `{ retrieval: false }`                    | L_JSD                   |
 *
 * L_JSD = mean_b sqrt(JSD(softmax(p_en_b/τ_J) ‖ softmax(p_tgt_b/τ_J)) + ε) over the embedding's
 * dimensions ({@link StudyJsdLoss}); L_NCE = InfoNCE with cosine similarity, anchor p_tgt,
 * positive q_en, negatives the other in-batch English queries ({@link StudyInfoNCELoss});
 * L_NCEpsg = the same with the English passages p_en as candidates. The alignment term may
 * be weighted (`alignmentWeight`, default 1 as in the study).
 *
 * | input       | used by                        |
 * |-------------|--------------------------------|
 * | queryPivot  | L_NCE (q_en)                   |
 * | docPivot    | L_JSD, L_NCEpsg (p_en)         |
 * | docTarget   | L_JSD, L_NCE, L_NCEpsg (p_tgt) |
 * | queryTarget | none (gradient 0)              |
 *
 * Related: {@link AlignmentLoss} (our earlier formulation: InfoNCE of both query versions
 * over both languages' documents + λ·JSD of score distributions).
 *
 * @throws XlalignError when no term is left, or a weight is negative.
 * @example
 * const loss = new StudyLoss();                               // the study
 * const { loss: value, parts } = loss.forward(batch);         // parts.jsd, parts.jsdRaw, parts.infoNCE
 */
export class StudyLoss implements ParallelLoss {
  readonly alignment: StudyAlignmentTerm;
  readonly retrieval: boolean;
  readonly alignmentWeight: number;
  readonly terms: [number, ParallelLoss][];

  constructor(options: StudyLossOptions = {}) {
    const { alignment = 'jsd', retrieval = true, alignmentWeight = 1, nceTemperature = 0.05 } = options;
    this.alignment = checkOneOf('StudyLoss', 'alignment', alignment, STUDY_ALIGNMENT_TERMS);
    if (!(alignmentWeight >= 0)) throw xlError('StudyLoss', `alignmentWeight must be >= 0, got ${alignmentWeight}`);
    this.retrieval = retrieval;
    this.alignmentWeight = alignmentWeight;
    this.terms = [];
    if (alignment === 'jsd' && alignmentWeight > 0) this.terms.push([alignmentWeight, new StudyJsdLoss(options.jsd)]);
    if (alignment === 'nce-psg' && alignmentWeight > 0) {
      this.terms.push([alignmentWeight, new StudyInfoNCELoss({ temperature: nceTemperature, candidates: 'docPivot', part: 'ncePsg' })]);
    }
    if (retrieval) this.terms.push([1, new StudyInfoNCELoss({ temperature: nceTemperature })]);
    if (this.terms.length === 0) throw xlError('StudyLoss', `no term left (alignment '${alignment}', weight ${alignmentWeight}, retrieval ${retrieval})`);
  }

  /** Weighted sum of the terms; `parts` holds each term unweighted (and `jsdRaw`, the JSD before the root). */
  forward(batch: ParallelBatch): LossResult {
    checkBatch('StudyLoss', batch);
    let loss = 0;
    let grads: ParallelGrads | undefined;
    const parts: Record<string, number> = {};
    for (const [w, term] of this.terms) {
      const r = term.forward(batch);
      loss += w * r.loss;
      Object.assign(parts, r.parts);
      if (!grads) {
        grads = r.grads;
        if (w !== 1) for (const g of Object.values(grads)) for (let k = 0; k < g.length; k++) g[k] *= w;
      } else {
        for (const f of Object.keys(grads) as (keyof ParallelGrads)[]) {
          const g = grads[f];
          const h = r.grads[f];
          for (let k = 0; k < g.length; k++) g[k] += w * h[k];
        }
      }
    }
    return { loss, grads: grads!, parts };
  }

  /** Hyperparameters for logging. */
  getConfig(): Record<string, unknown> {
    return {
      name: 'StudyLoss', alignment: this.alignment, retrieval: this.retrieval, alignmentWeight: this.alignmentWeight,
      terms: this.terms.map(([w, t]) => ({ weight: w, ...t.getConfig() })),
    };
  }
}

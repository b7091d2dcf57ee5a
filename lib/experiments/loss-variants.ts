import { xlError } from '../util/errors.js';
import { AlignmentLoss } from '../train/losses/alignment-loss.js';
import { StudyLoss } from '../train/losses/study-loss.js';
import type { ParallelLoss } from '../train/losses/types.js';

/** The hyperparameters the variants share; defaults in the field comments. */
export interface LossSettings {
  /** Weight of the alignment term: L_JSD or L_NCEpsg in `study*`, λ of the score JSD in `alignment`. Default 1. */
  lambda?: number;
  /** Temperature of every InfoNCE (and of the score JSD of `alignment`, `jsd`). Default 0.05. */
  temperature?: number;
  /** `study*`: temperature of the softmax over dimensions in L_JSD. Default 1. */
  jsdTemperature?: number;
  /** `study*`: L2-normalise embeddings before that softmax. Default true. */
  jsdNormalize?: boolean;
}

/** One named loss: what it is, and how it is built from {@link LossSettings}. */
export interface LossVariantSpec {
  describe: string;
  make(settings: Required<LossSettings>): ParallelLoss;
}

const study = (s: Required<LossSettings>, more: ConstructorParameters<typeof StudyLoss>[0] = {}) =>
  new StudyLoss({ alignmentWeight: s.lambda, nceTemperature: s.temperature, jsd: { temperature: s.jsdTemperature, normalize: s.jsdNormalize }, ...more });
const ours = (s: Required<LossSettings>, infoNCEWeight: number, jsdWeight: number) =>
  new AlignmentLoss({ infoNCEWeight, jsdWeight, infoNCE: { temperature: s.temperature }, jensenShannon: { temperature: s.temperature } });

/**
 * The loss variants of `xlalign train --loss` and `xlalign ablate`, one line each. `study`
 * (the default) and its three ablation rows are the objective of arXiv 2604.05684
 * ({@link StudyLoss}); `alignment`, `infonce` and `jsd` are our earlier formulation
 * ({@link AlignmentLoss}: InfoNCE of both query versions against the in-batch documents of
 * both languages, JSD between *score* distributions over in-batch candidates) and its terms.
 */
export const LOSS_VARIANT_TABLE = {
  study: { describe: 'the study: L_JSD (dimension softmax of p_en vs p_tgt) + L_NCE (p_tgt -> q_en)', make: (s) => study(s) },
  'study-ncepsg': { describe: 'study ablation: L_JSD replaced by InfoNCE p_tgt -> p_en, + L_NCE', make: (s) => study(s, { alignment: 'nce-psg' }) },
  'study-no-jsd': { describe: 'study ablation: L_NCE only', make: (s) => study(s, { alignment: 'none' }) },
  'study-no-nce': { describe: 'study ablation: L_JSD only', make: (s) => study(s, { retrieval: false }) },
  alignment: { describe: 'xlalign\'s earlier formulation: InfoNCE over both languages + λ·JSD of score distributions', make: (s) => ours(s, 1, s.lambda) },
  infonce: { describe: 'ours: the InfoNCE term of `alignment` alone', make: (s) => ours(s, 1, 0) },
  jsd: { describe: 'ours: the score-JSD term of `alignment` alone', make: (s) => ours(s, 0, s.lambda || 1) },
} satisfies Record<string, LossVariantSpec>;

export type LossVariant = keyof typeof LOSS_VARIANT_TABLE;
/** All variant names, in table order. */
export const LOSS_VARIANTS = Object.keys(LOSS_VARIANT_TABLE) as LossVariant[];
/** The default of `train` and `ablate`: the study's objective. */
export const DEFAULT_LOSS: LossVariant = 'study';
/** What `xlalign ablate` trains by default: the study, its ablation rows, and our earlier formulation. */
export const ABLATION_VARIANTS: readonly LossVariant[] = ['study', 'study-ncepsg', 'study-no-jsd', 'study-no-nce', 'alignment'];

/**
 * Build the loss of a named variant.
 * @throws XlalignError for an unknown name (listing the known ones).
 * @example const loss = makeLoss('study', { jsdTemperature: 0.05 });
 */
export function makeLoss(variant: string, settings: LossSettings = {}): ParallelLoss {
  const spec = (LOSS_VARIANT_TABLE as Record<string, LossVariantSpec>)[variant];
  if (!spec) throw xlError('makeLoss', `unknown loss '${variant}'; use ${LOSS_VARIANTS.map((v) => `'${v}'`).join(', ')}`);
  const { lambda = 1, temperature = 0.05, jsdTemperature = 1, jsdNormalize = true } = settings;
  return spec.make({ lambda, temperature, jsdTemperature, jsdNormalize });
}

/**
 * Alignment fine-tuning: the public API of `lib/train` in one place (the `xlalign/train`
 * entry point; `lib/index.ts` re-exports the part a researcher drives, not the kernels).
 *
 * - data: {@link splitXquadArticles} (leakage-free 24/24 article split), {@link buildTrainingSamples}
 *   (2800 balanced parallel samples from the train articles), JSONL load/save;
 * - losses: {@link StudyLoss} (the study's L_JSD + L_NCE, default; {@link StudyJsdLoss}, {@link StudyInfoNCELoss}),
 *   {@link InfoNCELoss}, {@link JensenShannonLoss}, {@link AlignmentLoss} (our earlier InfoNCE + λ·JSD),
 *   and the matrix forms {@link infoNCE}, {@link jensenShannonSoftmax};
 * - optimiser: {@link AdamW} (dense and sparse rows);
 * - models: {@link AlignmentAdapter} over any frozen embedder ({@link trainAdapter}, saved as
 *   safetensors), the whole static model ({@link fineTuneStaticModel});
 * - loop: {@link trainLoop} (async) over any {@link TrainableHead}; the static model's pretraining
 *   runs through it too ({@link trainStaticModel}: {@link StaticPairHead}, {@link SymmetricInfoNCELoss}).
 *
 * @example
 * import { buildTrainingSamples, trainAdapter, splitXquadArticles } from 'xlalign/train';
 * const split = splitXquadArticles();
 * const { adapter } = await trainAdapter({ embedder, samples: buildTrainingSamples({ split }), out: 'runs/adapter.safetensors' });
 */
export { AdamW, type AdamWOptions } from '../nn/adamw.js';
export { AlignmentAdapter, loadAdapter, saveAdapter, type AdapterConfig, type AdapterOptions } from './adapter.js';
export { buildTrainingSamples, loadTrainingJsonl, saveTrainingJsonl, TrainingSampleSchema, type TrainingSample, type TrainingSetOptions } from './samples.js';
export { fineTuneStaticModel, type FineTuneStaticOptions, type FineTuneStaticResult } from './fine-tune-static.js';
export { AdapterHead, type ParallelEmbeddings } from './heads/adapter-head.js';
export { StaticParallelHead } from './heads/static-parallel-head.js';
export { StaticPairHead, type PairText, type StaticPairHeadOptions } from './heads/static-pair-head.js';
export type { TrainableHead } from './head.js';
export { SymmetricInfoNCELoss, type SymmetricInfoNCELossOptions } from './losses/symmetric-info-nce.js';
export { trainStaticModel, type TrainStaticOptions, type TrainStaticResult } from './static/pretrain.js';
export { AlignmentLoss, type AlignmentLossOptions } from './losses/alignment-loss.js';
export { infoNCE, InfoNCELoss, type InfoNCELossOptions, type InfoNCEOptions } from './losses/info-nce.js';
export { jensenShannonDivergence, jensenShannonSoftmax, JensenShannonLoss, JSD_SIDES, type JensenShannonLossOptions } from './losses/jensen-shannon.js';
export { StudyInfoNCELoss, type StudyInfoNCELossOptions } from './losses/study-infonce.js';
export { StudyJsdLoss, type StudyJsdLossOptions } from './losses/study-jsd.js';
export { STUDY_ALIGNMENT_TERMS, StudyLoss, type StudyLossOptions } from './losses/study-loss.js';
export type { BatchLoss, LossResult, PairBatch, PairGrads, ParallelBatch, ParallelGrads, ParallelLoss } from './losses/types.js';
export { matrix, normalizeRows, type FloatArray, type Matrix } from '../nn/matrix.js';
export { DEFAULT_SPLIT_SEED, filterXquad, splitCorpus, splitPartOf, splitXquadArticles, xquadArticleOf, type SplitPart, type XquadSplit } from '../data/split.js';
export { embedTrainingSamples, trainAdapter, type TrainAdapterOptions, type TrainAdapterResult, type TrainingEmbedder } from './train-adapter.js';
export { learningRate, lossCurveCsv, makeBatches, trainLoop, TRAIN_DEFAULTS, type LossRow, type LrSchedule, type TrainLoopOptions, type TrainLoopResult } from './train-loop.js';

/**
 * xlalign's public entry point: everything a notebook or another program needs, re-exported
 * flat (`const xl = require('../dist/index.js'); xl.loadXquad('de')`). Modules are split by
 * topic along the data flow: data -> pools -> embed -> retrieve -> metrics/eval -> train -> plot.
 *
 * Internal pieces (the ONNX top-k graph builder, training matrix kernels, the static model's
 * build pipeline) stay importable from their own modules but are not part of this surface.
 * Names are unique across modules (TypeScript rejects a clash of two `export *`).
 */

// Shared
export * from './util/errors.js';
export * from './util/rng.js';
export * from './util/fs.js';
export * from './util/progress.js';
export * from './util/threads.js';
export * from './util/text-file.js';

// Data
export * from './data/xquad.js';
export * from './data/tatoeba.js';
export * from './data/belebele.js';
export * from './data/parallel.js';
export * from './data/jsonl-dataset.js';
export * from './data/beir.js';
export * from './data/registry.js';
export { checkCorpusNeeds, type CorpusNeed } from './data/corpus-rows.js';
export * from './data/lang-tag.js';
export * from './data/training-data.js';
export * from './data/udhr.js';
export * from './data/cldr.js';

// Pools
export * from './pools/types.js';
export * from './pools/build-pool.js';
export * from './pools/doc-unit.js';

// Embedding
export * from './embed/index.js';

// Model families
export { writeStaticModel, readStaticModel, buildStaticOnnx, defaultTokenizerConfig, STATIC_TABLE_NAME, STATIC_OPSET, type StaticModel, type StaticOnnxOptions } from './models/static/format.js';

// Retrieval
export * from './retrieve/types.js';
export * from './retrieve/tokenize.js';
export * from './retrieve/bm25.js';
export * from './retrieve/exact-topk.js';
export * from './retrieve/dense-retriever.js';
export * from './retrieve/resolve-retriever.js';

// Metrics and evaluation
export * from './metrics/index.js';
export * from './runs/trec-io.js';
export * from './results/metric-rows.js';
export * from './results/paper-table.js';
export * from './results/settings.js';
export * from './results/config.js';
export * from './results/ablation.js';
export * from './results/table-format.js';
export * from './eval/run-evaluation.js';
export * from './eval/run-volume.js';
export * from './eval/compare.js';
export * from './eval/leakage.js';
export * from './eval/bootstrap.js';
export * from './eval/score-run.js';

// Alignment training: what a researcher drives (heads, losses, the loop, samples). The
// numerical kernels (infoNCE/JSD on score matrices, matrix ops, batching, the static table's
// forward/backward) stay in their modules and in the `xlalign/train` entry point.
export {
  AlignmentAdapter, loadAdapter, saveAdapter, type AdapterConfig, type AdapterOptions,
  buildTrainingSamples, loadTrainingJsonl, saveTrainingJsonl, TrainingSampleSchema, type TrainingSample, type TrainingSetOptions,
  fineTuneStaticModel, type FineTuneStaticOptions, type FineTuneStaticResult,
  AdapterHead, StaticParallelHead, StaticPairHead, type ParallelEmbeddings, type PairText, type StaticPairHeadOptions, type TrainableHead,
  AlignmentLoss, InfoNCELoss, JensenShannonLoss, SymmetricInfoNCELoss, StudyInfoNCELoss, StudyJsdLoss, StudyLoss, STUDY_ALIGNMENT_TERMS,
  type AlignmentLossOptions, type InfoNCELossOptions, type JensenShannonLossOptions, type SymmetricInfoNCELossOptions,
  type StudyInfoNCELossOptions, type StudyJsdLossOptions, type StudyLossOptions,
  type BatchLoss, type LossResult, type PairBatch, type PairGrads, type ParallelBatch, type ParallelGrads, type ParallelLoss,
  trainStaticModel, type TrainStaticOptions, type TrainStaticResult,
  DEFAULT_SPLIT_SEED, filterXquad, splitCorpus, splitPartOf, splitXquadArticles, xquadArticleOf, type SplitPart, type XquadSplit,
  embedTrainingSamples, trainAdapter, type TrainAdapterOptions, type TrainAdapterResult, type TrainingEmbedder,
  trainLoop, TRAIN_DEFAULTS, type LossRow, type LrSchedule, type TrainLoopOptions, type TrainLoopResult,
} from './train/index.js';
export { StaticEmbeddingModel, type CreateStaticOptions, type SaveStaticOptions } from './models/static/table.js';
export * from './metrics/bitext-accuracy.js';
export * from './experiments/alignment.js';
export * from './experiments/study.js';
export { HEAD_ALIASES, HEAD_NAMES, HEADS, headForModel, resolveHead, type HeadEntry, type HeadName, type HeadOptionSpec } from './train/heads/registry.js';
// Transformer encoders (BERT, XLM-R): forward/backward on ONNX Runtime, fine-tuning
export * from './models/transformer/index.js';
export { EncoderHead, WORD_EMBEDDING_MODES, type EncoderHeadOptions, type WordEmbeddingMode } from './train/heads/encoder-head.js';
export { fineTuneEncoder, type FineTuneEncoderOptions, type FineTuneEncoderResult } from './train/fine-tune-encoder.js';

// Plots and figures
export * from './plot/index.js';

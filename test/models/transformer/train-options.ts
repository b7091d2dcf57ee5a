import { buildTrainingSamples } from '../../../lib/train/samples.js';
import type { FineTuneEncoderOptions } from '../../../lib/train/fine-tune-encoder.js';

/** Small, fast, deterministic fine-tuning options on real XQuAD samples (shared by the resume test and its child). */
export function trainOptions(modelDir: string): FineTuneEncoderOptions {
  return {
    modelDir,
    samples: buildTrainingSamples({ size: 12, langs: ['de', 'ru'], seed: 1 }),
    batchSize: 4,
    epochs: 2,
    lr: 1e-3,
    maxLength: 24,
    microBatch: 3,
    threads: 1,
    checkpointEvery: 1,
    wordEmbeddings: 'sparse',
    progress: false,
    seed: 5,
  };
}

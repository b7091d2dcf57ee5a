import { join } from 'node:path';
import { xlError } from '../util/errors.js';
import type { TrainingSample } from './samples.js';
import { StaticEmbeddingModel } from '../models/static/table.js';
import { StaticParallelHead } from './heads/static-parallel-head.js';
import { trainLoop, type TrainLoopOptions, type TrainLoopResult } from './train-loop.js';
import { writeTrainingRecord } from '../results/training-record.js';

/** Options of {@link fineTuneStaticModel}: the data and model folders, and the loop's options. */
export interface FineTuneStaticOptions extends TrainLoopOptions {
  /** Folder of the static model to start from (e.g. `data/models/xlalign-static-v1`). */
  modelDir: string;
  /** Training samples. */
  samples: readonly TrainingSample[];
  /** Write the fine-tuned model folder here (transformers.js-loadable) with `training.json` and `loss.csv`. Default: not written. */
  outDir?: string;
  /** Model name in the new folder's config. Default `<loaded name>-aligned`. */
  name?: string;
  /** Keep samples that share `docId` out of one batch. Default true. */
  groupByDoc?: boolean;
  /** AdamW decoupled weight decay of the head's optimizer. Default 0. */
  weightDecay?: number;
}

/** What {@link fineTuneStaticModel} returns. */
export interface FineTuneStaticResult {
  model: StaticEmbeddingModel;
  result: TrainLoopResult;
}

/**
 * Fine-tune the whole static embedding model (all token vectors) on parallel samples with
 * the alignment loss (default InfoNCE + JSD), through {@link trainLoop} and a
 * {@link StaticParallelHead}. Defaults differ from the loop's where a table differs from an
 * adapter: `weightDecay: 0` (decay would shrink token vectors toward 0, not toward the
 * pretrained model) and `lr: 1e-3`. With `outDir`, writes the model folder plus
 * `training.json` (config, seed, samples, seconds) and `loss.csv` in it.
 *
 * @throws XlalignError for fewer than 2 samples, or from loading the model.
 * @example
 * const { model } = await fineTuneStaticModel({ modelDir: 'data/models/xlalign-static-v1', samples: buildTrainingSamples(), outDir: 'runs/ft/static-aligned' });
 * const embedder = await loadEmbedder('runs/ft/static-aligned');
 */
export async function fineTuneStaticModel(options: FineTuneStaticOptions): Promise<FineTuneStaticResult> {
  const { modelDir, samples, outDir, name, groupByDoc = true, weightDecay = 0, ...loop } = options;
  if (samples.length < 2) throw xlError('fineTuneStaticModel', `need at least 2 training samples, got ${samples.length}`);
  const model = StaticEmbeddingModel.load(modelDir);
  const head = new StaticParallelHead(model, samples, { weightDecay });
  const groupOf = groupByDoc && samples.every((s) => s.docId !== undefined) ? (i: number) => samples[i].docId : undefined;
  const result = await trainLoop(head, samples.length, { lr: 1e-3, groupOf, ...loop, lossCsv: loop.lossCsv ?? (outDir ? join(outDir, 'loss.csv') : undefined) });
  if (outDir) {
    const record = { ...result.config, baseModel: modelDir, samples: samples.length, seconds: result.seconds };
    model.save(outDir, {
      name: name ?? `${model.name}-aligned`,
      card: `${model.card ?? ''}\n\n## Alignment fine-tuning (xlalign)\n\nContinued from \`${modelDir}\` on ${samples.length} parallel samples.\n\n\`\`\`json\n${JSON.stringify(record, null, 2)}\n\`\`\`\n`,
    });
    writeTrainingRecord(join(outDir, 'training.json'), record);
  }
  return { model, result };
}

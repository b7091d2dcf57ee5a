/**
 * Write the default model's `training-data.json` (the Tatoeba lines and other sources it
 * was trained on, see lib/data/training-data.ts) without rebuilding the model: the corpus
 * assembly is deterministic, and its pair counts are checked against the folder's
 * build-info.json before anything is written.
 *
 * Usage: tsx scripts/record-training-data.ts [--model DIR]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { dataPath } from '../lib/util/fs.js';
import { assembleCorpus } from '../lib/models/static/corpus.js';
import { staticTrainingData } from '../lib/train/static/build.js';
import { writeTrainingData } from '../lib/data/training-data.js';

const o = new Command().option('--model <dir>', 'model folder', dataPath('models', 'xlalign-static-v1')).parse().opts<{ model: string }>();
const info = JSON.parse(readFileSync(join(o.model, 'build-info.json'), 'utf8')) as { heldOut: number; counts: Record<string, Record<string, number>> };
const corpus = assembleCorpus({ heldOut: info.heldOut });
if (JSON.stringify(corpus.counts) !== JSON.stringify(info.counts)) {
  console.error(`record-training-data: the corpus assembled now differs from ${o.model}/build-info.json counts; the data or the assembly changed since the build`);
  process.exit(1);
}
writeTrainingData(join(o.model, 'training-data.json'), staticTrainingData(corpus));
console.error(`wrote ${join(o.model, 'training-data.json')}`);

/**
 * Build the default dense model (`npm run build:model`): trains the static multilingual
 * embedding model and writes it to `data/models/xlalign-static-v1/` (or `--out DIR`).
 * Seeded and deterministic: the same options give the same bytes.
 *
 * Usage: tsx scripts/build-model.ts [--out DIR] [--seed N] [--dim N] [--vocab N] [--epochs N]
 *   [--lr X] [--anchor-decay X] [--init-std X] [--sif X] [--no-center] [--tiny]
 * `--anchor-decay X` pulls trained rows back toward the initial random table (see
 * `anchorDecay` in lib/train/static/pretrain.ts); `--init-std X` sets the σ of that table;
 * `--sif X` (X > 0) SIF-reweights and centers the rows after training (see
 * lib/models/static/frequency-weighting.ts; `--no-center` keeps the weighting only).
 * `--tiny` builds a small model (2 languages, 300 pairs per source) in seconds, for checks.
 */
import { Command } from 'commander';
import { dataPath } from '../lib/util/fs.js';
import { buildStaticModel } from '../lib/train/static/build.js';

const program = new Command()
  .name('build-model')
  .description('Train the static multilingual embedding model (offline, seeded).')
  .option('--out <dir>', 'output folder', dataPath('models', 'xlalign-static-v1'))
  .option('--seed <n>', 'seed of the table and batch order', '42')
  .option('--dim <n>', 'vector size', '256')
  .option('--vocab <n>', 'vocabulary size', '32000')
  .option('--epochs <n>', 'training epochs', '4')
  .option('--lr <x>', 'AdamW learning rate (decayed linearly to 10%)', '0.02')
  .option('--anchor-decay <x>', 'decoupled decay toward the initial table (0 = off)', '0')
  .option('--init-std <x>', 'standard deviation of the initial N(0, σ²) table', '0.1')
  .option('--sif <a>', 'after training, SIF-reweight the rows with parameter a (0 = off)', '0')
  .option('--no-center', 'with --sif: do not subtract the mean text vector')
  .option('--tiny', 'tiny build (de, zh; 300 pairs per source; 10000 tokens; 32 dims)', false)
  .parse();
const o = program.opts<{ out: string; seed: string; dim: string; vocab: string; epochs: string; lr: string; anchorDecay: string; initStd: string; sif: string; center: boolean; tiny: boolean }>();
const int = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`build-model: --${name} must be a positive integer, got '${v}'`);
    process.exit(2);
  }
  return n;
};
const num = (name: string, v: string, min: number, strict: boolean): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || (strict && n === min)) {
    console.error(`build-model: --${name} must be a number ${strict ? '>' : '>='} ${min}, got '${v}'`);
    process.exit(2);
  }
  return n;
};
const t0 = Date.now();
const { info } = await buildStaticModel({
  outDir: o.out,
  name: o.tiny ? 'xlalign-static-tiny' : 'xlalign-static-v1',
  seed: int('seed', o.seed),
  initStd: num('init-std', o.initStd, 0, true),
  dim: o.tiny ? 32 : int('dim', o.dim),
  vocabSize: o.tiny ? 10000 : int('vocab', o.vocab),
  ...(o.tiny ? { langs: ['de', 'zh'], maxPerSource: 300 } : {}),
  train: { epochs: int('epochs', o.epochs), lr: num('lr', o.lr, 0, true), anchorDecay: num('anchor-decay', o.anchorDecay, 0, false) },
  weighting: num('sif', o.sif, 0, false) > 0 ? { sifA: Number(o.sif), center: o.center } : false,
  log: (l) => console.error(`build-model: ${l}`),
});
for (const s of info.scores) {
  console.log(`${s.lang}\ttrained ${(100 * s.trained.xToEn).toFixed(1)}/${(100 * s.trained.enToX).toFixed(1)}\trandom ${(100 * s.random.xToEn).toFixed(1)}/${(100 * s.random.enToX).toFixed(1)}`);
}
console.log(`wrote ${o.out} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

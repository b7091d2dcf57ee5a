import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { createRng } from '../lib/util/rng.js';
import { AlignmentAdapter } from '../lib/train/adapter.js';
import { AdapterHead, type ParallelEmbeddings } from '../lib/train/heads/adapter-head.js';
import { trainLoop, type TrainLoopOptions } from '../lib/train/train-loop.js';

/** One benchmark figure. */
export interface TrainBenchRow {
  what: string;
  dim: number;
  rank: number | null;
  samples: number;
  epochs: number;
  steps: number;
  seconds: number;
  /** CPU seconds of this process during the loop (user + system): the figure to compare on a shared, loaded machine. */
  cpuSeconds: number;
  samplesPerSecond: number;
  finalLoss: number;
}

/** Options of {@link benchmarkAdapterTraining}. */
export interface TrainBenchOptions {
  /** Embedding sizes to time. Default [256, 384, 768] (static default, e5-small, e5-base). */
  dims?: number[];
  /** Adapter ranks (`null` = full). Default [null, 32]. */
  ranks?: (number | null)[];
  /** Samples. Default 2800. */
  samples?: number;
  /** Options of the loop (default: its defaults, 3 epochs, batch 32, no progress bar). */
  loop?: TrainLoopOptions;
  /** Seed of the random embeddings. Default 1. */
  seed?: number;
}

/**
 * Time adapter training (the loop only, embeddings given) on `samples` samples of seeded
 * random unit vectors, for each dim and rank. The content does not matter for speed (the
 * same matrix products run); use it to check the "2.8k samples in under 30 s" target.
 *
 * @example for (const r of benchmarkAdapterTraining({ dims: [384] })) console.log(r.seconds);
 */
export async function benchmarkAdapterTraining(options: TrainBenchOptions = {}): Promise<TrainBenchRow[]> {
  const { dims = [256, 384, 768], ranks = [null, 32], samples = 2800, loop = {}, seed = 1 } = options;
  const rows: TrainBenchRow[] = [];
  for (const dim of dims) {
    const rng = createRng(seed);
    const unit = () => {
      const m = new Float32Array(samples * dim);
      for (let i = 0; i < samples; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += (m[i * dim + j] = rng.normal()) ** 2;
        for (let j = 0; j < dim; j++) m[i * dim + j] /= Math.sqrt(s);
      }
      return m;
    };
    const cached: ParallelEmbeddings = { size: samples, dim, queryPivot: unit(), queryTarget: unit(), docPivot: unit(), docTarget: unit() };
    for (const rank of ranks) {
      const adapter = AlignmentAdapter.create(dim, { rank: rank ?? undefined });
      const cpu0 = process.cpuUsage();
      const r = await trainLoop(new AdapterHead(adapter, cached), samples, { progress: false, ...loop });
      const cpu = process.cpuUsage(cpu0);
      const epochs = (r.config.epochs as number) ?? 3;
      rows.push({
        what: 'adapter',
        dim,
        rank,
        samples,
        epochs,
        steps: r.steps,
        seconds: r.seconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        samplesPerSecond: (samples * epochs) / r.seconds,
        finalLoss: r.history[r.history.length - 1].loss,
      });
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // npx tsx lib/train/benchmark.ts [dims, e.g. 256,384]
  const dims = process.argv[2]?.split(',').map(Number);
  console.log('adapter training, 2800 samples, default loop (InfoNCE+JSD, batch 32, 3 epochs)');
  console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
  console.log('dim\trank\tsteps\twall s\tcpu s\tsamples/s (wall)');
  for (const r of await benchmarkAdapterTraining({ dims })) {
    console.log(`${r.dim}\t${r.rank ?? 'full'}\t${r.steps}\t${r.seconds.toFixed(2)}\t${r.cpuSeconds.toFixed(2)}\t${r.samplesPerSecond.toFixed(0)}`);
  }
}

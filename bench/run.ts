/**
 * `npm run bench` (= `tsx bench/run.ts`): scoring, metrics and scaling benchmarks, each
 * figure measured in the same run as its reference. Writes `bench/results.json` and prints
 * a table.
 *
 *   tsx bench/run.ts [--quick] [--only scoring,reference,numpy,metrics,scaling,embed,train,encoder] [--out FILE]
 *
 * Sizes (full): scoring 10,000 queries x 200,000 docs x 384 dims, k = 100; metrics
 * 100,000 queries x 100 docs; scaling at 25k / 50k / 100k docs (plus the 200k point).
 * `--quick` divides them by 10 for a smoke run. Seeds are fixed and recorded.
 *
 * Past one machine: shard the documents (each shard runs `exactTopK` on its slice and
 * returns Q x k ids + scores, offsetting ids by the shard start), then merge the shards'
 * top-k per query exactly as the blocks are merged inside `exactTopK` (score descending,
 * lower global index on ties): traffic is Q x k x shards, independent of N.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Command } from 'commander';
import { packageRoot, writeFileAtomic } from '../lib/util/fs.js';
import { numpyReference } from './numpy-reference.js';
import { benchmarkAdapterTraining } from './train.js';
import { benchmarkEncoder, cpuFlags } from './encoder.js';
import { benchTrecEval } from './metrics.js';

const SEED = 20251125;

function child(task: string, params: object): Record<string, any> {
  const root = packageRoot();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/child.ts'), task, JSON.stringify(params)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`bench: child '${task}' failed (exit ${r.status})\n${r.stdout}`);
  return JSON.parse(line.slice(7));
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

async function main() {
  const program = new Command()
    .name('bench')
    .option('--quick', 'sizes / 10, for a smoke run', false)
    .option('--only <sections>', 'comma-separated: scoring,reference,numpy,metrics,scaling,embed,threads,train,encoder', 'scoring,reference,numpy,metrics,scaling,embed,threads,train,encoder')
    .option('--encoder <dir>', 'encoder folder for the threads section (default: a random e5-small-sized BERT made by bench/random-encoder.py with /usr/bin/python3)')
    .option('--model <dir>', 'static model folder for the embed section', resolve(packageRoot(), 'data/models/xlalign-static-v1'))
    .option('--out <file>', 'results file', resolve(packageRoot(), 'bench/results.json'))
    .parse();
  const opts = program.opts<{ quick: boolean; only: string; out: string; model: string; encoder?: string }>();
  const only = new Set(opts.only.split(','));
  const div = opts.quick ? 10 : 1;
  const Q = 10_000 / div;
  const N = 200_000 / div;
  const dim = 384;
  const k = 100;
  const rows: [string, string, string, string][] = [];
  const results: Record<string, any> = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, cpuFlags: cpuFlags(), node: process.version, loadavgBefore: loadavg() },
    note: 'Shared machine: other engineers were using the CPU during this run; figures are noisy (see loadavg).',
    seed: SEED,
    quick: opts.quick,
  };
  const flopFull = 2 * Q * N * dim;

  if (only.has('scoring')) {
    const r = child('scoring', { queries: Q, docs: N, dim, k, seed: SEED });
    results.scoring = r;
    rows.push([`scoring ${Q}x${N}x${dim} k=${k} (${r.backend})`, `${fmt(r.seconds)} s`, `${fmt(r.gflops, 1)} GFLOPS`, `cpu ${fmt(r.cpuSeconds)} s (all threads) = ${fmt(r.gflopsPerCpuSecond, 1)} GFLOPS per CPU-second, peak RSS ${fmt(r.peakRssMiB, 0)} MiB, top-1 check ${r.agreed}/${r.checked}`]);
  }
  if (only.has('reference')) {
    const q = 100;
    const n = 20_000 / div;
    const r = child('scoring', { queries: q, docs: n, dim, k, seed: SEED, backend: 'js', queryBlockSize: q });
    const scaled = flopFull / (r.gflops * 1e9);
    results.jsReference = { ...r, scaledSecondsFullShape: scaled };
    rows.push([`reference: JS loop ${q}x${n}x${dim}`, `${fmt(r.seconds)} s`, `${fmt(r.gflops, 2)} GFLOPS`, `${fmt(r.gflopsPerCpuSecond, 2)} GFLOPS per CPU-second; scaled to full shape: ${fmt(scaled, 0)} s`]);
  }
  if (only.has('numpy')) {
    const r = numpyReference({ queries: Q, docs: N, dim, k, seed: SEED });
    results.numpyReference = r ?? 'python3 with numpy is not available here';
    if (r) {
      rows.push([`reference: numpy ${r.numpy} (${r.blas.trim()}) blocked matmul+argpartition`, `${fmt(r.seconds)} s`, `${fmt(r.gflops, 1)} GFLOPS`, `matmul alone ${fmt(r.matmulGflops, 1)} GFLOPS, peak RSS ${fmt(r.peakRssMiB, 0)} MiB`]);
    } else rows.push(['reference: numpy', 'n/a', 'n/a', 'python3 -c "import numpy" fails here']);
  }
  if (only.has('metrics')) {
    const dir = mkdtempSync(join(tmpdir(), 'xlalign-bench-'));
    try {
      const p = { queries: 100_000 / div, depth: 100, pairs: 100_000 / div, seed: SEED };
      const files = child('metrics-write', { ...p, dir });
      const r = child('metrics', { ...p, files });
      // trec_eval, built from the vendored source (test/tools/trec_eval), on the same files
      const te = benchTrecEval(files as { runPath: string; qrelsPath: string }, r.mean);
      results.metrics = { ...r, writeSeconds: files.writeSeconds, trecEval: te };
      rows.push([`metrics ${p.queries}x${p.depth} TREC (${fmt(r.runBytes / 2 ** 20, 0)} MiB): parse + evaluate 7 metrics`, `${fmt(r.totalSeconds)} s`, `parse ${fmt(r.parseSeconds)} s + eval ${fmt(r.evaluateSeconds)} s`, `cpu ${fmt(r.totalCpuSeconds)} s (parse ${fmt(r.parseCpuSeconds)} + eval ${fmt(r.evaluateCpuSeconds)}); mismatches vs in-memory: ${r.mismatches}; peak RSS ${fmt(r.peakRssMiB, 0)} MiB`]);
      rows.push([`reference: trec_eval 10.0 (vendored source, make) on the same files, ${te.measures.length} measures (${te.measures.join(' ')})`, `${fmt(te.seconds)} s`, '', `cpu ${te.cpuSeconds === undefined ? 'n/a' : fmt(te.cpuSeconds)} s, peak RSS ${te.peakRssMiB === undefined ? 'n/a' : fmt(te.peakRssMiB, 0)} MiB; equal to ours at its 4 decimals: ${Object.entries(te.agree).map(([m, ok]) => `${m} ${ok ? 'yes' : 'NO'}`).join(', ')}`]);
      rows.push([`readRun ${fmt(r.runBytes / 2 ** 20, 0)} MiB run file`, `${fmt(r.parseRunSeconds)} s`, `${fmt(r.parseMBps, 0)} MB/s`, `cpu ${fmt(r.parseRunCpuSeconds)} s; with the raw scores (.scores file, ${fmt(r.rawScoresBytes / 2 ** 20, 0)} MiB) read back too: ${fmt(r.parseWithRawScoresSeconds)} s`]);
      // parse speed in fresh processes (no heap left over from writing and evaluating), median of 3
      const fresh: number[] = [];
      for (let i = 0; i < 3; i++) {
        const out = spawnSync(process.execPath, ['--import', 'tsx', resolve(packageRoot(), 'bench/metrics.ts'), '--parse-one', files.runPath], { encoding: 'utf8' });
        if (out.status !== 0) throw new Error(`bench/metrics.ts --parse-one failed: ${out.stderr}`);
        fresh.push(JSON.parse(out.stdout.trim().split('\n').at(-1)!).MBps);
      }
      const median = [...fresh].sort((x, y) => x - y)[1];
      results.metricsFreshParse = { readRunMBps: fresh, medianReadRunMBps: median };
      rows.push([`readRun in a fresh process (median of 3)`, `${fmt(median, 0)} MB/s`, `runs ${fresh.map((x) => fmt(x, 0)).join(', ')}`, '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (only.has('scaling')) {
    const sizes = [25_000, 50_000, 100_000].map((n) => n / div);
    results.scaling = [];
    for (const n of sizes) {
      const r = child('scoring', { queries: Q, docs: n, dim, k, seed: SEED });
      results.scaling.push({ docs: n, seconds: r.seconds, cpuSeconds: r.cpuSeconds, gflops: r.gflops, peakRssMiB: r.peakRssMiB });
      rows.push([`scaling ${Q}x${n}`, `${fmt(r.seconds)} s`, `${fmt(r.gflops, 1)} GFLOPS`, `cpu ${fmt(r.cpuSeconds)} s, peak RSS ${fmt(r.peakRssMiB, 0)} MiB`]);
    }
    if (results.scoring) results.scaling.push({ docs: N, seconds: results.scoring.seconds, cpuSeconds: results.scoring.cpuSeconds, gflops: results.scoring.gflops, peakRssMiB: results.scoring.peakRssMiB });
    results.scalingNote =
      'Time grows linearly in N (one Gemm+TopK per document block); memory is the document matrix (N x d x 4 bytes) plus a fixed score block. Past one machine: shard documents, run exactTopK per shard, merge the per-shard top-k (score desc, lower global index on ties); traffic Q x k per shard.';
  }
  if (only.has('embed')) {
    if (!existsSync(join(opts.model, 'onnx/model.onnx'))) {
      results.embedding = `no model at ${opts.model}`;
      rows.push(['embedding', 'n/a', '', `no model at ${opts.model}`]);
    } else {
      const r = child('embedding', { modelDir: opts.model, lang: 'de', limit: opts.quick ? 200 : undefined });
      results.embedding = r;
      for (const e of [r.transformersJs, r.rawOrt]) {
        rows.push([`embed ${e.texts} XQuAD-de texts: ${e.name}`, `${fmt(e.seconds)} s`, `${fmt(e.textsPerSecond, 0)} texts/s`, `${fmt(e.tokensPerSecond, 0)} tokens/s (${e.tokens} tokens)`]);
      }
      rows.push(['embed: max |vector difference| between the two paths', fmt(r.maxAbsDiff, 8), '', r.model]);
    }
  }
  if (only.has('threads')) {
    // CPU-seconds per wall second with one thread and with every core (the default)
    const sc = child('threads-scoring', { queries: 2000 / div, docs: 100_000 / div, dim, seed: SEED });
    results.threads = { scoring: sc.points };
    let encoder = opts.encoder;
    let tmp: string | undefined;
    if (!encoder) {
      tmp = mkdtempSync(join(tmpdir(), 'xlalign-encoder-'));
      const r = spawnSync('/usr/bin/python3', [join(packageRoot(), 'bench/random-encoder.py'), tmp, '--layers', opts.quick ? '2' : '6'], { encoding: 'utf8' });
      encoder = r.status === 0 ? tmp : undefined;
      if (!encoder) results.threads.encoderNote = `bench/random-encoder.py failed: ${(r.stderr ?? '').trim().split('\n').pop()}`;
    }
    if (encoder) {
      const em = child('threads-embedding', { modelDir: encoder, limit: opts.quick ? 96 : 480, maxLength: 128 });
      results.threads.embedding = em.points;
      results.threads.encoder = opts.encoder ?? 'random BERT (bench/random-encoder.py), 384 hidden, 12 heads, 6 layers (2 with --quick), 128 tokens';
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    for (const pt of [...sc.points, ...(results.threads.embedding ?? [])]) {
      rows.push([`threads: ${pt.what}, ${pt.threads} thread${pt.threads > 1 ? 's' : ''}`, `${fmt(pt.seconds)} s`, `CPU/wall ${fmt(pt.cpuPerWall)}`, `${fmt(pt.cpuSeconds)} CPU-s; ${fmt(pt.rate, 0)} ${pt.what === 'scoring' ? 'queries' : 'texts'}/s`]);
    }
  }
  if (only.has('train')) {
    // adapter training on 2800 parallel samples (target: under 30 s), synthetic embeddings
    const train = await benchmarkAdapterTraining({ dims: [256, 384], ranks: [null, 32], samples: opts.quick ? 280 : 2800 });
    results.training = train;
    for (const t of train) rows.push([`train ${t.what}, dim ${t.dim}, rank ${t.rank ?? 'full'}`, `${fmt(t.seconds)} s`, `${fmt(t.cpuSeconds)} CPU-s`, `${t.samples} samples x ${t.epochs} epochs, ${fmt(t.samplesPerSecond, 0)} samples/s (target: 2800 samples in < 30 s)`]);
  }
  if (only.has('encoder')) {
    // transformer fine-tuning (issue 11): forward+backward at multilingual-e5-small's shape vs PyTorch, same run
    const r = benchmarkEncoder({ small: opts.quick, iters: opts.quick ? 1 : 3, costs: opts.quick ? [] : ['small', 'base', 'large'], costSteps: 11, largeMemory: !opts.quick }) as Record<string, any>;
    results.encoder = r;
    const sh = r.shape;
    rows.push([`encoder fwd+bwd ${sh.layers}L h${sh.hidden} v${sh.vocab} ${sh.batch}x${sh.seq}: xlalign (ONNX Runtime)`, `${fmt(r.xlalign.stepSeconds)} s`, `${fmt(r.xlalign.tokensPerSecond, 0)} tokens/s`, `peak RSS ${fmt(r.xlalign.peakRssMiB, 0)} MiB (runs of ${r.xlalign.rowsPerRun} texts); forward alone ${fmt(r.xlalign.forwardTokensPerSecond, 0)} tokens/s`]);
    if (typeof r.pytorch === 'object') rows.push([`reference: PyTorch ${r.pytorch.torch} CPU, same shapes`, `${fmt(r.pytorch.step_s)} s`, `${fmt(r.pytorch.tokens_per_s, 0)} tokens/s`, `peak RSS ${fmt(r.pytorch.peak_rss_mb, 0)} MiB; xlalign / PyTorch = ${fmt(r.ratio)} (target >= 0.7), memory ${fmt(r.memoryRatio)} (target <= 1)`]);
    else rows.push(['reference: PyTorch', 'n/a', '', String(r.pytorch)]);
    rows.push([`reference: ONNX Runtime Gemm, the layer's shapes at ${r.gemm.tokens} tokens`, '', `${fmt(r.gemm.layerMixGflops, 1)} GFLOPS`, `training ${fmt(r.xlalign.trainGflops, 1)} GFLOPS = ${fmt(100 * r.fractionOfGemm.training, 0)}%, embedding ${fmt(r.xlalign.embedGflops, 1)} GFLOPS = ${fmt(100 * r.fractionOfGemm.embedding, 0)}% of it (target >= 85%)`]);
    for (const c of r.costs ?? []) rows.push([`encoder epoch, ${c.shape} (${c.layers}L h${c.hidden}), real XQuAD lengths <= ${c.maxLength}: ${c.stepsTimed} steps timed`, `${fmt(c.secondsPerStep)} s/step`, `${fmt(c.minutesPerEpoch, 1)} min/epoch`, `padding ${fmt(100 * c.paddingShare, 1)}% of token slots; peak RSS ${fmt(c.peakRssMiB, 0)} MiB; load ${c.loadavgBefore.map((x: number) => x.toFixed(1)).join(' ')}`]);
    if (r.largeMemory) rows.push([`encoder large (24L h1024 v250002), one step, texts at 512 tokens`, `${fmt(r.largeMemory.secondsPerStep)} s`, `peak RSS ${fmt(r.largeMemory.peakRssMiB, 0)} MiB`, 'target <= 16 GB']);
  }
  results.machine.loadavgAfter = loadavg();
  writeFileAtomic(opts.out, JSON.stringify(results, null, 2) + '\n');
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join('  '));
  console.log(`CPU: ${results.machine.model}, ${results.machine.cpus} cores, ${results.machine.cpuFlags.join(' ') || 'no SIMD flags read'}`);
  console.log(`load average before ${results.machine.loadavgBefore.map((x: number) => x.toFixed(1)).join(' ')}, after ${loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machine; figures are noisy). Wrote ${opts.out}`);
}

await main();

/**
 * The real trec_eval, built from the vendored source in `test/tools/trec_eval/` (NIST; see
 * its PROVENANCE.md and LICENSE.md), for the tests and the metrics benchmark.
 *
 * `trecEvalBinary()` copies the source into `.cache/trec_eval/build-<pid>` (git-ignored),
 * runs `make` there and moves the binary to `.cache/trec_eval/<content hash>/trec_eval`;
 * later calls (and other processes) reuse it. Concurrent builds are harmless: each builds in
 * its own folder and the rename is atomic.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../lib/util/fs.js';

/** The vendored source folder. */
export const TREC_EVAL_SOURCE = join(packageRoot(), 'test', 'tools', 'trec_eval');

let built: string | undefined;

/** Path of a trec_eval binary built from the vendored source (built on first use). */
export function trecEvalBinary(): string {
  if (built) return built;
  const hash = createHash('sha256');
  for (const f of readdirSync(TREC_EVAL_SOURCE).sort()) hash.update(f).update('\0').update(readFileSync(join(TREC_EVAL_SOURCE, f))).update('\0');
  const root = join(packageRoot(), '.cache', 'trec_eval');
  const bin = join(root, hash.digest('hex').slice(0, 16), 'trec_eval');
  if (!existsSync(bin)) {
    const tmp = join(root, `build-${process.pid}-${Date.now()}`);
    rmSync(tmp, { recursive: true, force: true });
    cpSync(TREC_EVAL_SOURCE, tmp, { recursive: true });
    try {
      execFileSync('make', ['-s'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
      mkdirSync(join(bin, '..'), { recursive: true });
      renameSync(join(tmp, 'trec_eval'), bin);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return (built = bin);
}

/** Result of {@link runTrecEval}: per measure, the value over all queries as printed, and with `perQuery` each query's. */
export interface TrecEvalOutput {
  all: Record<string, number>;
  /** `perQuery[measure][qid]` (with `perQuery: true`). */
  perQuery: Record<string, Record<string, number>>;
  /** The printed text (4 decimals, trec_eval's precision). */
  text: string;
}

/**
 * Run trec_eval on a qrels and a run file with measures like `ndcg_cut.10`, `map`,
 * `recip_rank`, `P.10`, `recall.10`, `num_q` (one `-m` per measure, cutoffs of a measure joined).
 * @param options.complete - `-c`: score qrels queries missing from the run as empty rankings.
 * @param options.perQuery - `-q`: also per-query values.
 * @throws Error with trec_eval's stderr when it exits non-zero.
 */
export function runTrecEval(qrels: string, run: string, measures: readonly string[], options: { complete?: boolean; perQuery?: boolean } = {}): TrecEvalOutput {
  // one -m per measure, its cutoffs joined (trec_eval keeps only the last parameters given for a measure)
  const byName = new Map<string, string[]>();
  for (const m of measures) {
    const [name, params] = m.split(/\.(.*)/s);
    if (!byName.has(name)) byName.set(name, []);
    if (params) byName.get(name)!.push(...params.split(','));
  }
  const ms = [...byName].map(([name, params]) => (params.length ? `${name}.${[...new Set(params)].join(',')}` : name));
  const args = [...ms.flatMap((m) => ['-m', m]), ...(options.complete ? ['-c'] : []), ...(options.perQuery ? ['-q'] : []), qrels, run];
  const text = execFileSync(trecEvalBinary(), args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: TrecEvalOutput = { all: {}, perQuery: {}, text };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const [measure, qid, value] = f;
    if (qid === 'all') out.all[measure] = Number(value);
    else (out.perQuery[measure] ??= {})[qid] = Number(value);
  }
  return out;
}

/**
 * The trec_eval measure of an xlalign metric, on a run file that holds `depth` documents per
 * query at most (Infinity: the whole ranking): `-m` argument and printed name. `ndcg@k`,
 * `p@k`, `r@k` are `ndcg_cut.k`, `P.k`, `recall.k`; trec_eval's `map` and `recip_rank` look at
 * the whole file, so they are `ap` and `rr` on a whole run and `ap@depth`, `rr@depth` on a
 * run cut at `depth`. Undefined for a metric trec_eval has not.
 * @example trecMeasure('ndcg@10') // { arg: 'ndcg_cut.10', printed: 'ndcg_cut_10' }
 */
export function trecMeasure(metric: string, depth = Infinity): { arg: string; printed: string } | undefined {
  const m = /^(ndcg|p|r|ap|rr)(?:@(\d+))?$/.exec(metric);
  if (!m) return undefined;
  const k = m[2] === undefined ? Infinity : Number(m[2]);
  if (m[1] === 'ap' || m[1] === 'rr') {
    if (k !== depth) return undefined;
    return m[1] === 'ap' ? { arg: 'map', printed: 'map' } : { arg: 'recip_rank', printed: 'recip_rank' };
  }
  if (!Number.isFinite(k) || k > depth) return undefined;
  const name = { ndcg: 'ndcg_cut', p: 'P', r: 'recall' }[m[1] as 'ndcg' | 'p' | 'r'];
  return { arg: `${name}.${k}`, printed: `${name}_${k}` };
}

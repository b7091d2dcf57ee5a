import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { poolName, type Scenario } from '../../lib/pools/types.js';
import { rawScoresPath } from '../../lib/runs/trec-io.js';
import { runTrecEval, trecMeasure } from '../tools/trec-eval.js';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function xlalign(args: string[], cwd: string) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Row { dataset: string; retriever: string; scenario: Scenario; lang: string; queryLang: string; metric: string; value: number }

/**
 * Run `xlalign eval` into a fresh folder, then trec_eval (built from test/tools/trec_eval) on
 * every exported run and qrels file, and compare with metrics.json to trec_eval's printed
 * precision (4 decimals). Also trec_eval on the same files with the retriever's raw scores in
 * the score column (the old export): how many of its numbers differ from metrics.json (ties).
 */
function compareWithTrecEval(evalArgs: string[], depth: number) {
  const cwd = mkdtempSync(join(tmpdir(), 'trec-files-'));
  dirs.push(cwd);
  const r = xlalign(['eval', '--dataset', 'xquad', ...evalArgs, '--out', 'out'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(readFileSync(join(cwd, 'out', 'metrics.json'), 'utf8')) as Row[];
  const pools = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.retriever}/${poolName(row)}`;
    if (!pools.has(key)) pools.set(key, []);
    pools.get(key)!.push(row);
  }
  let compared = 0;
  let files = 0;
  const rawDiffers: string[] = [];
  for (const [key, poolRows] of pools) {
    const [retriever, pool] = key.split('/');
    const runFile = join(cwd, 'out', 'runs', retriever, `${pool}.run`);
    const qrelsFile = join(cwd, 'out', 'qrels', `${pool}.qrels`);
    assert.ok(existsSync(runFile) && existsSync(qrelsFile) && existsSync(rawScoresPath(runFile)), key);
    const checks = poolRows.map((row) => ({ row, measure: trecMeasure(row.metric, depth) })).filter((c) => c.measure);
    const args = [...checks.map((c) => c.measure!.arg), 'num_q'];
    // without -c: trec_eval refuses a file that misses a qrels query, so this also checks that every query is there
    const te = runTrecEval(qrelsFile, runFile, args);
    assert.equal(te.all.num_q, Object.keys(Object.fromEntries(readFileSync(qrelsFile, 'utf8').trim().split('\n').map((l) => [l.split(' ')[0], 1]))).length, `${key}: every qrels query scored`);
    for (const { row, measure } of checks) {
      const want = te.all[measure!.printed];
      assert.ok(Math.abs(row.value - want) <= 5e-5 + 1e-12, `${key} ${row.metric}: metrics.json ${row.value}, trec_eval ${measure!.printed} ${want}`);
      compared++;
    }
    files++;
    // the same ranking with the raw scores as the score column (the export before the order column)
    const raw = readFileSync(rawScoresPath(runFile), 'utf8').trim().split('\n');
    const lines = readFileSync(runFile, 'utf8').trim().split('\n').map((l, i) => {
      const f = l.split(' ');
      f[4] = raw[i].split(' ')[1];
      return f.join(' ');
    });
    const rawFile = join(cwd, `${retriever}.${pool}.raw.run`);
    writeFileSync(rawFile, lines.join('\n') + '\n');
    const teRaw = runTrecEval(qrelsFile, rawFile, args);
    for (const { row, measure } of checks) {
      if (Math.abs(row.value - teRaw.all[measure!.printed]) > 5e-5 + 1e-12) rawDiffers.push(`${key} ${row.metric}: ${row.value.toFixed(4)} vs ${teRaw.all[measure!.printed].toFixed(4)}`);
    }
  }
  return { rows, files, compared, rawDiffers };
}

test('trec_eval (vendored source) reproduces metrics.json on the exported files of a real eval: XQuAD de/ar/th, BM25 and the default model, every scenario, both query languages, --run-depth 100, ties included', () => {
  const metrics = ['ndcg@1', 'ndcg@10', 'ndcg@100', 'p@10', 'r@10', 'r@100', 'ap@100', 'rr@100'];
  const { rows, files, compared, rawDiffers } = compareWithTrecEval(
    ['--retriever', 'bm25,default', '--langs', 'de,ar,th', '--scenarios', 'all', '--query-langs', 'target,pivot', '--run-depth', '100', '--metrics', metrics.join(',')],
    100,
  );
  // per language: mono, multi (own-language queries) + cross, mixed, mixed-target, mixed-pivot x 2 query languages; 2 retrievers
  assert.equal(files, 3 * 10 * 2);
  assert.equal(new Set(rows.map((r) => r.scenario)).size, 6);
  assert.equal(compared, rows.length, 'every row has its trec_eval measure');
  process.stderr.write(`trec_eval vs metrics.json: ${files} (run, qrels) files, ${compared} (file, metric) comparisons agree; with raw scores in the score column ${rawDiffers.length} would differ, e.g. ${rawDiffers.slice(0, 3).join('; ')}\n`);
  // ties decide some of these numbers: the raw-score column would not reproduce them
  assert.ok(rawDiffers.length > 0, 'some pools have ties that change a metric');
});

test('trec_eval reproduces metrics.json on whole-pool files (no --run-depth): map and recip_rank of the whole ranking, BM25 th mono and cross, both query languages', () => {
  const metrics = ['ndcg@10', 'ap', 'rr', 'p@10', 'r@10', 'r@1000'];
  const { files, compared, rawDiffers } = compareWithTrecEval(['--retriever', 'bm25', '--langs', 'th', '--scenarios', 'mono,cross', '--query-langs', 'target,pivot', '--metrics', metrics.join(',')], Infinity);
  assert.equal(files, 3);
  assert.equal(compared, files * metrics.length);
  process.stderr.write(`whole-pool files: ${files} files, ${compared} comparisons agree; raw-score column would differ in ${rawDiffers.length}: ${rawDiffers.join('; ')}\n`);
});

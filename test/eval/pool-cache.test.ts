import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { runEvaluation, type RunEvaluationOptions } from '../../lib/eval/run-evaluation.js';
import { Bm25Retriever } from '../../lib/retrieve/bm25.js';
import { readRun } from '../../lib/runs/trec-io.js';
import { codeHash, codeKey } from '../../lib/util/code-key.js';

const corpus = xquadCorpus(['de', 'en']);
const bm25 = new Bm25Retriever();

async function evalOnce(out: string, extra: Partial<RunEvaluationOptions> = {}) {
  const cached: boolean[] = [];
  const notices: string[] = [];
  const res = await runEvaluation(corpus, bm25, { scenarios: ['mixed'], langs: ['de'], metrics: ['ndcg@10', 'maxr'], out, notice: (l) => notices.push(l), onPool: (_p, _r, _s, c) => cached.push(c), ...extra });
  return { res, cached, notices };
}
const poolFile = (out: string) => join(out, '.pools', readdirSync(join(out, '.pools')).find((f) => f.endsWith('.json'))!);

test('code key: package version + hash of the code beside the module; a change of any hashed file changes it', () => {
  assert.match(codeKey(), /^xlalign@\d+\.\d+\.\d+.*\+[0-9a-f]{16}$/);
  const root = mkdtempSync(join(tmpdir(), 'code-key-'));
  mkdirSync(join(root, 'metrics'));
  writeFileSync(join(root, 'metrics', 'ndcg.ts'), 'export const gain = 1;\n');
  const a = codeHash(root, ['metrics']);
  writeFileSync(join(root, 'metrics', 'ndcg.ts'), 'export const gain = 2;\n');
  assert.notEqual(codeHash(root, ['metrics']), a);
});

test('pool cache: reused with the same code key, recomputed when the code key changes, with --force, and bypassed with cacheDir false', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pool-cache-'));
  const first = await evalOnce(out, { codeKey: 'code-A' });
  assert.deepEqual(first.cached, [false]);
  const again = await evalOnce(out, { codeKey: 'code-A' });
  assert.deepEqual(again.cached, [true]);
  assert.deepEqual(again.res.rows, first.res.rows);
  assert.deepEqual((await evalOnce(out, { codeKey: 'code-B' })).cached, [false], 'a changed code key never serves old numbers');
  assert.deepEqual((await evalOnce(out, { codeKey: 'code-A', force: true })).cached, [false]);
  const none = mkdtempSync(join(tmpdir(), 'pool-nocache-'));
  assert.deepEqual((await evalOnce(none, { cacheDir: false })).cached, [false]);
  assert.ok(!existsSync(join(none, '.pools')));
});

test('a truncated or {} pool entry is named, removed and recomputed; so is a truncated run file', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pool-corrupt-'));
  const first = await evalOnce(out);
  const entry = poolFile(out);
  truncateSync(entry, Math.floor(statSync(entry).size / 2));
  const cut = await evalOnce(out);
  assert.deepEqual(cut.cached, [false]);
  assert.equal(cut.notices.length, 1);
  assert.ok(cut.notices[0].includes(entry) && /not JSON \(truncated\?\).*removed, recomputing/.test(cut.notices[0]), cut.notices[0]);
  assert.deepEqual(cut.res.rows, first.res.rows);
  assert.deepEqual((await evalOnce(out)).cached, [true], 'the recomputed entry is whole again');

  writeFileSync(poolFile(out), '{}');
  const empty = await evalOnce(out);
  assert.deepEqual(empty.cached, [false]);
  assert.match(empty.notices[0], /bad pool cache entry \(not a 'xlalign-pool\/2' file/);

  // a hand-edited value: the checksum catches it
  const f = poolFile(out);
  writeFileSync(f, readFileSync(f, 'utf8').replace(/"value":0\.\d/, '"value":0.9'));
  const edited = await evalOnce(out);
  assert.deepEqual(edited.cached, [false]);
  assert.match(edited.notices[0], /checksum mismatch/);

  const runFile = join(out, 'runs', 'bm25', 'mixed.de.run');
  const whole = statSync(runFile).size;
  truncateSync(runFile, whole - 1000);
  const trunc = await evalOnce(out);
  assert.deepEqual(trunc.cached, [false]);
  assert.match(trunc.notices[0], new RegExp(`run file .*mixed\\.de\\.run is incomplete \\(${whole - 1000} of ${whole} bytes\\)`));
  assert.equal(statSync(runFile).size, whole, 'the run file is complete again');
  assert.equal(Object.keys(readRun(runFile)).length, 1190);
});

test('leftover .tmp files of a killed run are removed; compressed runs read back identical to plain ones', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pool-tmp-'));
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout; // a pid that no longer runs
  mkdirSync(join(out, 'runs', 'bm25'), { recursive: true });
  const stale = join(out, 'runs', 'bm25', `mixed.de.run.${dead}.abc123.tmp`);
  writeFileSync(stale, 'de-1 Q0 en-2 1 0.5 bm25\n');
  const plain = await evalOnce(out, { cacheDir: false });
  assert.ok(!existsSync(stale), 'stale temporary file removed');
  const gz = await evalOnce(out, { compressRuns: true });
  assert.deepEqual(gz.res.rows, plain.res.rows);
  const a = readRun(join(out, 'runs', 'bm25', 'mixed.de.run'));
  const b = readRun(join(out, 'runs', 'bm25', 'mixed.de.run.gz'));
  assert.deepEqual(b, a);
  const ratio = statSync(join(out, 'runs', 'bm25', 'mixed.de.run')).size / statSync(join(out, 'runs', 'bm25', 'mixed.de.run.gz')).size;
  assert.ok(ratio > 3, `gzip ratio ${ratio.toFixed(1)}`);
  assert.deepEqual((await evalOnce(out, { compressRuns: true })).cached, [true]);
});

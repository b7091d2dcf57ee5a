import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');

function xlalign(args: string[], cwd: string) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('xlalign eval writes metrics.json/csv/md, TREC files and a table per scenario', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-eval-'));
  const r = xlalign(['eval', '--retriever', 'bm25,default', '--langs', 'de,th', '--scenarios', 'mono,mixed-target', '--out', 'out'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(readFileSync(join(cwd, 'out/metrics.json'), 'utf8'));
  // 2 retrievers x 2 scenarios x 2 languages; pivot metrics only in mixed-target
  for (const ret of ['bm25', 'default']) {
    for (const lang of ['de', 'th']) {
      assert.ok(rows.some((x: any) => x.retriever === ret && x.scenario === 'mono' && x.lang === lang && x.metric === 'ndcg@10'));
      assert.ok(rows.some((x: any) => x.retriever === ret && x.scenario === 'mixed-target' && x.lang === lang && x.metric === 'pivot_inclination'));
      assert.ok(!rows.some((x: any) => x.scenario === 'mono' && x.metric === 'pivot_inclination'));
    }
  }
  assert.equal(readFileSync(join(cwd, 'out/metrics.csv'), 'utf8').trim().split('\n').length, rows.length + 1);
  assert.match(r.stdout, /### xquad · bm25 · mixed-target/);
  assert.match(r.stdout, /\| th \| /);
  assert.deepEqual(readdirSync(join(cwd, 'out/runs')).sort(), ['bm25', 'default']);
  assert.ok(existsSync(join(cwd, 'out/runs/default/mixed-target.th.run')));
  assert.ok(existsSync(join(cwd, 'out/qrels/mono.de.qrels')));
  const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.deepEqual(config.scenarios, ['mono', 'mixed-target']);
});

test('bad input: a clear message and exit code 2 (usage error)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-bad-'));
  let r = xlalign(['eval', '--langs', 'de,xx', '--out', 'o'], cwd);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /error: xlalign eval: --langs: 'xx' is not a language of xquad; use ar, de/);
  r = xlalign(['eval', '--scenarios', 'mixed,other', '--out', 'o'], cwd);
  assert.match(r.stderr, /unknown scenario 'other'/);
  r = xlalign(['eval', '--retriever', join(cwd, 'no-such-model'), '--scenarios', 'mono', '--langs', 'de', '--out', 'o'], cwd);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no-such-model/);
});

test('a run killed with SIGKILL after some pools resumes from the finished ones and gives the same numbers', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-kill-'));
  const args = ['eval', '--retriever', 'default', '--langs', 'de,el,es,hi', '--scenarios', 'mixed,mixed-target', '--cache-dir', 'cache', '--out', 'out'];
  // kill the run as soon as two pools are done
  await new Promise<void>((done) => {
    const child = spawn(TSX, [MAIN, ...args], { cwd, env: { ...process.env, CI: 'true' } });
    let err = '';
    child.stderr.on('data', (b) => {
      err += b;
      if ((err.match(/ s\n/g) ?? []).length >= 2) child.kill('SIGKILL');
    });
    child.on('exit', () => done());
  });
  assert.ok(!existsSync(join(cwd, 'out/metrics.json')), 'the run was killed before the end');
  const resumed = xlalign(args, cwd);
  assert.equal(resumed.status, 0, resumed.stderr);
  const cached = (resumed.stderr.match(/\(cached\)/g) ?? []).length;
  assert.ok(cached >= 2 && cached < 8, `${cached} pools reused of 8`);
  // no temporary files are left behind as cache entries, and the numbers equal a fresh run
  for (const f of readdirSync(join(cwd, 'out/.pools'))) assert.ok(f.endsWith('.json'), f);
  const fresh = mkdtempSync(join(tmpdir(), 'cli-fresh-'));
  assert.equal(xlalign(args.map((a) => (a === 'cache' ? join(fresh, 'cache') : a)), fresh).status, 0);
  const a = JSON.parse(readFileSync(join(cwd, 'out/metrics.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(fresh, 'out/metrics.json'), 'utf8'));
  assert.deepEqual(a, b);
});

test('xlalign train (adapter) on a small set writes before/after tables with intervals', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-train-'));
  const r = xlalign(['train', '--head', 'adapter', '--samples', '220', '--epochs', '1', '--langs', 'de,zh', '--scenarios', 'mixed-target', '--resamples', '200', '--out', 'out'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const deltas = JSON.parse(readFileSync(join(cwd, 'out/before-after.json'), 'utf8'));
  const incl = deltas.filter((d: any) => d.metric === 'pivot_inclination');
  assert.deepEqual(incl.map((d: any) => d.lang).sort(), ['de', 'zh']);
  for (const d of incl) {
    assert.ok(Math.abs(d.after - d.before - d.delta) < 1e-12);
    assert.ok(d.deltaLow <= d.deltaHigh);
  }
  assert.match(r.stdout, /default\+adapter vs default on the XQuAD eval articles \(24 of 48\)/);
  for (const f of ['adapter.safetensors', 'loss.csv', 'train-samples.jsonl', 'config.json', 'deltas.md', 'metrics.json']) assert.ok(existsSync(join(cwd, 'out', f)), f);
  const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.equal(config.seed, 42);
  assert.equal(config.samples, 220);
  // the default loss is the study's (issue 10), its magnitudes are recorded
  assert.equal(config.loss, 'study');
  assert.equal(config.loop.loss.name, 'StudyLoss');
  assert.ok(config.lossParts.lastEpoch.jsd > 0 && config.lossParts.lastEpoch.infoNCE > 0);
  const means = JSON.parse(readFileSync(join(cwd, 'out/before-after-mean.json'), 'utf8'));
  assert.deepEqual(means.find((m: any) => m.metric === 'pivot_inclination').langs, ['de', 'zh']);
  assert.equal(readFileSync(join(cwd, 'out/train-samples.jsonl'), 'utf8').trim().split('\n').length, 220);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accumulateMetricRows, mergeMetricRows, readMetricRows, type MetricRow } from '../../lib/results/metric-rows.js';
import { writeOwnDataset } from '../fixtures/own-dataset.js';

const TSX = resolve('node_modules/.bin/tsx');
const MAIN = resolve('lib/cli/main.ts');
const row = (retriever: string, lang: string, metric: string, value: number, extra: object = {}): MetricRow => ({ dataset: 'd', retriever, scenario: 'mixed', lang, metric, value, ...extra }) as MetricRow;

test('mergeMetricRows: recomputed rows replace old ones in place, the others stay, new keys are appended', () => {
  const old = [row('a', 'de', 'maxr', 1), row('a', 'th', 'maxr', 2), row('b', 'de', 'maxr', 3)];
  const fresh = [row('a', 'th', 'maxr', 20), row('c', 'de', 'maxr', 4)];
  assert.deepEqual(mergeMetricRows(old, fresh), [row('a', 'de', 'maxr', 1), row('a', 'th', 'maxr', 20), row('b', 'de', 'maxr', 3), row('c', 'de', 'maxr', 4)]);
  // a missing queryLang equals lang; another queryLang is another row
  assert.deepEqual(mergeMetricRows([row('a', 'de', 'maxr', 1)], [row('a', 'de', 'maxr', 5, { queryLang: 'de' })]), [row('a', 'de', 'maxr', 5, { queryLang: 'de' })]);
  assert.equal(mergeMetricRows([row('a', 'de', 'maxr', 1)], [row('a', 'de', 'maxr', 5, { queryLang: 'en' })]).length, 2);
});

/** Run `n` accumulations of distinct rows in a child process. */
function writer(dir: string, tag: string, n: number): Promise<number | null> {
  const code = `import { accumulateMetricRows } from ${JSON.stringify(resolve('lib/results/metric-rows.ts'))};
for (let i = 0; i < ${n}; i++) await accumulateMetricRows(${JSON.stringify(dir)}, [{ dataset: 'd', retriever: '${tag}', scenario: 's', lang: 'l' + i, metric: 'm', value: i }]);`;
  const file = join(dir, `writer-${tag}.mts`);
  writeFileSync(file, code);
  return new Promise((done) => spawn(TSX, [file], { stdio: 'inherit' }).on('exit', done));
}

test('two processes accumulating into one folder at once keep every row (lock file with O_EXCL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'merge-'));
  const codes = await Promise.all([writer(dir, 'x', 25), writer(dir, 'y', 25)]);
  assert.deepEqual(codes, [0, 0]);
  const rows = readMetricRows(dir);
  assert.equal(rows.length, 50);
  assert.equal(new Set(rows.map((r) => `${r.retriever}${r.lang}`)).size, 50);
  assert.equal(readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').length, 51);
  const md = readFileSync(join(dir, 'metrics.md'), 'utf8');
  for (const t of ['x', 'y']) assert.match(md, new RegExp(`### d · ${t} · s\\n`)); // in the order the writers came first
  assert.ok(!existsSync(join(dir, 'metrics.lock')));
  // a lock left by a killed process (its pid is gone) does not block
  writeFileSync(join(dir, 'metrics.lock'), '999999999');
  await accumulateMetricRows(dir, [row('z', 'de', 'maxr', 1)]);
  assert.equal(readMetricRows(dir).length, 51);
});

test('a second eval into the same --out merges; two evals at once both keep their rows; names never collide', async () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 6 });
  const cwd = mkdtempSync(join(tmpdir(), 'cli-merge-'));
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((done) => {
      const c = spawn(TSX, [MAIN, 'eval', '--dataset', dir, '--out', 'out', ...args], { cwd, env: { ...process.env, CI: 'true' } });
      let err = '';
      c.stderr.on('data', (b) => (err += b));
      c.on('exit', (code) => done({ code, err }));
    });
  // two at once
  const [a, b] = await Promise.all([run(['--retriever', 'bm25', '--scenarios', 'mixed']), run(['--retriever', 'default', '--scenarios', 'mixed,mono'])]);
  assert.equal(a.code, 0, a.err);
  assert.equal(b.code, 0, b.err);
  const first = readMetricRows(join(cwd, 'out'));
  assert.deepEqual([...new Set(first.map((r) => `${r.retriever} ${r.scenario}`))].sort(), ['bm25 mixed', 'default mixed', 'default mono']);
  // again: bm25 on mixed and mixed-target; its mixed rows are replaced, default's stay
  const c = await run(['--retriever', 'bm25', '--scenarios', 'mixed,mixed-target', '--metrics', 'ndcg@10,maxr']);
  assert.equal(c.code, 0, c.err);
  const second = readMetricRows(join(cwd, 'out'));
  assert.equal(second.filter((r) => r.retriever === 'default').length, first.filter((r) => r.retriever === 'default').length);
  const ndcg = (rows: MetricRow[]) => rows.filter((r) => r.retriever === 'bm25' && r.scenario === 'mixed' && r.metric === 'ndcg@10');
  assert.equal(ndcg(second).length, 1);
  assert.equal(ndcg(second)[0].value, ndcg(first)[0].value);
  assert.ok(second.some((r) => r.retriever === 'bm25' && r.scenario === 'mixed-target' && r.metric === 'maxr'));
  assert.ok(second.some((r) => r.retriever === 'bm25' && r.scenario === 'mixed' && r.metric === 'pivot_inclination'), 'rows of the first run that the second did not recompute stay');
  const md = readFileSync(join(cwd, 'out/metrics.md'), 'utf8');
  for (const h of ['bm25 · mixed', 'bm25 · mixed-target', 'default · mixed', 'default · mono']) assert.match(md, new RegExp(`### mini · ${h}\\n`));
  // another dataset into the same folder would overwrite TREC files: refused before work
  const other = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 3, meta: { name: 'other' } });
  const d = await new Promise<{ code: number | null; err: string }>((done) => {
    const p = spawn(TSX, [MAIN, 'eval', '--dataset', other.dir, '--retriever', 'bm25', '--out', 'out'], { cwd });
    let err = '';
    p.stderr.on('data', (x) => (err += x));
    p.on('exit', (code) => done({ code, err }));
  });
  assert.equal(d.code, 1);
  assert.match(d.err, /holds results of dataset 'mini'; runs\/ and qrels\/ of 'other' would overwrite/);
});

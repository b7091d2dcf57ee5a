import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  assert.equal(d.code, 2);
  assert.match(d.err, /holds results of dataset 'mini'; runs\/ and qrels\/ of 'other' would overwrite/);
});

/** `xlalign eval ...` in `cwd`; exit code, stdout and stderr. */
function xlalign(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const c = spawn(TSX, [MAIN, 'eval', ...args], { cwd, env: { ...process.env, CI: 'true' } });
    let out = '';
    let err = '';
    c.stdout.on('data', (b) => (out += b));
    c.stderr.on('data', (b) => (err += b));
    c.on('exit', (code) => done({ code, out, err }));
  });
}

test('the pivot-merge case: eval with --pivot es into a folder made with the default pivot is refused, naming the pivot; nothing of the first eval changes', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-pivot-'));
  const base = ['--dataset', 'xquad', '--retriever', 'bm25', '--scenarios', 'mixed,cross', '--metrics', 'ndcg@10,maxr', '--out', 'out'];
  const a = await xlalign([...base, '--langs', 'de'], cwd);
  assert.equal(a.code, 0, a.err);
  const files = ['metrics.json', 'metrics.md', 'runs/bm25/mixed.de.run', 'qrels/mixed.de.qrels'].map((f) => readFileSync(join(cwd, 'out', f), 'utf8'));
  const config1 = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  const rows = readMetricRows(join(cwd, 'out'));
  const id = rows[0].settings!;
  assert.ok(rows.every((r) => r.settings === id), 'every row points to one settings record');
  assert.equal(config1.settings[id].pivot, 'en');
  assert.equal(config1.settings[id].retriever.name, 'bm25');
  assert.match(config1.settings[id].dataset.langHashes.de, /^[0-9a-f]{64}$/);
  assert.equal(config1.evaluations.length, 1);

  const b = await xlalign([...base, '--langs', 'de', '--pivot', 'es'], cwd);
  assert.notEqual(b.code, 0, b.err);
  assert.match(b.err, /holds rows of dataset 'xquad' made with pivot "en" \(settings [0-9a-f]{12}\); this evaluation has pivot "es"/);
  assert.deepEqual(['metrics.json', 'metrics.md', 'runs/bm25/mixed.de.run', 'qrels/mixed.de.qrels'].map((f) => readFileSync(join(cwd, 'out', f), 'utf8')), files, 'rows, tables, run and qrels files unchanged');
  assert.ok(!existsSync(join(cwd, 'out/runs/bm25/mixed.es.run')));

  // the same settings on another language: accepted, same settings id, one more evaluation record
  const c = await xlalign([...base, '--langs', 'es'], cwd);
  assert.equal(c.code, 0, c.err);
  const config2 = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.deepEqual(Object.keys(config2.settings), [id]);
  assert.deepEqual(Object.keys(config2.settings[id].dataset.langHashes).sort(), ['de', 'en', 'es']);
  assert.deepEqual(config2.evaluations.map((e: { command: string; settings: string[] }) => [e.command, e.settings]), [['eval', [id]], ['eval', [id]]]);
  assert.deepEqual(config2.evaluations[1].argv.slice(-2), ['--langs', 'es']);
  const all = readMetricRows(join(cwd, 'out'));
  assert.deepEqual([...new Set(all.map((r) => r.lang))].sort(), ['de', 'es']);
  // the --pivot es rows live in their own folder, with their own settings
  const d = await xlalign([...base.slice(0, -1), 'out-es', '--langs', 'de', '--pivot', 'es'], cwd);
  assert.equal(d.code, 0, d.err);
  const es = readMetricRows(join(cwd, 'out-es'));
  assert.notEqual(es[0].settings, id);
  const v = (rs: MetricRow[], scenario: string) => rs.find((r) => r.scenario === scenario && r.lang === 'de' && r.metric === 'ndcg@10')!.value;
  process.stderr.write(`pivot-merge case (xquad bm25 de ndcg@10): mixed pivot en ${v(rows, 'mixed').toFixed(4)}, pivot es ${v(es, 'mixed').toFixed(4)}; cross pivot en ${v(rows, 'cross').toFixed(4)}, pivot es ${v(es, 'cross').toFixed(4)}\n`);
  assert.notEqual(v(rows, 'cross'), v(es, 'cross'), 'the two pivots give other numbers: keeping them apart matters');
});

test('another retriever setting under the same name (token limit) is refused, naming it; a legacy config.json is kept as the first record', async () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 4 });
  const cwd = mkdtempSync(join(tmpdir(), 'cli-settings-'));
  const base = ['--dataset', dir, '--retriever', 'default', '--scenarios', 'mixed', '--out', 'out'];
  mkdirSync(join(cwd, 'out'));
  writeFileSync(join(cwd, 'out/config.json'), JSON.stringify({ command: 'eval', pivot: 'en', date: '2025-01-01T00:00:00.000Z' }));
  const a = await xlalign(base, cwd);
  assert.equal(a.code, 0, a.err);
  const b = await xlalign([...base, '--max-length', '8'], cwd);
  assert.notEqual(b.code, 0, b.err);
  assert.match(b.err, /holds rows of retriever 'default' on dataset 'mini' made with retriever\.maxLength 8192 \(settings [0-9a-f]{12}\); this evaluation has retriever\.maxLength 8\./);
  const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.deepEqual(config.evaluations.map((e: { command: string }) => e.command), ['legacy', 'eval']);
  assert.equal(config.evaluations[0].record.date, '2025-01-01T00:00:00.000Z');
});

test('a run depth that differs from the folder is refused before any retriever is evaluated', async () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 4 });
  const cwd = mkdtempSync(join(tmpdir(), 'cli-depth-'));
  const a = await xlalign(['--dataset', dir, '--retriever', 'default', '--scenarios', 'mixed', '--out', 'out'], cwd);
  assert.equal(a.code, 0, a.err);
  const before = readFileSync(join(cwd, 'out/metrics.json'), 'utf8');
  const b = await xlalign(['--dataset', dir, '--retriever', 'bm25,default', '--scenarios', 'mixed', '--run-depth', '5', '--out', 'out'], cwd);
  assert.notEqual(b.code, 0);
  assert.match(b.err, /holds rows of retriever 'default' on dataset 'mini' made with runDepth "all" \(settings [0-9a-f]{12}\); this evaluation has runDepth 5/);
  assert.doesNotMatch(b.err, /bm25 mixed/, 'no pool was evaluated');
  assert.equal(readFileSync(join(cwd, 'out/metrics.json'), 'utf8'), before);
  assert.ok(!existsSync(join(cwd, 'out/runs/bm25')));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { markdownTables, type MetricRow } from '../../lib/results/metric-rows.js';
import { paperAblationTable, paperMainTable, paperTableCsv, paperTableMarkdown, querySide } from '../../lib/results/paper-table.js';
import { readAblationFolder } from '../../lib/results/ablation.js';

type Row = MetricRow & { queryLang?: string };
const row = (retriever: string, lang: string, metric: string, value: number, queryLang?: string, scenario = 'mixed'): Row => ({
  dataset: 'xquad', retriever, scenario, lang, metric, value, ...(queryLang ? { queryLang } : {}),
});

test('querySide: pivot queries are En, target-language queries (or rows without queryLang) are Tgt', () => {
  assert.equal(querySide(row('r', 'de', 'maxr', 1, 'en'), 'en'), 'En');
  assert.equal(querySide(row('r', 'de', 'maxr', 1, 'de'), 'en'), 'Tgt');
  assert.equal(querySide(row('r', 'de', 'maxr', 1), 'en'), 'Tgt');
  assert.equal(querySide(row('r', 'de', 'maxr', 1, 'zh'), 'en'), undefined);
});

test('paperMainTable: retriever × pair rows, Query En / Tgt × Comp@10 ×100, Max@R, Max@R_norm ×100, mean rows', () => {
  const rows: Row[] = [
    row('mE5', 'zh', 'complete@10', 0.005, 'zh'), row('mE5', 'zh', 'maxr', 650.95, 'zh'), row('mE5', 'zh', 'maxr_norm', 0.4, 'zh'),
    row('mE5', 'zh', 'complete@10', 0.2, 'en'), row('mE5', 'zh', 'maxr', 100, 'en'), row('mE5', 'zh', 'maxr_norm', 0.6, 'en'),
    row('mE5', 'de', 'complete@10', 0.5, 'de'), row('mE5', 'de', 'maxr', 20, 'de'), row('mE5', 'de', 'maxr_norm', 0.9, 'de'),
    row('mE5', 'de', 'complete@10', 0.7, 'en'), row('mE5', 'de', 'maxr', 10, 'en'), row('mE5', 'de', 'maxr_norm', 0.95, 'en'),
    row('mE5', 'de', 'ndcg@10', 0.9, 'de'), // not a column
    row('mE5', 'de', 'maxr', 999, 'de', 'mono'), // another scenario
    row('bm25', 'zh', 'maxr', 300), // an older row without queryLang: a target-language query
  ];
  const t = paperMainTable(rows);
  assert.deepEqual(t.labels, ['Retriever', 'Pair']);
  assert.deepEqual(t.columns, [
    'Query En Comp@10 ×100', 'Query En Max@R', 'Query En Max@R_norm ×100', 'Query Tgt Comp@10 ×100', 'Query Tgt Max@R', 'Query Tgt Max@R_norm ×100',
  ]);
  assert.deepEqual(t.rows.map((r) => r.labels), [['mE5', 'en-zh'], ['mE5', 'en-de'], ['mE5', 'mean'], ['bm25', 'en-zh']]);
  const close = (a: (number | undefined)[], b: (number | undefined)[]) =>
    assert.ok(a.length === b.length && a.every((v, i) => (v === undefined ? b[i] === undefined : Math.abs(v - b[i]!) < 1e-9)), `${a} vs ${b}`);
  close(t.rows[0].values, [20, 100, 60, 0.5, 650.95, 40]);
  close(t.rows[1].values, [70, 10, 95, 50, 20, 90]);
  close(t.rows[2].values, [45, 55, 77.5, 25.25, 335.475, 65]);
  close(t.rows[3].values, [undefined, undefined, undefined, undefined, 300, undefined]);
  const md = paperTableMarkdown(t);
  assert.match(md, /\| mE5 \| en-zh \| 20\.00 \| 100\.00 \| 60\.00 \| 0\.50 \| 650\.95 \| 40\.00 \|/);
  assert.match(md, /\| bm25 \| en-zh \| – \| – \| – \| – \| 300\.00 \| – \|/);
  const csv = paperTableCsv(t).trim().split('\n');
  assert.equal(csv.length, 5);
  assert.equal(csv[4], 'bm25,en-zh,,,,,300,');
  // only target-language queries: the table says so
  const tgtOnly = paperMainTable(rows.filter((r) => r.queryLang !== 'en'));
  assert.ok(tgtOnly.notes.some((n) => /--query-langs target,pivot/.test(n)), tgtOnly.notes.join('\n'));
  assert.ok(paperMainTable(rows, { scenario: 'mono' }).rows[0].values[4] === 999);
  assert.throws(() => paperMainTable(rows, { scenario: 'cross' }), /no metric rows of scenario 'cross'.*present: mixed, mono/);
});

test('paperAblationTable and xlalign table on an ablate folder: before row, one row per variant, means over pairs', () => {
  const before = [row('default', 'de', 'maxr', 100), row('default', 'zh', 'maxr', 50), row('default', 'de', 'complete@10', 0.1), row('default', 'zh', 'complete@10', 0.2)];
  const after = (name: string, f: number) => [row(name, 'de', 'maxr', 100 * f), row(name, 'zh', 'maxr', 50 * f), row(name, 'de', 'complete@10', 0.1 / f), row(name, 'zh', 'complete@10', 0.2 / f)];
  const t = paperAblationTable([{ variant: 'study', before, after: after('default+adapter', 0.5) }, { variant: 'study-no-jsd', before, after: after('x', 0.8) }]);
  assert.deepEqual(t.rows.map((r) => r.labels[0]), ['before training', 'study', 'study-no-jsd']);
  assert.deepEqual(t.rows.map((r) => [r.values[3], r.values[4]].map((v) => +v!.toFixed(6))), [[15, 75], [30, 37.5], [18.75, 60]]);

  const dir = mkdtempSync(join(tmpdir(), 'paper-table-'));
  for (const [variant, f] of [['study', 0.5], ['study-no-jsd', 0.8]] as const) {
    mkdirSync(join(dir, variant));
    writeFileSync(join(dir, variant, 'metrics.json'), JSON.stringify([...before, ...after(`default+adapter(${variant})`, f)]));
    writeFileSync(join(dir, variant, 'config.json'), JSON.stringify({ model: 'default', loss: variant }));
  }
  writeFileSync(join(dir, 'ablation.json'), JSON.stringify([{ variant: 'study-no-jsd' }, { variant: 'study' }]));
  assert.deepEqual(readAblationFolder(dir).map((v) => [v.variant, v.before.length, v.after.length]), [['study-no-jsd', 4, 4], ['study', 4, 4]]);
  const cli = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'table', '--from', dir, '--style', 'paper'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /\| study-no-jsd \| – \| – \| – \| 18\.75 \| 60\.00 \| – \|/);
  const csv = readFileSync(join(dir, 'paper-ablation.csv'), 'utf8').trim().split('\n');
  assert.deepEqual(csv.map((l) => l.split(',')[0]), ['Loss', 'before training', 'study-no-jsd', 'study']);
  writeFileSync(join(dir, 'study', 'config.json'), JSON.stringify({ loss: 'study' }));
  assert.throws(() => readAblationFolder(dir), /config\.json: field 'model' missing/);
});

test('rows of one retriever under two settings records get their own table rows and means in the paper table and in metrics.md', () => {
  const rows = ['s1', 's2'].flatMap((settings, k) =>
    ['de', 'es'].flatMap((lang) => ['en', lang].map((queryLang) => ({ dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang, queryLang, metric: 'maxr', value: 10 * (k + 1), settings }))),
  );
  const t = paperMainTable(rows);
  assert.deepEqual(t.rows.map((r) => r.labels), [
    ['bm25 [settings s1]', 'en-de'], ['bm25 [settings s1]', 'en-es'], ['bm25 [settings s1]', 'mean'],
    ['bm25 [settings s2]', 'en-de'], ['bm25 [settings s2]', 'en-es'], ['bm25 [settings s2]', 'mean'],
  ]);
  const col = t.columns.indexOf('Query Tgt Max@R');
  assert.deepEqual(t.rows.map((r) => r.values[col]), [10, 10, 10, 20, 20, 20]);
  const md = markdownTables(rows);
  assert.match(md, /### xquad · bm25 · mixed · settings s1\n/);
  assert.match(md, /### xquad · bm25 · mixed · settings s2\n/);
  assert.doesNotMatch(md, /\| \*\*mean\*\* \| 15/);
});

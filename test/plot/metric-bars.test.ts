import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricBars, metricTable } from '../../lib/plot/metric-bars.js';
import { parseMetricRows } from '../../lib/plot/metric-rows.js';
import type { MetricRow } from '../../lib/plot/types.js';

const row = (retriever: string, scenario: string, lang: string, metric: string, value: number, dataset = 'xquad'): MetricRow => ({ dataset, retriever, scenario, lang, metric, value });
const rows: MetricRow[] = [
  row('bm25', 'mixed', 'de', 'maxr', 2),
  row('bm25', 'mixed', 'ar', 'maxr', 5),
  row('bm25', 'cross', 'de', 'maxr', 3),
  row('default', 'mixed', 'de', 'maxr', 1.5),
  row('default', 'mixed', 'ar', 'maxr', 4),
  row('default', 'cross', 'ar', 'maxr', 7),
  row('bm25', 'mixed', 'de', 'pivot_inclination', 0.25),
];

test('metricBars: one series per (retriever, scenario), values placed at their language', () => {
  const fig = metricBars(rows, 'maxr');
  assert.deepEqual(fig.data.map((t) => t.name), ['bm25 / cross', 'bm25 / mixed', 'default / cross', 'default / mixed']);
  for (const t of fig.data) assert.deepEqual(t.x, ['ar', 'de']);
  assert.deepEqual(fig.data.map((t) => t.y), [[null, 3], [5, 2], [7, null], [4, 1.5]]);
  assert.equal(fig.layout.barmode, 'group');
  assert.match(JSON.stringify(fig.layout.title), /maxr by language \(xquad\)/);
});

test('metricBars: series named by the varying field only; order and filters honoured; duplicates averaged', () => {
  const fig = metricBars([...rows, row('bm25', 'mixed', 'de', 'maxr', 4)], 'maxr', { retrievers: ['default', 'bm25'], scenarios: ['mixed'], langs: ['de', 'ar'] });
  assert.deepEqual(fig.data.map((t) => t.name), ['default', 'bm25']);
  assert.deepEqual(fig.data[1]!.y, [3, 5]); // bm25 mixed de = mean(2, 4)
  assert.deepEqual(fig.data[0]!.y, [1.5, 4]);
});

test('metricBars: errors list what exists', () => {
  assert.throws(() => metricBars(rows, 'ndcg@10'), /no rows for metric 'ndcg@10'; the rows have 'maxr', 'pivot_inclination'/);
  assert.throws(() => metricBars([...rows, row('bm25', 'mixed', 'de', 'maxr', 1, 'belebele')], 'maxr'), /span datasets belebele, xquad; pick one/);
  assert.equal(metricBars([...rows, row('bm25', 'mixed', 'de', 'maxr', 1, 'belebele')], 'maxr', { dataset: 'belebele' }).data.length, 1);
});

test('metricTable: wide table, one column per scenario, rounded means', () => {
  const t = metricTable(rows, 'maxr', { retriever: 'default' });
  assert.deepEqual(t.columnNames(), ['dataset', 'lang', 'cross', 'mixed']);
  assert.deepEqual(t.objects(), [
    { dataset: 'xquad', lang: 'ar', cross: 7, mixed: 4 },
    { dataset: 'xquad', lang: 'de', cross: undefined, mixed: 1.5 },
  ]);
  const r = metricTable([...rows, row('bm25', 'mixed', 'de', 'maxr', 1 / 3)], 'maxr', { dataset: 'xquad', columns: 'retriever', digits: 2 });
  // bm25 mixed de = mean(2, 1/3) = 1.1666... -> 1.17
  assert.deepEqual(r.objects().find((o) => (o as { scenario: string; lang: string }).scenario === 'mixed' && (o as { lang: string }).lang === 'de'), { scenario: 'mixed', lang: 'de', bm25: 1.17, default: 1.5 });
  assert.match(t.toHTML(), /<table/);
  assert.throws(() => metricTable(rows, 'maxr', { retriever: 'nope' }), /no rows for metric 'maxr' for retriever 'nope'/);
});

test('parseMetricRows: accepts an array or { rows }, names the bad row and field', () => {
  assert.equal(parseMetricRows(rows).length, rows.length);
  assert.equal(parseMetricRows({ rows }).length, rows.length);
  assert.throws(() => parseMetricRows([rows[0], { ...rows[1], value: '5' }], { file: 'out/metrics.json' }), /out\/metrics\.json: \[1\]\.value: /);
  assert.throws(() => parseMetricRows({ rows: [{ ...rows[0], lang: undefined }] }), /metrics\.json: rows\[0\]\.lang: /);
  assert.throws(() => parseMetricRows({ nothing: 1 }), /expected an array of metric rows/);
});

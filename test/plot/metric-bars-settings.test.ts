import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricBars } from '../../lib/plot/metric-bars.js';
import type { MetricRow } from '../../lib/results/metric-rows.js';

test('metricBars never averages pivot-language queries or rows of another settings record into a bar', () => {
  const row = (lang: string, value: number, extra: Partial<MetricRow> = {}): MetricRow => ({ dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang, metric: 'maxr', value, ...extra });
  const fig = metricBars([row('de', 10, { queryLang: 'de', settings: 's1' }), row('de', 30, { queryLang: 'en', settings: 's1' }), row('de', 50, { queryLang: 'de', settings: 's2' })], 'maxr');
  assert.deepEqual(
    fig.data.map((t) => [t.name, t.y]),
    [['bm25 (en queries) [settings s1]', [30]], ['bm25 [settings s1]', [10]], ['bm25 [settings s2]', [50]]],
  );
  // true duplicates (same settings, same query language) are still one bar: their mean
  assert.deepEqual(metricBars([row('de', 10, { settings: 's1' }), row('de', 20, { settings: 's1' })], 'maxr').data.map((t) => t.y), [[15]]);
});

// Tests for the small figure builders: before/after bars, rank distribution, similarity
// histograms, bitext accuracy and loss curves (one file: each builder is a few lines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { beforeAfterBars } from '../../lib/plot/before-after-bars.js';
import { bitextAccuracyBars } from '../../lib/plot/bitext-accuracy.js';
import { lossCurve, movingAverage, parseLossCsv } from '../../lib/plot/loss-curve.js';
import { rankDistribution } from '../../lib/plot/rank-distribution.js';
import { similarityHistograms } from '../../lib/plot/similarity-histograms.js';

test('beforeAfterBars: error bars span before + delta interval around the after bar', () => {
  const fig = beforeAfterBars(
    [
      { lang: 'de', metric: 'maxr', before: 3, after: 2, deltaLow: -1.5, deltaHigh: -0.25 },
      { lang: 'ar', metric: 'maxr', before: 6, after: 3, deltaLow: -4, deltaHigh: -2 },
      { lang: 'ar', metric: 'complete@10', before: 0.5, after: 0.75 },
    ],
    'maxr',
  );
  assert.deepEqual(fig.data.map((t) => t.name), ['before', 'after']);
  assert.deepEqual(fig.data[0]!.x, ['ar', 'de']);
  assert.deepEqual(fig.data[0]!.y, [6, 3]);
  assert.deepEqual(fig.data[1]!.y, [3, 2]);
  const e = fig.data[1]!.error_y as { array: number[]; arrayminus: number[] };
  // ar: interval of after = [6-4, 6-2] = [2, 4] around 3 -> up 1, down 1
  // de: [3-1.5, 3-0.25] = [1.5, 2.75] around 2 -> up 0.75, down 0.5
  assert.deepEqual(e.array, [1, 0.75]);
  assert.deepEqual(e.arrayminus, [1, 0.5]);
  const noCi = beforeAfterBars([{ lang: 'ar', metric: 'complete@10', before: 0.5, after: 0.75 }], 'complete@10');
  assert.equal(noCi.data[1]!.error_y, undefined);
  assert.throws(() => beforeAfterBars([], 'maxr'), /no rows for metric 'maxr'/);
  assert.throws(() => beforeAfterBars([{ lang: 'de', metric: 'm', before: 1, after: 1 }, { lang: 'de', metric: 'm', before: 1, after: 1 }], 'm'), /'de' appears twice/);
});

test('beforeAfterBars: rows of several scenarios need options.scenario', () => {
  const rows = [
    { scenario: 'mixed', lang: 'de', metric: 'maxr', before: 3, after: 2 },
    { scenario: 'mono', lang: 'de', metric: 'maxr', before: 1.5, after: 1.25 },
  ];
  assert.throws(() => beforeAfterBars(rows, 'maxr'), /span scenarios mixed, mono; pick one with options.scenario/);
  const fig = beforeAfterBars(rows, 'maxr', { scenario: 'mono' });
  assert.deepEqual([fig.data[0]!.y, fig.data[1]!.y], [[1.5], [1.25]]);
  assert.match(JSON.stringify(fig.layout.title), /\(mono\)/);
  assert.throws(() => beforeAfterBars(rows, 'maxr', { scenario: 'cross' }), /no rows for metric 'maxr' in scenario 'cross'/);
});

test('rankDistribution: a box per language (log axis), or overlaid histograms; bad ranks rejected', () => {
  const ranks = { zh: [1, 2, 50], de: [1, 1, 3] };
  const box = rankDistribution(ranks);
  assert.deepEqual(box.data.map((t) => [t.type, t.name, t.y]), [['box', 'de', [1, 1, 3]], ['box', 'zh', [1, 2, 50]]]);
  assert.equal((box.layout.yaxis as { type: string }).type, 'log');
  const hist = rankDistribution(ranks, { kind: 'histogram', logAxis: false });
  assert.deepEqual(hist.data.map((t) => t.x), [[1, 1, 3], [1, 2, 50]]);
  assert.equal(hist.layout.barmode, 'overlay');
  assert.throws(() => rankDistribution({ de: [1, 0] }), /ranks\['de'\]\[1\] = 0; ranks are 1-based/);
  assert.throws(() => rankDistribution({}), /no languages/);
});

test('similarityHistograms: one panel per language on its own axes, two classes each', () => {
  const fig = similarityHistograms(
    ['de', 'ar', 'zh', 'hi', 'th'].map((lang, i) => ({ lang, parallel: [0.8 - i / 10, 0.7], nonParallel: [0.1, 0.2 + i / 100] })),
    { columns: 2 },
  );
  assert.deepEqual(fig.layout.grid, { rows: 3, columns: 2, pattern: 'independent' });
  assert.equal(fig.data.length, 10);
  assert.deepEqual(fig.data.slice(2, 4).map((t) => [t.name, t.xaxis, t.yaxis, t.showlegend]), [['parallel', 'x2', 'y2', false], ['non-parallel', 'x2', 'y2', false]]);
  assert.deepEqual(fig.data[8]!.x, [0.4, 0.7]); // th parallel
  assert.deepEqual((fig.layout.annotations as { text: string }[]).map((a) => a.text), ['de', 'ar', 'zh', 'hi', 'th']);
  assert.throws(() => similarityHistograms([{ lang: 'de', parallel: [], nonParallel: [0.1] }]), /'de' has 0 parallel/);
});

test('bitextAccuracyBars: languages sorted by the first model, descending; accuracies checked', () => {
  const fig = bitextAccuracyBars([
    { lang: 'deu', model: 'default', accuracy: 0.5 },
    { lang: 'ara', model: 'default', accuracy: 0.9 },
    { lang: 'tha', model: 'default', accuracy: 0.1 },
    { lang: 'ara', model: 'random', accuracy: 0.01 },
  ]);
  assert.deepEqual(fig.data[0]!.x, ['ara', 'deu', 'tha']);
  assert.deepEqual(fig.data[0]!.y, [0.9, 0.5, 0.1]);
  assert.deepEqual(fig.data[1]!.y, [0.01, null, null]);
  assert.throws(() => bitextAccuracyBars([{ lang: 'x', model: 'm', accuracy: 1.5 }]), /rows\[0\] \(x, m\): accuracy 1.5 is not in \[0, 1\]/);
});

test('parseLossCsv + lossCurve: numeric columns, line numbers in errors, smoothing', () => {
  const t = parseLossCsv('step,loss,infonce,lr\n1,2,1.5,0.001\n2,1,0.5,0.001\n3,,0.25,0.001\n');
  assert.deepEqual(t.columns.step, [1, 2, 3]);
  assert.ok(Number.isNaN(t.columns.loss![2]));
  const fig = lossCurve(t);
  assert.deepEqual(fig.data.map((d) => d.name), ['loss', 'infonce']); // lr and step are not losses
  assert.deepEqual(fig.data[0]!.y, [2, 1, null]);
  const smooth = lossCurve({ adapter: t }, { series: ['infonce'], smooth: 2 });
  assert.deepEqual(smooth.data.map((d) => d.name), ['adapter: infonce (raw)', 'adapter: infonce']);
  assert.deepEqual(smooth.data[1]!.y, [1.5, 1, 0.375]);
  assert.deepEqual(smooth.data[0]!.line, smooth.data[1]!.line); // raw and smoothed share a colour
  assert.notDeepEqual(fig.data[0]!.line, fig.data[1]!.line);
  assert.deepEqual(movingAverage([1, NaN, 3, 5], 2), [1, 1, 3, 4]);
  assert.throws(() => parseLossCsv('step,loss\n1,0.5\n2,abc\n', { file: 'run/loss.csv' }), /run\/loss\.csv: line 3: column 'loss' = 'abc' is not a number/);
  assert.throws(() => parseLossCsv('epoch,loss\n1,2\n'), /line 1: no 'step' column; the header is 'epoch,loss'/);
  assert.throws(() => lossCurve(t, { series: ['jsd'] }), /no column 'jsd'; columns: step, loss, infonce, lr/);
});

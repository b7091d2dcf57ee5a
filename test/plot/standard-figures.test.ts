import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CHROMIUM } from '../../lib/plot/export.js';
import { figureName, renderStandardFigures, standardFigureSpecs } from '../../lib/plot/standard-figures.js';
import type { MetricRow } from '../../lib/plot/types.js';
import { decodePng } from './png-decode.js';

const skip = existsSync(process.env.XLALIGN_CHROMIUM ?? DEFAULT_CHROMIUM) ? false : `Chromium not installed at ${DEFAULT_CHROMIUM} (apt-get install -y chromium); skipping rendering`;

let dir: string;
const rows: MetricRow[] = [];
for (const retriever of ['bm25', 'default']) {
  for (const scenario of ['mono', 'mixed']) {
    for (const [i, lang] of ['de', 'ar', 'zh'].entries()) {
      rows.push({ dataset: 'xquad', retriever, scenario, lang, metric: 'maxr', value: 1 + i });
      if (scenario === 'mixed') rows.push({ dataset: 'xquad', retriever, scenario, lang, metric: 'pivot_inclination', value: i / 4 });
    }
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'xlalign-std-'));
  mkdirSync(join(dir, 'results'));
  writeFileSync(join(dir, 'results', 'metrics.json'), JSON.stringify(rows));
  // The DeltaRow shape `xlalign train` writes (lib/eval/compare.ts).
  writeFileSync(join(dir, 'results', 'before-after.json'), JSON.stringify([
    { scenario: 'mixed', lang: 'de', metric: 'maxr', before: 3, after: 2, delta: -1, deltaLow: -1.5, deltaHigh: -0.5, queries: 10 },
    { scenario: 'mixed', lang: 'ar', metric: 'maxr', before: 4, after: 2, delta: -2, deltaLow: -2.5, deltaHigh: -1.5, queries: 10 },
    { scenario: 'mono', lang: 'de', metric: 'maxr', before: 1.5, after: 1.5, delta: 0, deltaLow: -0.1, deltaHigh: 0.1, queries: 10 },
    { scenario: 'mixed', lang: 'de', metric: 'maxr.median', before: 2, after: 1, delta: -1 },
  ]));
  writeFileSync(join(dir, 'results', 'loss.csv'), 'step,loss\n1,3\n2,2.5\n3,2.25\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('figureName makes metric and model names file-safe', () => {
  assert.equal(figureName('xquad', 'Xenova/multilingual-e5-small', 'complete@10'), 'xquad-Xenova_multilingual-e5-small-complete-at-10');
});

test('standardFigureSpecs: one figure per (retriever, metric), a mixed comparison, before/after and loss', () => {
  const names = standardFigureSpecs(join(dir, 'results')).map((f) => f.name);
  assert.deepEqual(names, [
    'xquad-bm25-pivot_inclination', 'xquad-default-pivot_inclination', 'xquad-mixed-pivot_inclination',
    'xquad-bm25-maxr', 'xquad-default-maxr', 'xquad-mixed-maxr',
    'before-after-mono-maxr', 'before-after-mixed-maxr', 'loss',
  ]);
  const maxr = standardFigureSpecs(join(dir, 'results')).find((f) => f.name === 'xquad-bm25-maxr')!.spec;
  assert.deepEqual(maxr.data.map((t) => t.name), ['mono', 'mixed']); // scenarios in reading order
});

test('standardFigureSpecs: a missing or malformed metrics.json is a clear error', () => {
  assert.throws(() => standardFigureSpecs(join(dir, 'nope')), /metrics\.json not found; run 'xlalign eval --out/);
  mkdirSync(join(dir, 'bad'));
  writeFileSync(join(dir, 'bad', 'metrics.json'), JSON.stringify([{ ...rows[0], metric: 7 }]));
  assert.throws(() => standardFigureSpecs(join(dir, 'bad')), /bad\/metrics\.json: \[0\]\.metric: /);
  writeFileSync(join(dir, 'bad', 'metrics.json'), JSON.stringify(rows));
  writeFileSync(join(dir, 'bad', 'before-after.json'), JSON.stringify([{ lang: 'de', metric: 'maxr', before: 'x', after: 1 }]));
  assert.throws(() => standardFigureSpecs(join(dir, 'bad')), /before-after\.json: rows\[0\]\.before: /);
});

test('renderStandardFigures writes PNG + SVG per figure and an index with input hashes', { skip }, async () => {
  const out = join(dir, 'figures');
  const figs = await renderStandardFigures(join(dir, 'results'), out, { scale: 1 });
  assert.equal(figs.length, 9);
  for (const f of figs) {
    const png = decodePng(readFileSync(f.files.png!));
    assert.equal(png.width, 900);
    assert.ok(readFileSync(f.files.svg!, 'utf8').startsWith('<svg'));
  }
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
  assert.equal(index.figures.length, 9);
  assert.deepEqual(index.inputs.map((i: { file: string }) => i.file.split('/').pop()), ['metrics.json', 'before-after.json', 'loss.csv']);
  assert.match(index.inputs[0].sha256, /^[0-9a-f]{64}$/);
});

test('standardFigureSpecs: pivot-language queries get their own figures (metrics and before/after), never mixed into the own-language bars', () => {
  const d = mkdtempSync(join(tmpdir(), 'xlalign-std-q-'));
  try {
    const q: MetricRow[] = [];
    for (const [i, lang] of ['de', 'zh'].entries()) {
      q.push({ dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang, metric: 'maxr', value: 10 + i });
      q.push({ dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang, queryLang: 'en', metric: 'maxr', value: 20 + i } as MetricRow);
    }
    writeFileSync(join(d, 'metrics.json'), JSON.stringify(q));
    writeFileSync(join(d, 'before-after.json'), JSON.stringify([
      { scenario: 'mixed', lang: 'de', metric: 'maxr', before: 10, after: 9, delta: -1 },
      { scenario: 'mixed', lang: 'de', queryLang: 'en', metric: 'maxr', before: 20, after: 15, delta: -5 },
    ]));
    const figs = standardFigureSpecs(d);
    const names = figs.map((f) => f.name);
    assert.ok(names.includes('xquad-bm25-mixed-maxr-query-langs'), names.join(' '));
    assert.ok(names.includes('before-after-mixed-maxr') && names.includes('before-after-mixed-maxr-en-queries'), names.join(' '));
    // the own-language bars hold only own-language values (10, 11), the query-langs figure both series
    const ys = (name: string) => (figs.find((f) => f.name === name)!.spec as unknown as { data: { y: number[] }[] }).data.flatMap((t) => t.y);
    assert.deepEqual(ys('xquad-bm25-maxr'), [10, 11]);
    assert.deepEqual(ys('xquad-bm25-mixed-maxr-query-langs').sort(), [10, 11, 20, 21]);
    const both = JSON.stringify(figs.find((f) => f.name === 'xquad-bm25-mixed-maxr-query-langs')!.spec);
    assert.ok(both.includes('queries in en') && both.includes('queries in the target language'), both);
    assert.deepEqual(ys('before-after-mixed-maxr').sort(), [10, 9].sort());
    assert.deepEqual(ys('before-after-mixed-maxr-en-queries').sort(), [15, 20]);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

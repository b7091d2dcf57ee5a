import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createFigureExporter, exportFigure, figureHtml, DEFAULT_CHROMIUM, type FigureExporter } from '../../lib/plot/export.js';
import { metricBars } from '../../lib/plot/metric-bars.js';
import type { FigureSpec, MetricRow } from '../../lib/plot/types.js';
import { countColour, decodePng, greyVariance } from './png-decode.js';

const haveChromium = existsSync(process.env.XLALIGN_CHROMIUM ?? DEFAULT_CHROMIUM);
const skip = haveChromium ? false : `Chromium not installed at ${DEFAULT_CHROMIUM} (apt-get install -y chromium); skipping rendering tests`;
if (skip) console.log(`# ${skip}`);

const rows: MetricRow[] = [
  { dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang: 'de', metric: 'pivot_inclination', value: 0.125 },
  { dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang: 'ar', metric: 'pivot_inclination', value: 0.875 },
  { dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang: 'zh', metric: 'pivot_inclination', value: 0.5 },
];
const spec: FigureSpec = metricBars(rows, 'pivot_inclination', { yRange: [0, 1] });

let ex: FigureExporter;
let browser: Browser;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xlalign-plot-'));
  if (skip) return;
  ex = await createFigureExporter();
  browser = await chromium.launch({ executablePath: DEFAULT_CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await ex?.close();
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('PNG has the requested size times scale and is not blank', { skip }, async () => {
  const files = await ex.export(spec, { dir, name: 'bars', formats: ['png'], width: 400, height: 300, scale: 2 });
  const png = decodePng(readFileSync(files.png!));
  assert.equal(png.width, 800);
  assert.equal(png.height, 600);
  assert.ok(greyVariance(png) > 50, `grey variance ${greyVariance(png)} too low: blank image?`);
  // The bars are drawn in plotly's first colour #1f77b4; a blank or axes-only image has none.
  const blue = countColour(png, [0x1f, 0x77, 0xb4]);
  assert.ok(blue > 5000, `only ${blue} bar-coloured pixels`);
  // An empty figure of the same size has no bar pixels: the count really measures the bars.
  const empty = decodePng(await ex.png({ data: [], layout: {} }, { width: 400, height: 300, scale: 1 }));
  assert.equal(empty.width, 400);
  assert.equal(countColour(empty, [0x1f, 0x77, 0xb4]), 0);
});

test('taller bars cover more pixels (the PNG reflects the data)', { skip }, async () => {
  const low = decodePng(await ex.png({ data: [{ type: 'bar', x: ['a'], y: [0.2] }], layout: { yaxis: { range: [0, 1] } } }, { width: 300, height: 300, scale: 1 }));
  const high = decodePng(await ex.png({ data: [{ type: 'bar', x: ['a'], y: [0.8] }], layout: { yaxis: { range: [0, 1] } } }, { width: 300, height: 300, scale: 1 }));
  const [l, h] = [countColour(low, [0x1f, 0x77, 0xb4]), countColour(high, [0x1f, 0x77, 0xb4])];
  assert.ok(h > 3 * l && l > 0, `bar pixels: y=0.2 -> ${l}, y=0.8 -> ${h}`);
});

test('SVG parses as XML and contains one bar per data point and the language labels', { skip }, async () => {
  const files = await ex.export(spec, { dir, name: 'bars', formats: ['svg'], width: 500, height: 320 });
  const svg = readFileSync(files.svg!, 'utf8');
  const page = await browser.newPage();
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return {
      error: doc.getElementsByTagName('parsererror').length,
      root: doc.documentElement.nodeName,
      width: doc.documentElement.getAttribute('width'),
      bars: doc.querySelectorAll('g.trace.bars g.point').length,
      ticks: Array.from(doc.querySelectorAll('g.xtick text')).map((t) => t.textContent),
    };
  }, svg);
  await page.close();
  assert.equal(parsed.error, 0);
  assert.equal(parsed.root, 'svg');
  assert.equal(parsed.width, '500');
  assert.equal(parsed.bars, 3);
  assert.deepEqual(parsed.ticks, ['ar', 'de', 'zh']);
});

test('HTML is standalone, holds the data and renders offline from file://', { skip }, async () => {
  const files = await ex.export(spec, { dir, name: 'bars', formats: ['html'] });
  const html = readFileSync(files.html!, 'utf8');
  assert.ok(html.includes('"y":[0.875,0.125,0.5]'), 'the trace values are in the page');
  assert.ok(!/src=["']https?:/.test(html), 'no remote script');
  const ctx = await browser.newContext({ offline: true });
  const page = await ctx.newPage();
  await page.goto(pathToFileURL(files.html!).href);
  await page.waitForSelector('g.trace.bars', { timeout: 30_000 });
  const bars = await page.evaluate(() => document.querySelectorAll('g.trace.bars g.point').length);
  await ctx.close();
  assert.equal(bars, 3);
});

test('export writes every format atomically (no temp files left) and returns the paths', { skip }, async () => {
  const out = join(dir, 'all');
  const files = await ex.export(spec, { dir: out, name: 'fig-1', width: 300, height: 200, scale: 1 });
  assert.deepEqual(Object.keys(files).sort(), ['html', 'png', 'svg']);
  assert.deepEqual(readdirSync(out).sort(), ['fig-1.html', 'fig-1.png', 'fig-1.svg']);
});

test('exportFigure (one-shot) launches, writes and closes', { skip }, async () => {
  const files = await exportFigure(spec, { dir, name: 'one', formats: ['png'], width: 200, height: 100, scale: 1 });
  assert.equal(decodePng(readFileSync(files.png!)).width, 200);
});

test('bad names, formats and sizes are rejected with a clear message', { skip }, async () => {
  await assert.rejects(ex.export(spec, { dir, name: '../evil' }), /name '\.\.\/evil' must be letters/);
  await assert.rejects(ex.export(spec, { dir, name: 'x', formats: ['jpg' as 'png'] }), /unsupported format 'jpg'; use 'png', 'svg', 'html'/);
  await assert.rejects(ex.png(spec, { width: -1 }), /width must be a positive number/);
});

test('a missing Chromium gives an error that says how to install it', async () => {
  await assert.rejects(createFigureExporter({ executablePath: '/nonexistent/chromium' }), (e: Error) => {
    assert.match(e.message, /Chromium not found at \/nonexistent\/chromium/);
    assert.match(e.message, /apt-get install -y chromium/);
    return true;
  });
});

test('figureHtml escapes </script> inside the data', () => {
  const html = figureHtml({ data: [{ type: 'bar', x: ['</script><b>'], y: [1] }], layout: { title: { text: 'a<b' } } });
  assert.ok(!html.includes('</script><b>'));
  assert.ok(html.includes('\\u003c/script>\\u003cb>'));
  assert.ok(html.includes('<title>a&lt;b</title>'));
});

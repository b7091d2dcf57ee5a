// %% [markdown]
// # 00 · Environment check
//
// Runs in a few seconds and checks what the other notebooks need: the tslab kernel, the
// compiled library in `dist/` (run `npm run build`, or `scripts/setup.sh`), and headless
// Chromium for figures. If a cell fails, see `environment.md`.

// %%
import * as tslab from 'tslab';
import * as xl from '../../lib/index.js';
console.log(`node ${process.version}, xlalign exports: ${Object.keys(xl).length}`);

// %% [markdown]
// A tiny figure rendered through Chromium (`createFigureExporter`) and shown inline as PNG.

// %%
const exporter = await xl.createFigureExporter();
const fig = xl.metricBars(
  [
    { dataset: 'demo', retriever: 'demo', scenario: 'mixed', lang: 'de', metric: 'pivot_inclination', value: 0.25 },
    { dataset: 'demo', retriever: 'demo', scenario: 'mixed', lang: 'ar', metric: 'pivot_inclination', value: 0.75 },
  ],
  'pivot_inclination',
  { yRange: [0, 1], title: 'environment check: a figure rendered in headless Chromium' },
);
tslab.display.png(await exporter.png(fig, { width: 600, height: 300, scale: 1 }));
await exporter.close();

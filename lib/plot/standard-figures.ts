import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { xlError } from '../util/errors.js';
import { sha256File, writeFileAtomic } from '../util/fs.js';
import { beforeAfterBars } from './before-after-bars.js';
import { readBeforeAfter } from '../results/before-after.js';
import { createFigureExporter, type ExporterOptions, type FigureFormat } from './export.js';
import { lossCurve, readLossCsv } from './loss-curve.js';
import { metricBars } from './metric-bars.js';
import { distinct, parseMetricRows } from './metric-rows.js';
import type { FigureSpec, MetricRow } from './types.js';
import { metricRange } from '../metrics/registry.js';

/** Metrics drawn by {@link renderStandardFigures}, in this order, when present in the rows. */
export const STANDARD_METRICS = ['pivot_inclination', 'pivot_above', 'maxr', 'complete@10', 'ndcg@10', 'r@10'] as const;

/** Metrics drawn from `before-after.json`, when present (one figure per scenario and metric). */
export const BEFORE_AFTER_METRICS = ['maxr', 'complete@10', 'pivot_inclination'] as const;


/** Scenarios in reading order (the rest follow, sorted). */
const SCENARIO_ORDER = ['mono', 'cross', 'mixed', 'mixed-target', 'mixed-pivot', 'multi'];

/** Options of {@link renderStandardFigures}. */
export interface StandardFiguresOptions extends ExporterOptions {
  /** Formats to write. Default `['png', 'svg']` (HTML inlines 4.8 MB of plotly per figure). */
  formats?: readonly FigureFormat[];
  /** PNG pixel ratio. Default 2. */
  scale?: number;
  /** Metrics to draw. Default {@link STANDARD_METRICS} (those present). */
  metrics?: readonly string[];
}

/** One written figure, as listed in `<outDir>/index.json`. */
export interface StandardFigure {
  name: string;
  title: string;
  files: Partial<Record<FigureFormat, string>>;
}

// before-after.json has one owner (lib/results/before-after.ts); re-exported for the figure API.
export { readBeforeAfter } from '../results/before-after.js';

function readJson(path: string, where: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw xlError(where, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw xlError(where, `${path}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function orderOf(scenario: string): number {
  const i = SCENARIO_ORDER.indexOf(scenario);
  return i < 0 ? SCENARIO_ORDER.length : i;
}

/** A file-name-safe form: `complete@10` -> `complete-at-10`, `Xenova/e5` -> `Xenova_e5`. */
export function figureName(...parts: string[]): string {
  return parts.map((p) => p.replace(/@/g, '-at-').replace(/[^A-Za-z0-9._-]+/g, '_')).join('-');
}

/**
 * The standard figure specs of a results folder, without rendering them (pure apart from
 * reading the files): from `metrics.json` (required),
 *  - `<dataset>-<retriever>-<metric>`: per-language bars of the metric, one series per scenario;
 *  - `<dataset>-mixed-<metric>`: retrievers compared in the `mixed` scenario (when there are
 *    several retrievers);
 * from `before-after.json` (optional; the `DeltaRow`s of `xlalign train`):
 * `before-after-<scenario>-<metric>` per scenario and metric of {@link BEFORE_AFTER_METRICS};
 * from `loss.csv`
 * and any `loss-*.csv` (optional): `loss` / `loss-<name>`.
 *
 * @throws XlalignError when `metrics.json` is missing or malformed (naming file/row/field).
 * @example
 * const figs = standardFigureSpecs('results');  // [{ name, spec }, ...]
 */
export function standardFigureSpecs(fromDir: string, options: { metrics?: readonly string[] } = {}): { name: string; spec: FigureSpec }[] {
  const metricsFile = join(fromDir, 'metrics.json');
  if (!existsSync(metricsFile)) {
    throw xlError('renderStandardFigures', `${metricsFile} not found; run 'xlalign eval --out ${fromDir}' first (it writes metrics.json)`);
  }
  // the per-language figures show queries in the pool's own language; rows of pivot-language
  // queries (`--query-langs pivot`) get their own figures beside them (`...-query-langs`)
  const all: MetricRow[] = parseMetricRows(readJson(metricsFile, 'renderStandardFigures'), { file: metricsFile });
  const ownLang = (r: MetricRow) => r.queryLang === undefined || r.queryLang === r.lang;
  const rows = all.filter(ownLang);
  const pivotRows = all.filter((r) => !ownLang(r));
  const wanted = options.metrics ?? STANDARD_METRICS;
  const figs: { name: string; spec: FigureSpec }[] = [];
  for (const dataset of distinct(rows, 'dataset')) {
    const ds = rows.filter((r) => r.dataset === dataset);
    const retrievers = distinct(ds, 'retriever');
    for (const metric of wanted) {
      const dm = ds.filter((r) => r.metric === metric);
      if (dm.length === 0) continue;
      // y axis from the metric registry's value range (fixed for rates such as [0, 1]; autorange for MaxR)
      const yRange = metricRange(metric);
      for (const retriever of retrievers) {
        const sel = dm.filter((r) => r.retriever === retriever);
        if (sel.length === 0) continue;
        const scenarios = distinct(sel, 'scenario', SCENARIO_ORDER);
        figs.push({
          name: figureName(dataset, retriever, metric),
          spec: metricBars(sel, metric, { scenarios, yRange, title: `${metric} by language and scenario: ${retriever} on ${dataset}` }),
        });
      }
      // the study's "Query: En / Tgt": both query languages of a two-language pool side by side
      for (const retriever of retrievers) {
        const pv = pivotRows.filter((r) => r.dataset === dataset && r.retriever === retriever && r.metric === metric);
        for (const scenario of distinct(pv, 'scenario', SCENARIO_ORDER)) {
          const both = [...dm.filter((r) => r.retriever === retriever && r.scenario === scenario), ...pv.filter((r) => r.scenario === scenario)].map((r) => ({
            ...r,
            scenario: ownLang(r) ? 'queries in the target language' : `queries in ${r.queryLang}`,
            queryLang: r.lang, // the query language is the series now (scenario label), not a suffix of the retriever
          }));
          figs.push({
            name: figureName(dataset, retriever, scenario, metric, 'query-langs'),
            spec: metricBars(both, metric, { scenarios: distinct(both, 'scenario'), yRange, title: `${metric} in ${scenario} by query language: ${retriever} on ${dataset}` }),
          });
        }
      }
      const mixed = dm.filter((r) => r.scenario === 'mixed');
      if (retrievers.length > 1 && distinct(mixed, 'retriever').length > 1) {
        figs.push({
          name: figureName(dataset, 'mixed', metric),
          spec: metricBars(mixed, metric, { retrievers, yRange, title: `${metric} by language in the mixed pool (${dataset})` }),
        });
      }
    }
  }
  const baFile = join(fromDir, 'before-after.json');
  if (existsSync(baFile)) {
    const ba = readBeforeAfter(baFile);
    const scenarios = [...new Set(ba.map((r) => r.scenario ?? ''))].sort((a, b) => orderOf(a) - orderOf(b) || a.localeCompare(b));
    // one figure per scenario, metric and query language (pivot-language queries: `-<lang>-queries`)
    const queryLangs = [...new Set(ba.map((r) => r.queryLang ?? ''))].sort();
    for (const scenario of scenarios) {
      for (const metric of BEFORE_AFTER_METRICS) {
        for (const q of queryLangs) {
          const sel = ba.filter((r) => (r.scenario ?? '') === scenario && r.metric === metric && (r.queryLang ?? '') === q);
          if (sel.length === 0) continue;
          figs.push({
            name: figureName('before-after', ...(scenario ? [scenario] : []), metric, ...(q ? [`${q}-queries`] : [])),
            spec: beforeAfterBars(sel, metric, { yRange: metricRange(metric), ...(q ? { title: `${metric} before and after (${scenario}, ${q} queries)` } : {}) }),
          });
        }
      }
    }
  }
  for (const f of readdirSync(fromDir).filter((f) => /^loss(-[A-Za-z0-9._-]+)?\.csv$/.test(f)).sort()) {
    const stem = f.slice(0, -4);
    figs.push({ name: stem, spec: lossCurve(readLossCsv(join(fromDir, f)), { title: `Training loss (${f})`, smooth: 10 }) });
  }
  return figs;
}

/**
 * Render the standard figures of a results folder (see {@link standardFigureSpecs}) into
 * `outDir` as PNG and SVG (and HTML on request), with one headless Chromium for all, and
 * write `<outDir>/index.json`: the figures, their files, and the sha256 of each input file.
 * `xlalign figures --from DIR` calls this.
 *
 * @param fromDir - a results folder written by `xlalign eval` (and `xlalign train`).
 * @param outDir - output folder. Default `'figures'`.
 * @param options - see {@link StandardFiguresOptions}.
 * @returns the figures written.
 * @throws XlalignError when `metrics.json` is missing or malformed, or Chromium is missing.
 * @example
 * await renderStandardFigures('results', 'figures');
 */
export async function renderStandardFigures(fromDir: string, outDir = 'figures', options: StandardFiguresOptions = {}): Promise<StandardFigure[]> {
  const figs = standardFigureSpecs(fromDir, options);
  const formats = options.formats ?? ['png', 'svg'];
  const ex = await createFigureExporter(options);
  const written: StandardFigure[] = [];
  try {
    for (const { name, spec } of figs) {
      const files = await ex.export(spec, { dir: outDir, name, formats, scale: options.scale ?? 2 });
      const title = (spec.layout.title as { text?: string } | undefined)?.text ?? name;
      written.push({ name, title, files });
    }
  } finally {
    await ex.close();
  }
  const inputs = ['metrics.json', 'before-after.json', ...readdirSync(fromDir).filter((f) => /^loss(-[A-Za-z0-9._-]+)?\.csv$/.test(f))]
    .filter((f) => existsSync(join(fromDir, f)))
    .map((f) => ({ file: join(fromDir, f), sha256: sha256File(join(fromDir, f)) }));
  writeFileAtomic(join(outDir, 'index.json'), JSON.stringify({ from: fromDir, inputs, figures: written }, null, 2) + '\n');
  return written;
}

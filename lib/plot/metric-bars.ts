import * as aq from 'arquero';
import { xlError } from '../util/errors.js';
import { distinct, seriesRows } from './metric-rows.js';
import { baseLayout, type FigureOptions, type FigureSpec, type MetricRow, type Trace } from './types.js';

/** Options of {@link metricBars}. */
export interface MetricBarsOptions extends FigureOptions {
  /** Keep only this dataset. Default: all rows must share one dataset, else an error. */
  dataset?: string;
  /** Retrievers to show, in this order. Default: all, sorted. */
  retrievers?: readonly string[];
  /** Scenarios to show, in this order. Default: all, sorted. */
  scenarios?: readonly string[];
  /** Languages on the x axis, in this order. Default: all, sorted. */
  langs?: readonly string[];
  /** Y axis range, e.g. `[0, 1]` for rates. Default: plotly's autorange. */
  yRange?: [number, number];
}

/**
 * Per-language grouped bars of one metric: x = query language, one bar series per
 * (retriever, scenario) pair, y = the metric's value. Pivot-language queries and rows of
 * another settings record are series of their own (`seriesRows`); duplicate rows of one
 * series, scenario and language are averaged (arquero groupby + rollup).
 *
 * @param rows - metric rows (see {@link MetricRow}), e.g. from `metrics.json`.
 * @param metric - the metric to plot, e.g. `'pivot_inclination'`, `'maxr'`, `'complete@10'`.
 * @param options - see {@link MetricBarsOptions}.
 * @returns a plotly spec; series are named `retriever / scenario` (just one of them when the
 *   other has a single value).
 * @throws XlalignError when no row matches, listing the metrics and datasets that exist, or
 *   when rows span several datasets and `options.dataset` is not set.
 *
 * @example
 * const fig = metricBars(rows, 'pivot_inclination', { scenarios: ['mixed'], yRange: [0, 1] });
 */
export function metricBars(rows: readonly MetricRow[], metric: string, options: MetricBarsOptions = {}): FigureSpec {
  const where = 'metricBars';
  let sel = rows.filter((r) => r.metric === metric);
  if (sel.length === 0) {
    throw xlError(where, `no rows for metric '${metric}'; the rows have ${distinct(rows, 'metric').map((m) => `'${m}'`).join(', ') || 'no metrics'}`);
  }
  const datasets = distinct(sel, 'dataset');
  if (options.dataset !== undefined) {
    sel = sel.filter((r) => r.dataset === options.dataset);
    if (sel.length === 0) throw xlError(where, `no rows for dataset '${options.dataset}' and metric '${metric}'; datasets: ${datasets.join(', ')}`);
  } else if (datasets.length > 1) {
    throw xlError(where, `rows span datasets ${datasets.join(', ')}; pick one with options.dataset`);
  }
  if (options.retrievers) sel = sel.filter((r) => options.retrievers!.includes(r.retriever));
  if (options.scenarios) sel = sel.filter((r) => options.scenarios!.includes(r.scenario));
  if (sel.length === 0) throw xlError(where, `no rows left for metric '${metric}' after filtering by retrievers/scenarios`);
  // pivot-language queries and other settings are series of their own, never averaged in
  const order = options.retrievers;
  sel = seriesRows(sel);

  const means = aq
    .from(sel.map((r) => ({ retriever: r.retriever, scenario: r.scenario, lang: r.lang, value: r.value })))
    .groupby('retriever', 'scenario', 'lang')
    .rollup({ value: aq.op.mean('value') })
    .objects() as { retriever: string; scenario: string; lang: string; value: number }[];

  const baseOf = (label: string) => order!.findIndex((r) => label === r || label.startsWith(`${r} (`) || label.startsWith(`${r} [`));
  const retrievers = order ? distinct(sel, 'retriever').sort((a, b) => baseOf(a) - baseOf(b)) : distinct(sel, 'retriever');
  const scenarios = options.scenarios?.filter((s) => sel.some((r) => r.scenario === s)) ?? distinct(sel, 'scenario');
  const langs = options.langs ?? distinct(sel, 'lang');
  const data: Trace[] = [];
  for (const retriever of retrievers) {
    for (const scenario of scenarios) {
      const cell = new Map(means.filter((m) => m.retriever === retriever && m.scenario === scenario).map((m) => [m.lang, m.value]));
      if (cell.size === 0) continue;
      const name = retrievers.length > 1 && scenarios.length > 1 ? `${retriever} / ${scenario}` : retrievers.length > 1 ? retriever : scenario;
      data.push({
        type: 'bar',
        name,
        x: [...langs],
        y: langs.map((l) => cell.get(l) ?? null),
        hovertemplate: `${retriever} / ${scenario}<br>%{x}: %{y:.3f}<extra></extra>`,
      });
    }
  }
  const dataset = distinct(sel, 'dataset').join(', ');
  const layout = baseLayout(`${metric} by language (${dataset})`, options);
  layout.barmode = 'group';
  layout.xaxis = { title: { text: 'query language' }, type: 'category' };
  layout.yaxis = { title: { text: metric }, ...(options.yRange ? { range: options.yRange } : {}) };
  return { data, layout };
}

/** Options of {@link metricTable}. */
export interface MetricTableOptions {
  /** Keep only this dataset. Default: all. */
  dataset?: string;
  /** Keep only this retriever. Default: all (then the rows are `retriever, lang`). */
  retriever?: string;
  /** Field whose values become the columns. Default `'scenario'`. */
  columns?: 'scenario' | 'retriever' | 'lang' | 'dataset';
  /** Decimal places to round to. Default 3. */
  digits?: number;
}

/**
 * A wide arquero table of one metric for notebooks: one row per (retriever, lang) (or per
 * lang when `retriever` is set), one column per value of `options.columns`, cells = the mean
 * value rounded to `digits`. Display it with `tslab.display.html(table.toHTML())`.
 *
 * @throws XlalignError when no row matches.
 * @example
 * tslab.display.html(metricTable(rows, 'pivot_inclination', { retriever: 'bm25' }).toHTML());
 */
export function metricTable(rows: readonly MetricRow[], metric: string, options: MetricTableOptions = {}): aq.ColumnTable {
  const columns = options.columns ?? 'scenario';
  const digits = options.digits ?? 3;
  const sel = seriesRows(rows.filter(
    (r) => r.metric === metric && (options.dataset === undefined || r.dataset === options.dataset) && (options.retriever === undefined || r.retriever === options.retriever),
  ));
  if (sel.length === 0) throw xlError('metricTable', `no rows for metric '${metric}'${options.dataset ? ` in dataset '${options.dataset}'` : ''}${options.retriever ? ` for retriever '${options.retriever}'` : ''}`);
  const keys = (['dataset', 'retriever', 'scenario', 'lang'] as const).filter((k) => k !== columns && (k !== 'dataset' || options.dataset === undefined) && (k !== 'retriever' || options.retriever === undefined));
  const f = 10 ** digits;
  return aq
    .from(sel.map((r) => ({ dataset: r.dataset, retriever: r.retriever, scenario: r.scenario, lang: r.lang, value: r.value })))
    .groupby(...keys, columns)
    .rollup({ value: aq.op.mean('value') })
    .derive({ value: aq.escape((d: { value: number }) => Math.round(d.value * f) / f) })
    .groupby(...keys)
    .pivot(columns, 'value')
    .orderby(...keys);
}

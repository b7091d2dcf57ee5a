import { xlError } from '../util/errors.js';
import type { BeforeAfterRow } from '../results/before-after.js';
import { baseLayout, type FigureOptions, type FigureSpec } from './types.js';

/**
 * One language's metric before and after fine-tuning, with an optional paired-bootstrap 95%
 * interval for the delta `after - before`: a row of `before-after.json`, whose one owner is
 * `lib/results/before-after.ts`.
 */
export type { BeforeAfterRow } from '../results/before-after.js';

/** Options of {@link beforeAfterBars}. */
export interface BeforeAfterOptions extends FigureOptions {
  /** Keep only rows of this scenario. Required when the rows of `metric` span several scenarios. */
  scenario?: string;
  /** Languages on the x axis, in this order. Default: all, sorted. */
  langs?: readonly string[];
  /** Names of the two series. Default `['before', 'after']`. */
  labels?: [string, string];
  /** Y axis range. Default: plotly's autorange. */
  yRange?: [number, number];
}

/**
 * Before/after grouped bars of one metric per language. When a row has a bootstrap interval
 * for the delta, the "after" bar carries an asymmetric error bar spanning
 * `[before + deltaLow, before + deltaHigh]`, i.e. where the after value would lie under the
 * interval of the paired difference (the interval is for the delta, not for `after` alone).
 *
 * @param rows - one row per (lang, metric); rows of other metrics are ignored.
 * @param metric - the metric to plot, e.g. `'maxr'`.
 * @throws XlalignError when no row has `metric` (listing those present), when the rows span
 *   several scenarios and `options.scenario` is not set, or when a language appears twice.
 * @example
 * const fig = beforeAfterBars([{ lang: 'de', metric: 'maxr', before: 3.1, after: 1.8, deltaLow: -1.6, deltaHigh: -0.9 }], 'maxr');
 */
export function beforeAfterBars(rows: readonly BeforeAfterRow[], metric: string, options: BeforeAfterOptions = {}): FigureSpec {
  let sel = rows.filter((r) => r.metric === metric);
  if (sel.length === 0) {
    throw xlError('beforeAfterBars', `no rows for metric '${metric}'; the rows have ${[...new Set(rows.map((r) => `'${r.metric}'`))].join(', ') || 'no metrics'}`);
  }
  const scenarios = [...new Set(sel.map((r) => r.scenario ?? ''))];
  if (options.scenario !== undefined) {
    sel = sel.filter((r) => r.scenario === options.scenario);
    if (sel.length === 0) throw xlError('beforeAfterBars', `no rows for metric '${metric}' in scenario '${options.scenario}'; scenarios: ${scenarios.join(', ')}`);
  } else if (scenarios.length > 1) {
    throw xlError('beforeAfterBars', `rows of metric '${metric}' span scenarios ${scenarios.join(', ')}; pick one with options.scenario`);
  }
  const byLang = new Map<string, BeforeAfterRow>();
  for (const r of sel) {
    if (byLang.has(r.lang)) throw xlError('beforeAfterBars', `language '${r.lang}' appears twice for metric '${metric}'`);
    byLang.set(r.lang, r);
  }
  const langs = options.langs ?? [...byLang.keys()].sort();
  const [lb, la] = options.labels ?? ['before', 'after'];
  const get = (l: string) => byLang.get(l);
  const hasCi = sel.some((r) => r.deltaLow !== undefined && r.deltaHigh !== undefined);
  const after: Record<string, unknown> = {
    type: 'bar',
    name: la,
    x: [...langs],
    y: langs.map((l) => get(l)?.after ?? null),
  };
  if (hasCi) {
    // plotly's asymmetric error bars are distances from the bar top: array = up, arrayminus = down.
    after.error_y = {
      type: 'data',
      symmetric: false,
      array: langs.map((l) => {
        const r = get(l);
        return r?.deltaHigh === undefined ? null : Math.max(0, r.before + r.deltaHigh - r.after);
      }),
      arrayminus: langs.map((l) => {
        const r = get(l);
        return r?.deltaLow === undefined ? null : Math.max(0, r.after - (r.before + r.deltaLow));
      }),
      thickness: 1.5,
      width: 4,
    };
  }
  const scenario = sel[0]!.scenario;
  const layout = baseLayout(`${metric} before and after fine-tuning${scenario ? ` (${scenario})` : ''}`, options);
  layout.barmode = 'group';
  layout.xaxis = { title: { text: 'query language' }, type: 'category' };
  layout.yaxis = { title: { text: metric }, ...(options.yRange ? { range: options.yRange } : {}) };
  if (hasCi) {
    layout.annotations = [
      { text: 'error bars: 95% paired-bootstrap interval of the delta', xref: 'paper', yref: 'paper', x: 1, y: -0.16, xanchor: 'right', showarrow: false, font: { size: 10 } },
    ];
  }
  return {
    data: [{ type: 'bar', name: lb, x: [...langs], y: langs.map((l) => get(l)?.before ?? null) }, after],
    layout,
  };
}

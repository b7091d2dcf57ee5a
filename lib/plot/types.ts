/**
 * Types shared by the figure builders of `lib/plot/`.
 *
 * A figure is a plain plotly spec `{ data, layout }` (JSON-serialisable, no functions), so it
 * can be written to disk, rendered by {@link ../plot/export.ts} in Chromium, or displayed in a
 * notebook. Traces and layouts are typed loosely on purpose: plotly's own type package is not a
 * dependency, and the builders only use long-stable attributes (bar, box, histogram, scatter,
 * error_y, grid, annotations).
 */

/** One plotly trace (e.g. `{ type: 'bar', x: [...], y: [...], name: 'bm25' }`). */
export type Trace = Record<string, unknown> & { type?: string; name?: string };

/** A plotly layout object. */
export type Layout = Record<string, unknown>;

/** A plotly figure spec: what `Plotly.newPlot(div, spec.data, spec.layout)` takes. */
export interface FigureSpec {
  data: Trace[];
  layout: Layout;
}

/**
 * One metric value, as `xlalign eval` writes them to `metrics.json` (the type is
 * `lib/results/metric-rows.ts`'s): the mean of `metric` over the queries of one pool
 * (`dataset`, `scenario`, query language `lang`), ranked by `retriever`. Extra fields in the
 * JSON are allowed and ignored.
 */
export type { MetricRow } from '../results/metric-rows.js';

/** Common options of every figure builder. */
export interface FigureOptions {
  /** Figure title. Default: built from the inputs (e.g. `pivot_inclination by language`). */
  title?: string;
  /** Width in CSS pixels stored in the layout (export may override). Default 900. */
  width?: number;
  /** Height in CSS pixels stored in the layout (export may override). Default 450. */
  height?: number;
}

/** Defaults shared by the builders. */
export const FIGURE_DEFAULTS = { width: 900, height: 450 } as const;

/** The base layout every builder starts from: white background, legend on top, margins. */
export function baseLayout(title: string, options: FigureOptions = {}): Layout {
  return {
    title: { text: options.title ?? title, y: 0.98, yanchor: 'top' },
    width: options.width ?? FIGURE_DEFAULTS.width,
    height: options.height ?? FIGURE_DEFAULTS.height,
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    font: { family: 'Liberation Sans, Arial, sans-serif', size: 13 },
    margin: { l: 60, r: 20, t: 80, b: 50 },
    legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
  };
}

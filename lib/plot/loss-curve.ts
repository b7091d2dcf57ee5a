import { xlError } from '../util/errors.js';
import type { LossTable } from '../results/loss-curve.js';
import { baseLayout, type FigureOptions, type FigureSpec, type Trace } from './types.js';

// loss.csv has one owner, lib/results/loss-curve.ts; re-exported here for the figure API.
export { parseLossCsv, readLossCsv, type LossTable } from '../results/loss-curve.js';

/** Options of {@link lossCurve}. */
export interface LossCurveOptions extends FigureOptions {
  /** Columns to plot against `step`. Default: every column except `step`, `epoch`, `lr` and `time*`. */
  series?: readonly string[];
  /** Log-scale y axis. Default false. */
  logY?: boolean;
  /** Moving-average window (steps) drawn over the raw curve; 1 = none. Default 1. */
  smooth?: number;
}

/**
 * Loss curves: one line per loss column against `step` (e.g. `loss`, `infonce`, `jsd`).
 * With `smooth > 1`, the raw curve is drawn faint and a trailing moving average on top.
 * Several logs (e.g. default model and adapter) can be passed as `{ name: table }`; series
 * are then named `name: column`.
 *
 * @throws XlalignError when a requested series is not a column (listing the columns).
 * @example
 * const fig = lossCurve(readLossCsv('runs/adapter/loss.csv'), { smooth: 20 });
 */
export function lossCurve(tables: LossTable | Readonly<Record<string, LossTable>>, options: LossCurveOptions = {}): FigureSpec {
  const named: [string, LossTable][] = 'columns' in tables && 'file' in tables ? [['', tables as LossTable]] : Object.entries(tables as Record<string, LossTable>);
  const smooth = Math.max(1, Math.floor(options.smooth ?? 1));
  const data: Trace[] = [];
  let k = 0;
  for (const [prefix, t] of named) {
    const cols = Object.keys(t.columns);
    const series = options.series ?? cols.filter((c) => !/^(step|epoch|lr|time.*)$/.test(c));
    for (const s of series) {
      if (!t.columns[s]) throw xlError('lossCurve', `${t.file}: no column '${s}'; columns: ${cols.join(', ')}`);
      const name = prefix ? `${prefix}: ${s}` : s;
      const x = t.columns.step!;
      const y = t.columns[s]!;
      // The raw and the smoothed curve of one series share its colour.
      const line = { color: PALETTE[k++ % PALETTE.length] };
      if (smooth === 1) {
        data.push({ type: 'scatter', mode: 'lines', name, x: [...x], y: y.map(nullIfNaN), line });
      } else {
        data.push({ type: 'scatter', mode: 'lines', name: `${name} (raw)`, x: [...x], y: y.map(nullIfNaN), line, opacity: 0.25, showlegend: false, legendgroup: name });
        data.push({ type: 'scatter', mode: 'lines', name, x: [...x], y: movingAverage(y, smooth).map(nullIfNaN), line, legendgroup: name });
      }
    }
  }
  const layout = baseLayout('Training loss', options);
  layout.xaxis = { title: { text: 'step' } };
  layout.yaxis = { title: { text: 'loss' }, ...(options.logY ? { type: 'log' } : {}) };
  return { data, layout };
}

/** plotly's default colour cycle. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function nullIfNaN(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Trailing moving average over the finite values of the last `w` points. */
export function movingAverage(y: readonly number[], w: number): number[] {
  const out = new Array<number>(y.length);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isFinite(y[i]!)) [sum, n] = [sum + y[i]!, n + 1];
    const j = i - w;
    if (j >= 0 && Number.isFinite(y[j]!)) [sum, n] = [sum - y[j]!, n - 1];
    out[i] = n > 0 ? sum / n : NaN;
  }
  return out;
}

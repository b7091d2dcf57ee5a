import { xlError } from '../util/errors.js';
import { baseLayout, type FigureOptions, type FigureSpec, type Trace } from './types.js';

/** Cosine similarities of one language's parallel and non-parallel pairs (to the pivot). */
export interface SimilaritySample {
  lang: string;
  /** sim(x_L, x_P) of translations of each other. */
  parallel: readonly number[];
  /** sim(x_L, y_P) of unrelated pairs (e.g. seeded random pairings). */
  nonParallel: readonly number[];
}

/** Options of {@link similarityHistograms}. */
export interface SimilarityHistogramsOptions extends FigureOptions {
  /** Panels per row. Default 4. */
  columns?: number;
  /** Histogram bin width. Default 0.05. */
  binSize?: number;
}

/**
 * A grid of per-language histograms (one panel per language) of cosine similarities of
 * parallel pairs vs non-parallel pairs, normalised to probability density so both classes are
 * comparable whatever their counts. Well-aligned languages show two separated modes.
 *
 * Height defaults to 220 px per row of panels.
 *
 * @throws XlalignError when `samples` is empty or a language has an empty class.
 * @example
 * const fig = similarityHistograms([{ lang: 'de', parallel: [0.8, 0.7], nonParallel: [0.1, 0.2] }]);
 */
export function similarityHistograms(samples: readonly SimilaritySample[], options: SimilarityHistogramsOptions = {}): FigureSpec {
  if (samples.length === 0) throw xlError('similarityHistograms', 'no samples; pass [{ lang, parallel, nonParallel }, ...]');
  for (const s of samples) {
    if (s.parallel.length === 0 || s.nonParallel.length === 0) {
      throw xlError('similarityHistograms', `language '${s.lang}' has ${s.parallel.length} parallel and ${s.nonParallel.length} non-parallel similarities; both must be non-empty`);
    }
  }
  const columns = Math.min(options.columns ?? 4, samples.length);
  const rows = Math.ceil(samples.length / columns);
  const binSize = options.binSize ?? 0.05;
  const data: Trace[] = [];
  const layout = baseLayout('Similarity of parallel vs non-parallel pairs', { height: 120 + 220 * rows, ...options });
  layout.grid = { rows, columns, pattern: 'independent' };
  layout.barmode = 'overlay';
  const annotations: Record<string, unknown>[] = [];
  samples.forEach((s, i) => {
    const ax = i === 0 ? '' : String(i + 1);
    const common = { type: 'histogram', histnorm: 'probability density', xbins: { size: binSize }, opacity: 0.55, xaxis: `x${ax}`, yaxis: `y${ax}`, showlegend: i === 0 };
    data.push({ ...common, name: 'parallel', x: [...s.parallel], marker: { color: '#1f77b4' }, legendgroup: 'parallel' });
    data.push({ ...common, name: 'non-parallel', x: [...s.nonParallel], marker: { color: '#ff7f0e' }, legendgroup: 'non-parallel' });
    layout[`xaxis${ax}`] = { range: [-0.2, 1], title: i >= samples.length - columns ? { text: 'cosine' } : undefined };
    layout[`yaxis${ax}`] = { showticklabels: false };
    annotations.push({ text: s.lang, xref: `x${ax} domain`, yref: `y${ax} domain`, x: 0.02, y: 0.98, xanchor: 'left', yanchor: 'top', showarrow: false, font: { size: 12 } });
  });
  layout.annotations = annotations;
  return { data, layout };
}

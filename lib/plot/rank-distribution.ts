import { xlError } from '../util/errors.js';
import { baseLayout, type FigureOptions, type FigureSpec, type Trace } from './types.js';

/** Options of {@link rankDistribution}. */
export interface RankDistributionOptions extends FigureOptions {
  /** `'box'` (one box per language, default) or `'histogram'` (overlaid histograms). */
  kind?: 'box' | 'histogram';
  /** Languages, in this order. Default: the keys of `ranks`, sorted. */
  langs?: readonly string[];
  /** Log-scale rank axis (ranks are heavy-tailed). Default true. */
  logAxis?: boolean;
  /** Name of the rank in titles, e.g. `'rank of the parallel document'`. Default that. */
  label?: string;
}

/**
 * The distribution of the rank of the parallel (same-language relevant) document per query
 * language: `ranks[lang]` holds one 1-based rank per query (e.g. the MaxR per query, or the
 * rank of the target-language paragraph in the mixed pool). Box plots show median and
 * quartiles; histograms are overlaid with 50% opacity.
 *
 * @throws XlalignError when `ranks` is empty, or a rank is not a finite number >= 1 (naming
 *   the language and index).
 * @example
 * const fig = rankDistribution({ de: [1, 1, 4, 12], ar: [2, 7, 30] });
 */
export function rankDistribution(ranks: Readonly<Record<string, readonly number[]>>, options: RankDistributionOptions = {}): FigureSpec {
  const langs = options.langs ?? Object.keys(ranks).sort();
  if (langs.length === 0) throw xlError('rankDistribution', 'no languages in ranks; pass { <lang>: [rank, ...] }');
  for (const l of langs) {
    const r = ranks[l];
    if (!r) throw xlError('rankDistribution', `no ranks for language '${l}'; have ${Object.keys(ranks).join(', ')}`);
    const bad = r.findIndex((v) => !Number.isFinite(v) || v < 1);
    if (bad >= 0) throw xlError('rankDistribution', `ranks['${l}'][${bad}] = ${r[bad]}; ranks are 1-based finite numbers`);
  }
  const kind = options.kind ?? 'box';
  const label = options.label ?? 'rank of the parallel document';
  const logAxis = options.logAxis ?? true;
  const data: Trace[] =
    kind === 'box'
      ? langs.map((l) => ({ type: 'box', name: l, y: [...ranks[l]!], boxpoints: false }))
      : langs.map((l) => ({ type: 'histogram', name: l, x: [...ranks[l]!], opacity: 0.5 }));
  const layout = baseLayout(`Distribution of the ${label}`, options);
  const rankAxis = { title: { text: label }, ...(logAxis ? { type: 'log' } : {}) };
  if (kind === 'box') {
    layout.xaxis = { title: { text: 'query language' }, type: 'category' };
    layout.yaxis = rankAxis;
    layout.showlegend = false;
  } else {
    layout.barmode = 'overlay';
    layout.xaxis = rankAxis;
    layout.yaxis = { title: { text: 'queries' } };
  }
  return { data, layout };
}

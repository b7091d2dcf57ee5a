import { xlError } from '../util/errors.js';
import { baseLayout, type FigureOptions, type FigureSpec, type Trace } from './types.js';

/** Bitext retrieval accuracy of one model in one language (e.g. Tatoeba, top-1). */
export interface BitextAccuracyRow {
  /** Language code (Tatoeba's 3-letter or ISO 639-1). */
  lang: string;
  /** Model / condition name, e.g. `'default'`, `'random'`, `'after'`. */
  model: string;
  /** Accuracy in [0, 1]. */
  accuracy: number;
}

/** Options of {@link bitextAccuracyBars}. */
export interface BitextAccuracyOptions extends FigureOptions {
  /** Models in legend order. Default: order of first appearance. */
  models?: readonly string[];
  /** Sort languages by the accuracy of this model, descending. Default: the first model. */
  sortBy?: string;
}

/**
 * Bitext accuracy across languages: one bar series per model, languages sorted by the
 * accuracy of `sortBy` (descending), so 100+ Tatoeba languages read as a profile. The width
 * grows with the number of languages (14 px per language and series, at least 900).
 *
 * @throws XlalignError when `rows` is empty or an accuracy is outside [0, 1] (naming the row).
 * @example
 * const fig = bitextAccuracyBars([{ lang: 'deu', model: 'default', accuracy: 0.91 }, { lang: 'deu', model: 'random', accuracy: 0.01 }]);
 */
export function bitextAccuracyBars(rows: readonly BitextAccuracyRow[], options: BitextAccuracyOptions = {}): FigureSpec {
  if (rows.length === 0) throw xlError('bitextAccuracyBars', 'no rows; pass [{ lang, model, accuracy }, ...]');
  rows.forEach((r, i) => {
    if (!(r.accuracy >= 0 && r.accuracy <= 1)) throw xlError('bitextAccuracyBars', `rows[${i}] (${r.lang}, ${r.model}): accuracy ${r.accuracy} is not in [0, 1]`);
  });
  const models = options.models ?? [...new Set(rows.map((r) => r.model))];
  const sortBy = options.sortBy ?? models[0]!;
  const acc = new Map(rows.map((r) => [`${r.model}\u0000${r.lang}`, r.accuracy]));
  const langs = [...new Set(rows.map((r) => r.lang))].sort(
    (a, b) => (acc.get(`${sortBy}\u0000${b}`) ?? -1) - (acc.get(`${sortBy}\u0000${a}`) ?? -1) || a.localeCompare(b),
  );
  const data: Trace[] = models.map((m) => ({ type: 'bar', name: m, x: [...langs], y: langs.map((l) => acc.get(`${m}\u0000${l}`) ?? null) }));
  const layout = baseLayout(`Bitext retrieval accuracy across ${langs.length} languages`, {
    width: Math.max(900, 14 * langs.length * models.length),
    ...options,
  });
  layout.barmode = 'group';
  layout.xaxis = { title: { text: 'language' }, type: 'category', tickangle: -60 };
  layout.yaxis = { title: { text: 'accuracy (top-1)' }, range: [0, 1] };
  return { data, layout };
}

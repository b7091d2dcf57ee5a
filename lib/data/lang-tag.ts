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

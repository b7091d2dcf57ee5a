/**
 * A researcher's own parallel dataset: a folder holding
 *
 * - `docs.jsonl`: `{"id", "lang", "text", "group"?}` a line; parallel versions of one
 *   document share `id` across languages;
 * - `queries.jsonl`: `{"id", "lang", "text", "relevant": [document ids]}` a line; parallel
 *   versions of one query share `id`;
 * - `meta.json` (optional): `{"name", "languages", "pivot", "license", "description"}`.
 *
 * `group` (optional, on documents) is kept together by a train/eval split (XQuAD: the
 * article). Languages are plain BCP-47 tags (`en`, `en-US`, `zh-Hant`).
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { readTextFile } from '../util/text-file.js';
import { assembleCorpus, type DocRow, type QueryRow } from './corpus-rows.js';
import { readJsonlRows, zodIssueMessage } from './jsonl.js';
import { LangTagSchema } from './lang-tag.js';
import type { ParallelCorpus } from './parallel.js';

const text = z.string();
/** A `docs.jsonl` row. */
export const DocRowSchema = z.object({ id: z.string(), lang: z.string(), text, group: z.string().min(1).optional() });
/** A `queries.jsonl` row. */
export const QueryRowSchema = z.object({ id: z.string(), lang: z.string(), text, relevant: z.array(z.string()) });
/** `meta.json`. */
export const DatasetMetaSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, . _ -').optional(),
  languages: z.array(LangTagSchema).min(1).optional(),
  pivot: LangTagSchema.optional(),
  license: z.string().optional(),
  description: z.string().optional(),
  /** BEIR folders only: language of the queries (default: the one language, else `en`). */
  queryLanguage: LangTagSchema.optional(),
  /** BEIR folders only: language of the documents (default: the one language, else `en`). */
  documentLanguage: LangTagSchema.optional(),
});
export type DatasetMeta = z.infer<typeof DatasetMetaSchema>;

/**
 * Read `<dir>/meta.json` when present.
 * @throws XlalignError naming the file and field of a bad value.
 */
export function readDatasetMeta(dir: string): DatasetMeta {
  const file = resolve(dir, 'meta.json');
  if (!existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readTextFile(file, 'loadDataset'));
  } catch (e) {
    throw xlError('loadDataset', `${file}: not valid JSON (${(e as Error).message})`);
  }
  const r = DatasetMetaSchema.safeParse(json);
  if (!r.success) throw xlError('loadDataset', zodIssueMessage(file, 1, r.error).replace(/:1: /, ': '));
  return r.data;
}

/** Options of {@link loadJsonlDataset}. */
export interface JsonlDatasetOptions {
  /** Keep only these languages (every row is validated anyway). Default: all. */
  langs?: readonly string[];
}

/**
 * Load and validate an own dataset folder (see the module comment) into a
 * {@link ParallelCorpus}; `corpus.pivot` is meta.json's pivot (default `en` when present,
 * else the first language) and `corpus.groups` holds the document groups.
 *
 * @throws XlalignError naming file:line:field for a malformed row, an empty text, a bad
 *   language tag, a duplicate (id, lang), or an unknown relevant id.
 * @example
 * const c = loadJsonlDataset('my-data'); c.langs // ['de', 'en']
 */
export function loadJsonlDataset(dir: string, options: JsonlDatasetOptions = {}): ParallelCorpus {
  const meta = readDatasetMeta(dir);
  const docs: DocRow[] = readJsonlRows(resolve(dir, 'docs.jsonl'), DocRowSchema, 'loadDataset').map(({ value, file, line }) => ({ ...value, file, line }));
  const queries: QueryRow[] = readJsonlRows(resolve(dir, 'queries.jsonl'), QueryRowSchema, 'loadDataset').map(({ value, file, line }) => ({ ...value, file, line }));
  return assembleCorpus(docs, queries, {
    name: meta.name ?? basename(resolve(dir)),
    languages: meta.languages,
    languagesFrom: resolve(dir, 'meta.json'),
    pivot: meta.pivot,
    keep: options.langs,
  });
}

/**
 * BEIR folders (Thakur et al., 2021, "BEIR: A Heterogeneous Benchmark for Zero-shot
 * Evaluation of Information Retrieval Models", NeurIPS Datasets and Benchmarks):
 * `corpus.jsonl` (`{"_id", "title"?, "text"}`), `queries.jsonl` (`{"_id", "text"}`) and
 * `qrels/<split>.tsv` (`query-id  corpus-id  score`, a header line, score > 0 relevant).
 *
 * Languages, for one-language and cross-language use:
 * - one BEIR folder: queries and documents in meta.json's `languages[0]` (default `en`), or
 *   `queryLanguage` / `documentLanguage` when they differ (cross-language, e.g. German
 *   queries over an English corpus: scenario `cross` with `--langs de --pivot en`);
 * - a folder of BEIR folders named by language (`en/`, `de/`, ...) sharing ids: a parallel
 *   corpus, every scenario.
 * Only queries with a judgment in the qrels are kept (BEIR's convention); a document's text
 * is `title + ' ' + text` when it has a title.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { readTextFile } from '../util/text-file.js';
import { assembleCorpus, type DocRow, type QueryRow } from './corpus-rows.js';
import { readJsonlRows } from './jsonl.js';
import { readDatasetMeta } from './jsonl-dataset.js';
import { isPlainLangTag } from './lang-tag.js';
import type { ParallelCorpus } from './parallel.js';

const id = z.union([z.string(), z.number().transform(String)]);
const CorpusRowSchema = z.object({ _id: id, title: z.string().optional().nullable(), text: z.string() });
const QueryRowSchema = z.object({ _id: id, text: z.string() });

/** True when `dir` is one BEIR folder (has `corpus.jsonl`). */
export function isBeirFolder(dir: string): boolean {
  return existsSync(resolve(dir, 'corpus.jsonl'));
}

/** The language subfolders of a parallel BEIR folder (`<dir>/<lang>/corpus.jsonl`), sorted. */
export function beirLanguageFolders(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((d) => isPlainLangTag(d) && isBeirFolder(resolve(dir, d)))
    .sort();
}

/** Read `qrels/<split>.tsv`: relevant corpus ids per query id, checked against the known ids. */
function readBeirQrels(file: string, queryIds: Set<string>, docIds: Set<string>): Map<string, string[]> {
  if (!existsSync(file)) throw xlError('loadBeir', `no file ${file}`);
  const out = new Map<string, string[]>();
  readTextFile(file, 'loadBeir')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line) return;
      const cols = line.split('\t');
      if (i === 0 && cols[0] === 'query-id') return;
      const at = `${file}:${i + 1}`;
      if (cols.length !== 3) throw xlError('loadBeir', `${at}: expected 'query-id<TAB>corpus-id<TAB>score', got '${line.slice(0, 80)}'`);
      const [q, d, s] = cols;
      const score = Number(s);
      if (!Number.isFinite(score)) throw xlError('loadBeir', `${at}: score: '${s}' is not a number`);
      if (!queryIds.has(q)) throw xlError('loadBeir', `${at}: query-id: unknown query '${q}' (not in queries.jsonl)`);
      if (!docIds.has(d)) throw xlError('loadBeir', `${at}: corpus-id: unknown document '${d}' (not in corpus.jsonl)`);
      if (score <= 0) return;
      if (!out.has(q)) out.set(q, []);
      if (!out.get(q)!.includes(d)) out.get(q)!.push(d);
    });
  return out;
}

/** Rows of one BEIR folder, queries in `queryLang`, documents in `docLang`. */
function beirRows(dir: string, queryLang: string, docLang: string, split: string): { docs: DocRow[]; queries: QueryRow[] } {
  const docs: DocRow[] = readJsonlRows(resolve(dir, 'corpus.jsonl'), CorpusRowSchema, 'loadBeir').map(({ value, file, line }) => ({
    id: value._id, lang: docLang, text: value.title ? `${value.title} ${value.text}` : value.text, file, line,
  }));
  const qrows = readJsonlRows(resolve(dir, 'queries.jsonl'), QueryRowSchema, 'loadBeir');
  const qrels = readBeirQrels(resolve(dir, 'qrels', `${split}.tsv`), new Set(qrows.map((q) => q.value._id)), new Set(docs.map((d) => d.id)));
  const queries: QueryRow[] = qrows
    .filter((q) => qrels.has(q.value._id))
    .map(({ value, file, line }) => ({ id: value._id, lang: queryLang, text: value.text, relevant: qrels.get(value._id)!, file, line }));
  return { docs, queries };
}

/** Options of {@link loadBeir}. */
export interface BeirOptions {
  /** Which qrels file: `qrels/<split>.tsv`. Default `test`. */
  split?: string;
  /** Keep only these languages. Default: all. */
  langs?: readonly string[];
}

/**
 * Load a BEIR folder, or a folder of BEIR folders named by language, as a
 * {@link ParallelCorpus} (see the module comment for languages).
 *
 * @throws XlalignError naming file:line:field of a bad row, an unknown id in the qrels,
 *   empty text, duplicates.
 * @example const c = loadBeir('scifact'); c.langs // ['en']
 */
export function loadBeir(dir: string, options: BeirOptions = {}): ParallelCorpus {
  const { split = 'test' } = options;
  const meta = readDatasetMeta(dir);
  const name = meta.name ?? basename(resolve(dir));
  if (isBeirFolder(dir)) {
    const one = meta.languages?.[0] ?? 'en';
    const queryLang = meta.queryLanguage ?? one;
    const docLang = meta.documentLanguage ?? one;
    const { docs, queries } = beirRows(dir, queryLang, docLang, split);
    return assembleCorpus(docs, queries, { name, pivot: meta.pivot ?? docLang, keep: options.langs });
  }
  const langs = beirLanguageFolders(dir);
  if (langs.length === 0) throw xlError('loadBeir', `${dir}: neither corpus.jsonl nor language folders (en/corpus.jsonl, ...) found`);
  const docs: DocRow[] = [];
  const queries: QueryRow[] = [];
  for (const l of langs) {
    const r = beirRows(resolve(dir, l), l, l, split);
    docs.push(...r.docs);
    queries.push(...r.queries);
  }
  return assembleCorpus(docs, queries, { name, languages: meta.languages ?? langs, languagesFrom: 'the language folders', pivot: meta.pivot, keep: options.langs });
}

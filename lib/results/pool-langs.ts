/**
 * `qrels/<pool>.langs.tsv`: the language of every query and document id of a pool, one
 * `id<TAB>lang` a line, written by `xlalign eval` beside the pool's qrels so that
 * `xlalign score --pool` can compute pivot metrics on exported files. The one owner of its
 * format (the reader also takes JSONL `{"id", "lang"}` lines).
 */
import { existsSync } from 'node:fs';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { readTextFile } from '../util/text-file.js';

/** The file's text for a pool's queries and documents. */
export function poolLanguageLines(pool: { queries: readonly { id: string; lang: string }[]; docs: readonly { id: string; lang: string }[] }): string {
  return [...pool.queries, ...pool.docs].map((x) => `${x.id}\t${x.lang}\n`).join('');
}

/** Write a pool's `langs.tsv` atomically. */
export function writePoolLanguages(file: string, pool: Parameters<typeof poolLanguageLines>[0]): void {
  writeFileAtomic(file, poolLanguageLines(pool));
}

/**
 * Read a pool-languages file: one `id<TAB>lang` a line, or JSONL `{"id", "lang"}` a line.
 * Query and document ids share one map (pool ids are unique across both).
 *
 * @throws XlalignError naming file:line of a malformed line or an id given two languages.
 */
export function readPoolLanguages(file: string, where = 'xlalign score'): Map<string, string> {
  if (!existsSync(file)) throw xlError(where, `--pool: no file ${file}`);
  const out = new Map<string, string>();
  readTextFile(file, where).split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let id: unknown;
    let lang: unknown;
    if (line.startsWith('{')) {
      try {
        ({ id, lang } = JSON.parse(line));
      } catch (e) {
        throw xlError(where, `${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    } else [id, lang] = line.split('\t');
    if (typeof id !== 'string' || !id) throw xlError(where, `${file}:${i + 1}: id: missing; expected 'id<TAB>lang' or {"id", "lang"}`);
    if (typeof lang !== 'string' || !lang) throw xlError(where, `${file}:${i + 1}: lang: missing; expected 'id<TAB>lang' or {"id", "lang"}`);
    const before = out.get(id);
    if (before !== undefined && before !== lang) throw xlError(where, `${file}:${i + 1}: id '${id}' has language '${lang}' here and '${before}' above`);
    out.set(id, lang);
  });
  return out;
}

/**
 * From rows (documents and queries, each with a language and the file and line it came
 * from) to a validated {@link ParallelCorpus}. Shared by the own-dataset format
 * (`docs.jsonl` + `queries.jsonl`) and BEIR folders; every error names file:line:field.
 */
import { xlError } from '../util/errors.js';
import { canonicalLangTag, englishPivot, isPlainLangTag } from './lang-tag.js';
import { relevantDocIds, type ParallelCorpus } from './parallel.js';

/** Where a row came from. */
export interface RowSource {
  file: string;
  /** 1-based line. */
  line: number;
}

/** A document row: `id` is shared by the parallel versions of one document. */
export interface DocRow extends RowSource {
  id: string;
  lang: string;
  text: string;
  group?: string;
}

/** A query row: `relevant` lists bare document ids (each may exist in several languages). */
export interface QueryRow extends RowSource {
  id: string;
  lang: string;
  text: string;
  relevant: string[];
}

/** Where each document and query of a corpus came from (for error messages). */
interface Sources {
  docs: Map<string, RowSource>;
  queries: Map<string, RowSource>;
}

const SOURCES = new WeakMap<ParallelCorpus, Sources>();
const key = (lang: string, id: string) => `${lang}\u0000${id}`;
const at = (s: RowSource | undefined) => (s ? `${s.file}:${s.line}: ` : '');

/** Options of {@link assembleCorpus}. */
export interface AssembleOptions {
  /** Dataset name (rows in metrics.json carry it). */
  name: string;
  /** Languages in order; every row's language must be one of them. Default: the row languages, sorted. */
  languages?: string[];
  /** Where `languages` came from, for the error message (e.g. `meta.json`). */
  languagesFrom?: string;
  /** Default pivot; must be one of the languages. Default `en` when present, else the first language. */
  pivot?: string;
  /** Keep only these languages in the result (all rows are validated anyway). Default: all. */
  keep?: readonly string[];
}

/**
 * Validate rows and build a corpus. Checks, each error naming file:line:field: a language
 * that is not a plain tag, or not in `languages`; empty or whitespace-only text; an id with
 * whitespace (TREC files split on it); a duplicate (id, lang); a document whose `group`
 * differs between its language versions; a query with no relevant id, a repeated one, or
 * one that names no document of any language.
 *
 * @throws XlalignError as above.
 */
export function assembleCorpus(docRows: DocRow[], queryRows: QueryRow[], options: AssembleOptions): ParallelCorpus {
  const where = 'loadDataset';
  const fail = (s: RowSource, field: string, msg: string): never => {
    throw xlError(where, `${s.file}:${s.line}: ${field}: ${msg}`);
  };
  // language tags are matched case-insensitively and kept in canonical case (`DE` = `de`, `en-us` = `en-US`)
  const listed = options.languages ? new Set(options.languages.map(canonicalLangTag)) : undefined;
  const checkRow = (r: DocRow | QueryRow) => {
    if (!/^\S+$/.test(r.id)) fail(r, 'id', `'${r.id}' must be non-empty without whitespace`);
    if (!isPlainLangTag(r.lang)) fail(r, 'lang', `'${r.lang}' is not a plain language tag; use a BCP-47 tag such as 'en', 'en-US', 'zh-Hant'`);
    r.lang = canonicalLangTag(r.lang);
    if (listed && !listed.has(r.lang)) fail(r, 'lang', `'${r.lang}' is not among the languages of ${options.languagesFrom ?? 'the dataset'} (${[...listed].join(', ')})`);
    if (!r.text.trim()) fail(r, 'text', 'must not be empty or whitespace only');
  };
  const sources: Sources = { docs: new Map(), queries: new Map() };
  const docs: ParallelCorpus['docs'] = {};
  const groups: Record<string, string> = {};
  const groupSource = new Map<string, DocRow>();
  const docIds = new Set<string>();
  for (const r of docRows) {
    checkRow(r);
    const k = key(r.lang, r.id);
    const first = sources.docs.get(k);
    if (first) fail(r, 'id', `duplicate document (id '${r.id}', lang '${r.lang}'); first at ${first.file}:${first.line}`);
    sources.docs.set(k, { file: r.file, line: r.line });
    (docs[r.lang] ??= []).push({ id: r.id, text: r.text });
    docIds.add(r.id);
    if (r.group !== undefined) {
      const g = groupSource.get(r.id);
      if (g && g.group !== r.group) fail(r, 'group', `'${r.group}' differs from '${g.group}' of the '${g.lang}' version at ${g.file}:${g.line}; parallel versions share one group`);
      groupSource.set(r.id, r);
      groups[r.id] = r.group;
    }
  }
  if (groupSource.size > 0) {
    const ungrouped = docRows.find((r) => r.group === undefined);
    if (ungrouped) fail(ungrouped, 'group', 'missing; when some documents have a group, every document needs one');
  }
  const queries: ParallelCorpus['queries'] = {};
  for (const r of queryRows) {
    checkRow(r);
    const k = key(r.lang, r.id);
    const first = sources.queries.get(k);
    if (first) fail(r, 'id', `duplicate query (id '${r.id}', lang '${r.lang}'); first at ${first.file}:${first.line}`);
    sources.queries.set(k, { file: r.file, line: r.line });
    if (r.relevant.length === 0) fail(r, 'relevant', 'must list at least one document id');
    const seen = new Set<string>();
    r.relevant.forEach((d, i) => {
      if (seen.has(d)) fail(r, `relevant[${i}]`, `'${d}' is listed twice`);
      seen.add(d);
      if (!docIds.has(d)) fail(r, `relevant[${i}]`, `unknown document id '${d}' (no document of any language has it)`);
    });
    (queries[r.lang] ??= []).push({ id: r.id, text: r.text, docId: r.relevant[0], ...(r.relevant.length > 1 ? { docIds: [...r.relevant] } : {}) });
  }
  const rowLangs = [...new Set([...Object.keys(docs), ...Object.keys(queries)])].sort();
  const languages = options.languages ? [...listed!] : rowLangs;
  if (languages.length === 0) throw xlError(where, `dataset '${options.name}' has no documents`);
  // the pivot: as named (any case), else the English language (en, en-US, eng_Latn ...), else the first
  const pivot = canonicalLangTag(options.pivot ?? englishPivot(languages) ?? languages[0]);
  if (!languages.includes(pivot)) throw xlError(where, `pivot '${pivot}' is not among the languages (${languages.join(', ')})`);
  const keep = (options.keep ?? languages).map(canonicalLangTag);
  for (const l of keep) {
    if (!languages.includes(l)) throw xlError(where, `language '${l}' is not in dataset '${options.name}'; it has ${languages.join(', ')}`);
  }
  const corpus: ParallelCorpus = {
    name: options.name,
    langs: [...keep],
    docs: Object.fromEntries(keep.map((l) => [l, docs[l] ?? []])),
    queries: Object.fromEntries(keep.map((l) => [l, queries[l] ?? []])),
    pivot,
    ...(groupSource.size > 0 ? { groups } : {}),
  };
  SOURCES.set(corpus, sources);
  return corpus;
}

/** What a planned pool needs of the corpus: queries in `lang`, and each relevant document in every language of `relevantLangs`. */
export interface CorpusNeed {
  lang: string;
  relevantLangs: readonly string[];
  /** Why (for the message), e.g. `scenario 'mixed' with pivot 'en'`. */
  why: string;
}

/**
 * Check, before any work, that a corpus has what the planned pools need: queries in each
 * query language, and every relevant document of those queries in each needed language
 * (e.g. its pivot version in a two-language scenario). Errors name the query's file:line
 * when the corpus came from {@link assembleCorpus}.
 *
 * @throws XlalignError naming the first query whose relevant document lacks a version.
 * @example checkCorpusNeeds(corpus, [{ lang: 'de', relevantLangs: ['de', 'en'], why: "scenario 'mixed'" }]);
 */
export function checkCorpusNeeds(corpus: ParallelCorpus, needs: readonly CorpusNeed[]): void {
  const where = 'checkCorpus';
  const sources = SOURCES.get(corpus);
  const byLang = new Map<string, Set<string>>();
  const idsOf = (l: string) => {
    if (!byLang.has(l)) byLang.set(l, new Set((corpus.docs[l] ?? []).map((d) => d.id)));
    return byLang.get(l)!;
  };
  const checked = new Set<string>();
  for (const need of needs) {
    const k = `${need.lang}\u0000${[...need.relevantLangs].sort().join(',')}`;
    if (checked.has(k)) continue; // the same languages were checked for another scenario
    checked.add(k);
    const qs = corpus.queries[need.lang] ?? [];
    if (qs.length === 0) throw xlError(where, `dataset '${corpus.name}' has no queries in '${need.lang}' (${need.why} needs them)`);
    for (const l of need.relevantLangs) {
      const ids = idsOf(l);
      for (const q of qs) {
        const rel = relevantDocIds(q);
        const i = rel.findIndex((d) => !ids.has(d));
        if (i >= 0) {
          const s = sources?.queries.get(key(need.lang, q.id));
          throw xlError(
            where,
            `${at(s)}relevant[${i}]: document '${rel[i]}' of query '${q.id}' (${need.lang}) has no '${l}' version${sources ? ' in the documents' : ` in dataset '${corpus.name}'`}; ${need.why} needs it`,
          );
        }
      }
    }
  }
}

/** Let `derived` (a subset or copy of `corpus`) name the same file:line sources in messages. Returns `derived`. */
export function keepSources(corpus: ParallelCorpus, derived: ParallelCorpus): ParallelCorpus {
  const s = SOURCES.get(corpus);
  if (s) SOURCES.set(derived, s);
  return derived;
}

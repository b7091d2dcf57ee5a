import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { decodeUtf8, readTextFile } from '../util/text-file.js';
import { dataPath, sha256 } from '../util/fs.js';

/** The 12 XQuAD languages (ISO 639-1). */
export const XQUAD_LANGS = ['ar', 'de', 'el', 'en', 'es', 'hi', 'ro', 'ru', 'th', 'tr', 'vi', 'zh'] as const;
export type XquadLang = (typeof XQUAD_LANGS)[number];

/** One XQuAD paragraph. `id` is `a<article>p<paragraph>`, zero-padded (`a07p03`), the same in every language. */
export interface XquadParagraph {
  id: string;
  /** 0-based article index (48 articles). */
  article: number;
  /** 0-based paragraph index within the article. */
  index: number;
  title: string;
  context: string;
}

/** One XQuAD question. `id` is the SQuAD question id, the same in every language. */
export interface XquadQuestion {
  id: string;
  paragraphId: string;
  question: string;
  answers: { text: string; start: number }[];
}

/** One language of XQuAD. */
export interface XquadLanguage {
  lang: string;
  file: string;
  paragraphs: XquadParagraph[];
  questions: XquadQuestion[];
}

/** Options of {@link loadXquad}. */
export interface XquadOptions {
  /** Folder with `xquad.<lang>.json` and `SHA256SUMS`. Default: the vendored `data/xquad`. */
  dir?: string;
  /** Check the file's sha256 against `SHA256SUMS` when that file lists it. Default: true. */
  verify?: boolean;
}

/** `a07p03` for article 7, paragraph 3. */
export function xquadParagraphId(article: number, index: number): string {
  return `a${String(article).padStart(2, '0')}p${String(index).padStart(2, '0')}`;
}

/**
 * The article of an XQuAD paragraph id (`a07p03` -> 7).
 * @throws XlalignError when the id is not of the form `a<digits>p<digits>`.
 */
export function xquadArticleOf(paragraphId: string): number {
  const m = /^a(\d+)p\d+$/.exec(paragraphId);
  if (!m) throw xlError('xquadArticleOf', `'${paragraphId}' is not an XQuAD paragraph id like 'a07p03'`);
  return Number(m[1]);
}

/**
 * XQuAD's grouping for leakage-free splits (a `DocGrouping` of `lib/data/split.ts`): whole
 * articles (48) go to one side, so that no paragraph, question or topic crosses the split.
 */
export const XQUAD_ARTICLES = { name: 'article', groupOf: xquadArticleOf } as const;

function readChecksums(dir: string): Map<string, string> {
  const file = resolve(dir, 'SHA256SUMS');
  const sums = new Map<string, string>();
  if (!existsSync(file)) return sums;
  readTextFile(file, 'loadXquad')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
      if (!m) throw xlError('loadXquad', `${file}:${i + 1}: expected '<sha256>  <file name>', got '${line}'`);
      sums.set(m[2], m[1]);
    });
  return sums;
}

/**
 * Load one language of XQuAD (SQuAD v1.1 JSON) into typed records, checking the sha256
 * recorded in `SHA256SUMS` and the shape of every field.
 *
 * @throws XlalignError naming the file and the JSON path of a missing or malformed field,
 *   or a checksum mismatch.
 * @example const de = loadXquad('de'); de.paragraphs.length // 240
 */
export function loadXquad(lang: string, options: XquadOptions = {}): XquadLanguage {
  const { dir = dataPath('xquad'), verify = true } = options;
  const file = resolve(dir, `xquad.${lang}.json`);
  if (!existsSync(file)) {
    throw xlError('loadXquad', `no file ${file}; XQuAD languages are ${XQUAD_LANGS.join(', ')}`);
  }
  const bytes = readFileSync(file);
  if (verify) {
    const expected = readChecksums(dir).get(basename(file));
    if (expected && sha256(bytes) !== expected) {
      throw xlError('loadXquad', `${file}: sha256 ${sha256(bytes)} does not match SHA256SUMS (${expected}); the file was changed`);
    }
  }
  const text = decodeUtf8(bytes, file, 'loadXquad');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw xlError('loadXquad', `${file}: not valid JSON (${(e as Error).message})`);
  }
  const fail = (path: string, what: string): never => {
    throw xlError('loadXquad', `${file}: ${path} ${what}`);
  };
  const str = (v: unknown, path: string): string => (typeof v === 'string' ? v : fail(path, `must be a string, got ${JSON.stringify(v)?.slice(0, 40)}`));
  const arr = (v: unknown, path: string): unknown[] => (Array.isArray(v) ? v : fail(path, 'must be an array'));
  const obj = (v: unknown, path: string): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, 'must be an object');

  const paragraphs: XquadParagraph[] = [];
  const questions: XquadQuestion[] = [];
  const data = arr(obj(json, '(root)').data, 'data');
  data.forEach((a, ai) => {
    const article = obj(a, `data[${ai}]`);
    const title = str(article.title, `data[${ai}].title`);
    arr(article.paragraphs, `data[${ai}].paragraphs`).forEach((p, pi) => {
      const path = `data[${ai}].paragraphs[${pi}]`;
      const para = obj(p, path);
      const id = xquadParagraphId(ai, pi);
      paragraphs.push({ id, article: ai, index: pi, title, context: str(para.context, `${path}.context`) });
      arr(para.qas, `${path}.qas`).forEach((q, qi) => {
        const qpath = `${path}.qas[${qi}]`;
        const qa = obj(q, qpath);
        const answers = arr(qa.answers, `${qpath}.answers`).map((an, k) => {
          const ans = obj(an, `${qpath}.answers[${k}]`);
          const start = ans.answer_start;
          if (typeof start !== 'number') fail(`${qpath}.answers[${k}].answer_start`, 'must be a number');
          return { text: str(ans.text, `${qpath}.answers[${k}].text`), start: start as number };
        });
        questions.push({ id: str(qa.id, `${qpath}.id`), paragraphId: id, question: str(qa.question, `${qpath}.question`), answers });
      });
    });
  });
  return { lang, file, paragraphs, questions };
}

/**
 * Load several XQuAD languages and check that they align: the same paragraph ids, and the
 * same question ids on the same paragraphs, in every language.
 *
 * @throws XlalignError listing the first mismatches (file, paragraph or question id).
 * @example const all = loadXquadAll(); Object.keys(all).length // 12
 */
export function loadXquadAll(langs: readonly string[] = XQUAD_LANGS, options: XquadOptions = {}): Record<string, XquadLanguage> {
  const out: Record<string, XquadLanguage> = {};
  for (const lang of langs) out[lang] = loadXquad(lang, options);
  const problems = checkXquadAlignment(Object.values(out));
  if (problems.length) throw xlError('loadXquadAll', `languages do not align:\n  ${problems.slice(0, 10).join('\n  ')}`);
  return out;
}

/**
 * Compare every language with the first, paragraph by paragraph and question by question.
 * Returns a list of human-readable problems (empty when all align).
 */
export function checkXquadAlignment(languages: XquadLanguage[]): string[] {
  const problems: string[] = [];
  if (languages.length < 2) return problems;
  const [ref, ...rest] = languages;
  const refQ = new Map(ref.questions.map((q) => [q.id, q.paragraphId]));
  for (const l of rest) {
    if (l.paragraphs.length !== ref.paragraphs.length) {
      problems.push(`${l.file}: ${l.paragraphs.length} paragraphs, ${ref.file} has ${ref.paragraphs.length}`);
    }
    if (l.questions.length !== ref.questions.length) {
      problems.push(`${l.file}: ${l.questions.length} questions, ${ref.file} has ${ref.questions.length}`);
    }
    for (const q of l.questions) {
      const p = refQ.get(q.id);
      if (p === undefined) problems.push(`${l.file}: question ${q.id} is not in ${ref.file}`);
      else if (p !== q.paragraphId) problems.push(`${l.file}: question ${q.id} is on paragraph ${q.paragraphId}, in ${ref.file} on ${p}`);
    }
    const titles = new Map(ref.paragraphs.map((p) => [p.id, p.article]));
    for (const p of l.paragraphs) {
      if (titles.get(p.id) !== p.article) problems.push(`${l.file}: paragraph ${p.id} has no counterpart in ${ref.file}`);
    }
  }
  return problems;
}

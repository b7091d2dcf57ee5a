import { xlError } from '../../util/errors.js';
import { loadTatoeba, TATOEBA_CODES, type BitextPair } from '../../data/tatoeba.js';
import { loadUdhr } from '../../data/udhr.js';
import { loadCldrAnnotations, loadCldrNames, CLDR_NAME_KINDS } from '../../data/cldr.js';
import { normalizeText } from './wordpiece.js';

/**
 * The training corpus of the static model: translation pairs (text in a language, its
 * English counterpart) from sources that are **not** XQuAD (the evaluation set):
 *
 * | source            | what                                              | unit          |
 * |-------------------|---------------------------------------------------|---------------|
 * | tatoeba           | Tatoeba test pairs minus the held-out slice       | sentence      |
 * | udhr              | UDHR preamble, article titles, article paragraphs | paragraph     |
 * | cldr-annotations  | emoji/symbol names and keyword lists              | phrase        |
 * | cldr-names        | language, territory and script names              | name          |
 *
 * Tatoeba's last `heldOut` lines per language are never trained on; they are the
 * held-out bitext set of the model card.
 */

/** The sources, in the order they are assembled. */
export const CORPUS_SOURCES = ['tatoeba', 'udhr', 'cldr-annotations', 'cldr-names'] as const;
/** One of {@link CORPUS_SOURCES}. */
export type CorpusSource = (typeof CORPUS_SOURCES)[number];

/** One training pair: `text` in `lang` (XQuAD code), `en` its English counterpart. */
export interface TrainingPair {
  source: CorpusSource;
  lang: string;
  /** Unique within source and language: a Tatoeba line, `a03p1`, an emoji, `territories:DE`. */
  id: string;
  text: string;
  en: string;
}

/** Options of {@link assembleCorpus}. */
export interface CorpusOptions {
  /** Non-English XQuAD languages to include. Default: all 11 of {@link TATOEBA_CODES}. */
  langs?: readonly string[];
  /** Tatoeba lines held out per language (the last ones). Default 200. */
  heldOut?: number;
  /** Sources to use. Default: all of {@link CORPUS_SOURCES}. */
  sources?: readonly CorpusSource[];
  /** Keep at most this many pairs per source and language (first ones, in a fixed order). Default: no limit. Used for tiny test builds. */
  maxPerSource?: number;
  /** Folder of the Tatoeba files. Default: the vendored `data/tatoeba`. */
  tatoebaDir?: string;
}

/** What {@link assembleCorpus} returns. */
export interface Corpus {
  /** Training pairs, deduplicated per language (same normalised text or same English dropped). */
  train: TrainingPair[];
  /** Held-out Tatoeba pairs per language (never in `train`). */
  heldOut: Record<string, BitextPair[]>;
  /** Number of training pairs per source and language. */
  counts: Record<string, Record<string, number>>;
}

/**
 * Assemble the training pairs and the held-out Tatoeba slices.
 *
 * @throws XlalignError for a language without a Tatoeba code or a held-out size that
 *   leaves no training line.
 * @example const { train, heldOut, counts } = assembleCorpus({ langs: ['de'], heldOut: 200 });
 */
export function assembleCorpus(options: CorpusOptions = {}): Corpus {
  const { langs = Object.keys(TATOEBA_CODES), heldOut = 200, sources = CORPUS_SOURCES, maxPerSource = Infinity, tatoebaDir } = options;
  for (const s of sources) {
    if (!(CORPUS_SOURCES as readonly string[]).includes(s)) throw xlError('assembleCorpus', `unknown source '${s}'; use ${CORPUS_SOURCES.join(', ')}`);
  }
  const train: TrainingPair[] = [];
  const held: Record<string, BitextPair[]> = {};
  const counts: Record<string, Record<string, number>> = {};
  const enUdhr = sources.includes('udhr') ? loadUdhr('en') : [];
  const enAnn = sources.includes('cldr-annotations') ? loadCldrAnnotations('en') : {};
  const enNames = sources.includes('cldr-names') ? Object.fromEntries(CLDR_NAME_KINDS.map((k) => [k, loadCldrNames('en', k)])) : {};

  for (const lang of langs) {
    const code3 = TATOEBA_CODES[lang];
    if (!code3) throw xlError('assembleCorpus', `unknown language '${lang}'; use ${Object.keys(TATOEBA_CODES).join(' ')}`);
    const seenText = new Set<string>();
    const seenEn = new Set<string>();
    const add = (source: CorpusSource, id: string, text: string, en: string, n: { k: number }): void => {
      if (n.k >= maxPerSource) return;
      const a = normalizeText(text).replace(/\s+/g, ' ').trim();
      const b = normalizeText(en).replace(/\s+/g, ' ').trim();
      if (!a || !b || seenText.has(a) || seenEn.has(b)) return;
      seenText.add(a);
      seenEn.add(b);
      train.push({ source, lang, id, text, en });
      counts[source] ??= {};
      counts[source][lang] = (counts[source][lang] ?? 0) + 1;
      n.k++;
    };

    const tat = loadTatoeba(code3, { dir: tatoebaDir });
    if (heldOut >= tat.length) throw xlError('assembleCorpus', `heldOut ${heldOut} leaves no Tatoeba training line for ${lang} (${tat.length} lines)`);
    const cut = tat.length - heldOut;
    held[lang] = tat.slice(cut);
    if (sources.includes('tatoeba')) {
      const n = { k: 0 };
      for (const p of tat.slice(0, cut)) add('tatoeba', p.id, p.text, p.en, n);
    }

    if (sources.includes('udhr')) {
      const n = { k: 0 };
      const en = new Map(enUdhr.map((s) => [s.id, s]));
      for (const s of loadUdhr(lang)) {
        const e = en.get(s.id);
        if (!e) continue;
        if (s.title && e.title) add('udhr', `${s.id}t`, s.title, e.title, n);
        // Paragraph pairs where the counts agree (all articles); the preamble only as a whole.
        if (s.id !== 'preamble' && s.paragraphs.length === e.paragraphs.length) {
          s.paragraphs.forEach((p, i) => add('udhr', `${s.id}p${i}`, p, e.paragraphs[i], n));
        } else add('udhr', s.id, s.paragraphs.join(' '), e.paragraphs.join(' '), n);
      }
    }

    if (sources.includes('cldr-annotations')) {
      const n = { k: 0 };
      const ann = loadCldrAnnotations(lang);
      for (const key of Object.keys(enAnn).sort()) {
        const a = ann[key];
        const e = enAnn[key];
        if (!a) continue;
        add('cldr-annotations', key, a.tts, e.tts, n);
        const kw = a.keywords.filter((k) => k !== a.tts);
        const ekw = e.keywords.filter((k) => k !== e.tts);
        if (kw.length && ekw.length) add('cldr-annotations', `${key}:keywords`, kw.join(', '), ekw.join(', '), n);
      }
    }

    if (sources.includes('cldr-names')) {
      const n = { k: 0 };
      for (const kind of CLDR_NAME_KINDS) {
        const names = loadCldrNames(lang, kind);
        const en = enNames[kind];
        for (const code of Object.keys(en).sort()) {
          if (names[code] && names[code] !== code) add('cldr-names', `${kind}:${code}`, names[code], en[code], n);
        }
      }
    }
  }
  return { train, heldOut: held, counts };
}

/**
 * The monolingual texts of a corpus per language (`en` included), for building the
 * vocabulary: each pair contributes its `text` to its language and its `en` to English.
 */
export function corpusTexts(train: readonly TrainingPair[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of train) {
    (out[p.lang] ??= []).push(p.text);
    (out.en ??= []).push(p.en);
  }
  return out;
}

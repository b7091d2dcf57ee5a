import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { readTextFile } from '../util/text-file.js';
import { sha256, writeFileAtomic } from '../util/fs.js';

/**
 * One Belebele record, as published (facebook/belebele, `data/<dialect>.jsonl`, one JSON
 * object a line). Passages come from FLORES-200 and are parallel across the 122 dialects;
 * `(link, question_number)` identifies a question in every dialect.
 */
export interface BelebeleRecord {
  link: string;
  question_number: number;
  flores_passage: string;
  question: string;
  mc_answer1: string;
  mc_answer2: string;
  mc_answer3: string;
  mc_answer4: string;
  /** '1'..'4' as published (a string). */
  correct_answer_num: string;
  dialect: string;
  ds?: string;
}

const RecordSchema = z.object({
  link: z.string().min(1),
  question_number: z.coerce.number().int(),
  flores_passage: z.string().min(1),
  question: z.string().min(1),
  mc_answer1: z.string(),
  mc_answer2: z.string(),
  mc_answer3: z.string(),
  mc_answer4: z.string(),
  correct_answer_num: z.coerce.string().regex(/^[1-4]$/),
  dialect: z.string().min(1),
  ds: z.string().optional(),
});

/** Options of {@link loadBelebele}. */
export interface BelebeleOptions {
  /**
   * Folder holding `<dialect>.jsonl`. Default: `$XLALIGN_BELEBELE_DIR`, else
   * `.cache/belebele` under the current working directory (where downloads go).
   */
  dir?: string;
  /** Download a missing file once from the Hugging Face hub into `dir`. Default: true. */
  download?: boolean;
  /** Base URL of the dataset files. Default: the hub's `facebook/belebele` `data/` folder. */
  baseUrl?: string;
}

const DEFAULT_BASE = 'https://huggingface.co/datasets/facebook/belebele/resolve/main/data';

/** Parse Belebele JSONL text; errors name the file, line and field. */
export function parseBelebeleJsonl(text: string, file = '<text>'): BelebeleRecord[] {
  const out: BelebeleRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw xlError('loadBelebele', `${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const r = RecordSchema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw xlError('loadBelebele', `${file}:${i + 1}: field '${issue.path.join('.') || '(record)'}' ${issue.message}`);
    }
    out.push(r.data as BelebeleRecord);
  });
  return out;
}

/**
 * Load one Belebele dialect (e.g. `deu_Latn`) from a local folder; when the file is missing
 * and downloads are allowed, fetch it once from the hub into the folder (written atomically).
 *
 * @throws XlalignError when the file is missing and cannot be downloaded (offline), saying
 *   where to put it; or naming the file, line and field of a malformed record.
 * @example const de = await loadBelebele('deu_Latn', { dir: 'belebele/' });
 */
export async function loadBelebele(dialect: string, options: BelebeleOptions = {}): Promise<BelebeleRecord[]> {
  const { dir = process.env.XLALIGN_BELEBELE_DIR ?? resolve('.cache/belebele'), download = true, baseUrl = DEFAULT_BASE } = options;
  if (!/^[a-z]{3}_[A-Z][a-z]{3}$/.test(dialect)) {
    throw xlError('loadBelebele', `'${dialect}' is not a Belebele dialect code such as 'deu_Latn' or 'zho_Hans'`);
  }
  const file = resolve(dir, `${dialect}.jsonl`);
  if (!existsSync(file)) {
    const url = `${baseUrl}/${dialect}.jsonl`;
    const where = `Put the published file ${dialect}.jsonl (from facebook/belebele, folder data/) into ${dir}, or set XLALIGN_BELEBELE_DIR.`;
    if (!download) throw xlError('loadBelebele', `no file ${file}. ${where}`);
    let text: string;
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (e) {
      throw xlError('loadBelebele', `no file ${file}, and downloading ${url} failed (${(e as Error).message}; this machine may have no network). ${where}`, { kind: 'internal' });
    }
    parseBelebeleJsonl(text, url); // validate before caching
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(file, text);
  }
  return parseBelebeleJsonl(readTextFile(file, 'loadBelebele'), file);
}

/** A stable passage id from the passage's FLORES link (the same in every dialect). */
export function belebelePassageId(link: string): string {
  return `p${sha256(link).slice(0, 10)}`;
}

/** A stable question id: passage id and question number. */
export function belebeleQuestionId(link: string, questionNumber: number): string {
  return `${belebelePassageId(link)}_q${questionNumber}`;
}

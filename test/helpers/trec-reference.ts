/**
 * Test oracle: the plain way to read TREC run files, independent of lib/runs' fast reader.
 * The whole file as text, one `split` per line and per field, `Number` for numbers: slow,
 * and obviously right. test/runs/trec-fast-parse.test.ts checks that `readRun` gives the same
 * Run (query order, ids, bit-identical scores) and the same errors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { rawScoresPath } from '../../lib/runs/trec-io.js';
import type { Run } from '../../lib/runs/types.js';
import { xlError } from '../../lib/util/errors.js';

/** A number as trec_eval's files spell them (decimal, exponent, inf); NaN for anything else (hex, '', 'NaN'). */
export function referenceNumber(text: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return NaN;
}

/** The lines of a (possibly gzip) text file, each split at runs of spaces, tabs and CRs; blank lines give []. */
function fieldLines(path: string): string[][] {
  let bytes = readFileSync(path);
  if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
  return bytes.toString('utf8').split('\n').map((l) => l.split(/[ \t\r]+/).filter((f) => f !== ''));
}

/**
 * readRun's contract, the plain way: per query ids and scores (Float64Array) in file order,
 * lines of a query seen again appended; scores from the raw-scores file beside the run when
 * there is one (and `rawScores` is not false), matched line by line with the run's lines in
 * the order writeRun writes them (queries in key order).
 */
export function readRunReference(path: string, options: { rawScores?: boolean } = {}): Run {
  const where = 'readRun';
  const lists = new Map<string, { ids: string[]; scores: number[] }>();
  fieldLines(path).forEach((f, i) => {
    if (f.length === 0) return;
    if (f.length !== 6) throw xlError(where, `${path}:${i + 1}: expected 6 fields 'qid Q0 docno rank score tag', found ${f.length}`);
    const [qid, , doc, rank, score] = f;
    if (!Number.isInteger(referenceNumber(rank))) throw xlError(where, `${path}:${i + 1}: rank '${rank}' is not an integer`);
    const s = referenceNumber(score);
    if (Number.isNaN(s)) throw xlError(where, `${path}:${i + 1}: score '${score}' is not a number`);
    if (!lists.has(qid)) lists.set(qid, { ids: [], scores: [] });
    lists.get(qid)!.ids.push(doc);
    lists.get(qid)!.scores.push(s);
  });
  const raw = rawScoresPath(path);
  if (options.rawScores !== false && existsSync(raw)) {
    // line i of the raw scores: the document of line i of the run, queries in key order
    const slots: { l: { ids: string[]; scores: number[] }; k: number }[] = [];
    const order: Record<string, true> = {};
    for (const qid of lists.keys()) order[qid] = true;
    for (const qid of Object.keys(order)) lists.get(qid)!.ids.forEach((_, k) => slots.push({ l: lists.get(qid)!, k }));
    const rawLines = fieldLines(raw).filter((f) => f.length > 0);
    if (rawLines.length !== slots.length) throw xlError(where, `${raw}: does not match ${path}`);
    rawLines.forEach(([doc, score], i) => {
      const { l, k } = slots[i];
      if (l.ids[k] !== doc) throw xlError(where, `${raw}: does not match ${path}`);
      l.scores[k] = referenceNumber(score);
    });
  }
  const run: Run = {};
  for (const [qid, l] of lists) run[qid] = { ids: l.ids, scores: Float64Array.from(l.scores) };
  return run;
}

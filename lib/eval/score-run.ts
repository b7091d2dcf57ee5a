/**
 * Scoring an existing TREC run against qrels (`xlalign score`): the metric engine of
 * `xlalign eval` (`evaluate`), with trec_eval's tie order and query accounting by default, so
 * that a foreign run gets trec_eval's numbers, and nothing is silently zero.
 *
 * Queries, as trec_eval (10.0, `test/tools/trec_eval`) counts them:
 * - every query of the qrels is scored, also one judged only with relevance 0 (it scores 0 on
 *   nDCG, RR, R, P and AP, as in trec_eval; MaxR, Max@R_norm, Complete and the pivot metrics
 *   are undefined for it and leave it out of their mean);
 * - a qrels query missing from the run is scored as an empty ranking (trec_eval `-c`;
 *   trec_eval without `-c` refuses such a run), or skipped with `runQueriesOnly`;
 * - run queries without judgments are skipped;
 * - an empty run, and a run that shares no query id with the qrels, are refused.
 * The counts and reasons come back with the means.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isPlainLangTag } from '../data/lang-tag.js';
import { evaluate } from '../metrics/evaluate.js';
import { DEFAULT_METRICS, definedForPool, parseMetric } from '../metrics/registry.js';
import { countRelevant, type TiePolicy } from '../runs/ranking.js';
import type { Qrels, Run } from '../runs/types.js';
import { xlError } from '../util/errors.js';

/** Language of every query id and document id (the shape `evaluate` takes). */
export interface IdLanguageMaps {
  queries: Map<string, string>;
  docs: Map<string, string>;
}

export { readPoolLanguages } from '../results/pool-langs.js';

/**
 * The `<lang>-<id>` convention, when the user says ids follow it: the language is the
 * longest of `langs` that the id starts with followed by '-'; without `langs`, everything
 * before the first '-' (so `en-US` tags need `--langs`).
 *
 * @throws XlalignError for an id without a language prefix.
 * @example langFromId('en-US-q1', ['en-US', 'de']) // 'en-US'
 */
export function langFromId(id: string, langs: readonly string[] = []): string {
  const known = langs.filter((l) => id.startsWith(`${l}-`) && id.length > l.length + 1).sort((a, b) => b.length - a.length)[0];
  if (known) return known;
  const i = id.indexOf('-');
  if (langs.length === 0 && i > 0 && isPlainLangTag(id.slice(0, i))) return id.slice(0, i);
  throw xlError('xlalign score', `--lang-from-id: id '${id}' does not start with ${langs.length ? `one of ${langs.map((l) => `'${l}-'`).join(', ')}` : "'<lang>-'"}`);
}

/** Options of {@link scoreRun}. */
export interface ScoreRunOptions {
  /** Metric names. Default: `DEFAULT_METRICS`, without the pivot metrics when no languages are given. */
  metrics?: readonly string[];
  /** Pivot language of the pivot metrics. Default `en`. */
  pivot?: string;
  /** Language of each id; needed by the pivot metrics. */
  languages?: (id: string) => string | undefined;
  /** Tie order (`lib/runs/ranking.ts`): `trec_eval` (default: document id descending) or `pessimistic` (eval's). */
  ties?: TiePolicy;
  /** Skip qrels queries missing from the run instead of scoring them as empty rankings (default false). */
  runQueriesOnly?: boolean;
  /** Names of the run and qrels in error messages (default 'the run', 'the qrels'). */
  runName?: string;
  qrelsName?: string;
}

/** What {@link scoreRun} scored: the means, and which queries went into them. */
export interface ScoreRunResult {
  /** Per metric, the mean over the queries where it is defined (median for `maxr.median`). */
  mean: Record<string, number>;
  /** Per metric, the number of queries in its mean. */
  counts: Record<string, number>;
  /** Per query id, per metric, the query's value (absent where undefined). */
  perQuery: Record<string, Record<string, number>>;
  ties: TiePolicy;
  /** Queries scored (each metric's mean is over these, less those where it is undefined). */
  scored: number;
  /** Of the scored queries, those judged only non-relevant (relevance <= 0). */
  judgedNonRelevantOnly: number;
  /** Qrels queries missing from the run: scored as empty rankings, or skipped with `runQueriesOnly`. */
  missingFromRun: number;
  /** Run queries without judgments in the qrels: skipped. */
  unjudged: number;
  /** Why queries were skipped or counted specially, one line each (empty when nothing was). */
  notes: string[];
}

const TIE_NOTE: Record<TiePolicy, string> = {
  trec_eval: "ties: trec_eval's order (equal scores by document id, descending); --ties pessimistic for xlalign eval's order",
  pessimistic: "ties: pessimistic (equal scores: non-relevant first, as xlalign eval); the default --ties trec_eval gives trec_eval's numbers",
};

/**
 * Score a run against qrels with the metric engine of `xlalign eval` (`evaluate`), the
 * queries counted as trec_eval counts them (see the file comment) and ties ordered as
 * `options.ties` says (trec_eval's by default). Metrics the registry does not define for
 * these files are left out, as eval does (the pivot metrics without pivot documents or for
 * pivot-language queries, Complete@k when a query has more than k relevant documents), and
 * any metric whose mean is not finite. |D_q| (for `maxr_norm`) is the query's ranking
 * length, as in a whole-pool run file (eval's default `--run-depth all`).
 *
 * @throws XlalignError for an empty run, a run that shares no query id with the qrels, a
 *   pivot metric asked for without languages, or an id without a language.
 * @example scoreRun(readQrels('out/qrels/mixed.de.qrels'), readRun('out/runs/bm25/mixed.de.run', { rawScores: false }), { languages: (id) => langs.get(id) })
 */
export function scoreRun(qrels: Qrels, run: Run, options: ScoreRunOptions = {}): ScoreRunResult {
  const where = 'xlalign score';
  const { pivot = 'en', languages, ties = 'trec_eval', runQueriesOnly = false, runName = 'the run', qrelsName = 'the qrels' } = options;
  const runIds = Object.keys(run);
  const qrelsIds = Object.keys(qrels);
  if (runIds.length === 0) throw xlError(where, `${runName} is empty (no ranked document); nothing to score (trec_eval refuses it too)`);
  if (qrelsIds.length === 0) throw xlError(where, `${qrelsName} is empty (no judgment); nothing to score`);
  const shared = runIds.filter((q) => Object.hasOwn(qrels, q));
  if (shared.length === 0) {
    const show = (ids: string[]) => ids.slice(0, 3).map((q) => `'${q}'`).join(', ') + (ids.length > 3 ? ', ...' : '');
    throw xlError(where, `no query id of ${runName} (${show(runIds)}) is in ${qrelsName} (${show(qrelsIds)}); ids are compared exactly, case included`);
  }
  const queries = runQueriesOnly ? qrelsIds.filter((q) => Object.hasOwn(run, q)) : qrelsIds;
  const needsLanguages = (m: string) => parseMetric(m).definition.needsLanguages === true;
  let metrics = [...(options.metrics ?? DEFAULT_METRICS.filter((m) => languages || !needsLanguages(m)))];
  let maps: IdLanguageMaps | undefined;
  if (languages) {
    maps = { queries: new Map(), docs: new Map() };
    const need = (id: string, into: Map<string, string>) => {
      if (into.has(id)) return;
      const l = languages(id);
      if (l === undefined) throw xlError(where, `id '${id}' has no language in the pool file`);
      into.set(id, l);
    };
    for (const q of queries) need(q, maps.queries);
    for (const q of queries) for (const d in qrels[q]) need(d, maps.docs);
    for (const q of queries) for (const d of run[q]?.ids ?? []) need(d, maps.docs);
  } else {
    const p = metrics.find(needsLanguages);
    if (p) throw xlError(where, `metric '${p}' needs each id's language: give --pool FILE (id<TAB>lang lines; xlalign eval writes qrels/<pool>.langs.tsv) or --lang-from-id`);
  }
  // what eval knows of a pool, from the files: the registry's "defined for this pool" filter
  let minRelevant = Number.POSITIVE_INFINITY;
  for (const q of queries) {
    const n = countRelevant(qrels[q]);
    if (n > 0 && n < minRelevant) minRelevant = n;
  }
  const queryLangCounts = new Map<string, number>();
  for (const l of maps?.queries.values() ?? []) queryLangCounts.set(l, (queryLangCounts.get(l) ?? 0) + 1);
  const queryLang = [...queryLangCounts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  const facts = { scenario: 'run', docLangs: [...new Set(maps?.docs.values() ?? [])], queryLang, pivot, minRelevant };
  metrics = metrics.filter((m) => definedForPool(m, facts));
  const ev = evaluate(qrels, run, metrics, { pivot, languages: maps, ties, queries });
  const mean: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const m of metrics) {
    if (ev.mean[m] !== undefined && Number.isFinite(ev.mean[m])) {
      mean[m] = ev.mean[m];
      counts[m] = ev.counts[m];
    }
  }
  const scored = queries.length;
  const judgedNonRelevantOnly = queries.filter((q) => countRelevant(qrels[q]) === 0).length;
  const missingFromRun = qrelsIds.filter((q) => !Object.hasOwn(run, q)).length;
  const unjudged = runIds.length - shared.length;
  const notes = [TIE_NOTE[ties], `queries: ${scored} scored`];
  if (judgedNonRelevantOnly > 0) notes.push(`${judgedNonRelevantOnly} scored queries are judged only non-relevant: 0 on nDCG, RR, R, P and AP (as trec_eval), left out of MaxR, Max@R_norm, Complete and the pivot metrics`);
  if (missingFromRun > 0) {
    notes.push(runQueriesOnly
      ? `skipped: ${missingFromRun} queries of ${qrelsName} missing from ${runName} (--run-queries-only)`
      : `${missingFromRun} queries of ${qrelsName} missing from ${runName} scored as empty rankings (0; trec_eval -c); --run-queries-only skips them`);
  }
  if (unjudged > 0) notes.push(`skipped: ${unjudged} queries of ${runName} without judgments in ${qrelsName}`);
  for (const m of Object.keys(mean)) if (counts[m] < scored) notes.push(`${m}: mean over ${counts[m]} of ${scored} queries (undefined for the others)`);
  return { mean, counts, perQuery: ev.perQuery, ties, scored, judgedNonRelevantOnly, missingFromRun, unjudged, notes };
}

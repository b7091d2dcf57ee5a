import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareEvaluations, compareMeansOverLanguages, deltaTables } from '../../lib/eval/compare.js';
import { pairedBootstrapOfGroupMean } from '../../lib/eval/bootstrap.js';
import type { ComparedEvaluation as EvaluationResult } from '../../lib/eval/compare.js';
import { createRng } from '../../lib/util/rng.js';

function result(values: number[], shift: number): EvaluationResult {
  const perQuery: Record<string, Record<string, number>> = {};
  values.forEach((v, i) => (perQuery[`de-q${i}`] = { 'ndcg@10': v + shift }));
  const mean = values.reduce((s, v) => s + v + shift, 0) / values.length;
  return {
    rows: [
      { dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang: 'de', metric: 'ndcg@10', value: mean },
      { dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang: 'de', metric: 'maxr.median', value: 10 + shift },
    ],
    perQuery: { 'mixed.de': perQuery },
  };
}

test('compareEvaluations: delta of the aggregates and a bootstrap interval around it', () => {
  const rng = createRng(7);
  const values = Array.from({ length: 300 }, () => rng.next());
  const before = result(values, 0);
  // after = before + 0.1 for every query, plus noise
  const after = result(values.map((v) => v + (rng.next() - 0.5) * 0.2), 0.1);
  const [ndcg, median] = compareEvaluations(before, after, { seed: 1, resamples: 500 });
  assert.equal(ndcg.metric, 'ndcg@10');
  assert.ok(Math.abs(ndcg.delta - (after.rows[0].value - before.rows[0].value)) < 1e-12);
  assert.ok(ndcg.deltaLow! < ndcg.delta && ndcg.delta < ndcg.deltaHigh!, 'the interval holds the point estimate');
  assert.ok(ndcg.deltaLow! > 0.05 && ndcg.deltaHigh! < 0.15, `[${ndcg.deltaLow}, ${ndcg.deltaHigh}] should be near 0.1`);
  assert.equal(ndcg.queries, 300);
  // a median aggregate gets the difference, no interval
  assert.ok(Math.abs(median.delta - 0.1) < 1e-12);
  assert.equal(median.deltaLow, undefined);
  // the same seed gives the same interval
  assert.deepEqual(compareEvaluations(before, after, { seed: 1, resamples: 500 }), compareEvaluations(before, after, { seed: 1, resamples: 500 }));
  const md = deltaTables([ndcg]);
  assert.match(md, /#### mixed · ndcg@10/);
  assert.match(md, /\| de \| [0-9.]+ \| [0-9.]+ \| \+0\.1\d\d \| \[0\.\d+, 0\.\d+\] \|/);
});

test('compareMeansOverLanguages: mean over languages with the stratified interval; deltaTables prints it on the mean row', () => {
  const rng = createRng(11);
  const make = (shift: Record<string, number>): EvaluationResult => {
    const r: EvaluationResult = { rows: [], perQuery: {} };
    for (const [lang, n] of [['de', 200], ['zh', 80]] as const) {
      const pq: Record<string, Record<string, number>> = {};
      for (let i = 0; i < n; i++) pq[`${lang}-q${i}`] = { maxr: 1 + ((i * 7) % 13) + shift[lang] + (shift[lang] ? rng.normal() : 0) };
      r.perQuery[`mixed.${lang}`] = pq;
      const mean = Object.values(pq).reduce((s, v) => s + v.maxr, 0) / n;
      r.rows.push({ dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang, metric: 'maxr', value: mean });
      r.rows.push({ dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang, metric: 'maxr.median', value: 5 + shift[lang] });
    }
    return r;
  };
  const before = make({ de: 0, zh: 0 });
  const after = make({ de: -2, zh: -1 });
  const means = compareMeansOverLanguages(before, after, { seed: 4, resamples: 400 });
  const [maxr, median] = means;
  assert.deepEqual([maxr.scenario, maxr.metric, maxr.langs], ['mixed', 'maxr', ['de', 'zh']]);
  const perLang = compareEvaluations(before, after, { seed: 4, resamples: 400 }).filter((d) => d.metric === 'maxr');
  assert.ok(Math.abs(maxr.delta - (perLang[0].delta + perLang[1].delta) / 2) < 1e-12);
  assert.ok(Math.abs(maxr.before - (perLang[0].before + perLang[1].before) / 2) < 1e-12);
  // the interval is pairedBootstrapOfGroupMean's on the per-query scores
  const pick = (r: EvaluationResult, lang: string) => Object.fromEntries(Object.entries(r.perQuery[`mixed.${lang}`]).map(([q, s]) => [q, s.maxr]));
  const ci = pairedBootstrapOfGroupMean({ de: { before: pick(before, 'de'), after: pick(after, 'de') }, zh: { before: pick(before, 'zh'), after: pick(after, 'zh') } }, { seed: 4, resamples: 400 });
  assert.deepEqual([maxr.deltaLow, maxr.deltaHigh, maxr.queries], [ci.low, ci.high, 280]);
  assert.ok(maxr.deltaLow! < -1.5 + 0.3 && maxr.deltaHigh! > -1.5 - 0.3 && maxr.deltaLow! < maxr.deltaHigh!);
  assert.equal(median.metric, 'maxr.median');
  assert.equal(median.deltaLow, undefined);
  assert.ok(Math.abs(median.delta + 1.5) < 1e-12);
  const md = deltaTables(compareEvaluations(before, after, { seed: 4, resamples: 400 }), { metrics: ['maxr'], means });
  const f = (v: number) => v.toFixed(3);
  assert.ok(md.includes(`| **mean** | ${f(maxr.before)} | ${f(maxr.after)} | ${f(maxr.delta)} | [${f(ci.low)}, ${f(ci.high)}] |`), md);
});

test('compareEvaluations refuses before and after evaluated on other pools (pivot, content), and names the settings of each delta', async () => {
  const { xquadCorpus } = await import('../../lib/data/parallel.js');
  const { Bm25Retriever } = await import('../../lib/retrieve/bm25.js');
  const { evaluationSettings } = await import('../../lib/eval/run-evaluation.js');
  const { settingsId } = await import('../../lib/results/settings.js');
  const corpus = xquadCorpus(['de', 'en', 'es']);
  const r = new Bm25Retriever();
  const withSettings = (e: EvaluationResult, pivot: string, c = corpus) => {
    const settings = evaluationSettings(c, r, { pivot });
    return { ...e, settings, settingsId: settingsId(settings), rows: e.rows.map((x) => ({ ...x, settings: settingsId(settings) })) };
  };
  const values = [0.2, 0.4, 0.6, 0.8];
  const b = withSettings(result(values, 0), 'en');
  assert.throws(() => compareEvaluations(b, withSettings(result(values, 0.1), 'es')), /before and after were evaluated with different pivot \("en" vs "es"\)/);
  const edited = { ...corpus, docs: { ...corpus.docs, de: corpus.docs.de.map((d, i) => (i === 0 ? { ...d, text: d.text + '!' } : d)) } };
  assert.throws(() => compareEvaluations(b, withSettings(result(values, 0.1), 'en', edited)), /different dataset content \(de\)/);
  const [d] = compareEvaluations(b, withSettings(result(values, 0.1), 'en'), { resamples: 50 });
  assert.equal(d.settingsBefore, b.settingsId);
  assert.equal(d.settingsAfter, b.settingsId);
});

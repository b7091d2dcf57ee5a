import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeOwnDataset } from '../fixtures/own-dataset.js';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');

function xlalign(args: string[], cwd: string) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Read TREC lines by whitespace, independent of lib/runs/trec-io.ts. */
function trecLines(path: string): string[][] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
}

/**
 * Metrics of one query from its file ranking, by textbook formulas, with pessimistic ties
 * (a relevant document tied with irrelevant ones ranks after them): nDCG@10 (linear gain),
 * R@10, MaxR (worst rank of a relevant document), Complete@10, PivotInclination (an
 * irrelevant pivot document above the best relevant query-language document).
 */
function reference(judged: Record<string, number>, ranking: { id: string; score: number }[], lang: string, pivot: string) {
  const ranked = ranking.map((d) => ({ ...d, rel: judged[d.id] ?? 0 })).sort((a, b) => b.score - a.score || a.rel - b.rel);
  const R = Object.values(judged).filter((r) => r > 0).length;
  const dcg = ranked.slice(0, 10).reduce((s, d, i) => s + d.rel / Math.log2(i + 2), 0);
  let idcg = 0;
  for (let i = 0; i < Math.min(R, 10); i++) idcg += 1 / Math.log2(i + 2);
  const ranks = Object.keys(judged).map((id) => ranked.findIndex((d) => d.id === id) + 1);
  const maxr = Math.max(...ranks.map((r) => (r === 0 ? ranked.length + 1 : r)));
  const bestL = ranked.findIndex((d) => d.rel > 0 && d.id.startsWith(`${lang}-`));
  const pivotAbove = bestL >= 0 && ranked.slice(0, bestL).some((d) => d.rel === 0 && d.id.startsWith(`${pivot}-`));
  return {
    'ndcg@10': dcg / idcg,
    'r@10': ranked.slice(0, 10).filter((d) => d.rel > 0).length / R,
    maxr,
    'complete@10': maxr <= 10 ? 1 : 0,
    pivot_inclination: pivotAbove ? 1 : 0,
  };
}

test('eval on an own dataset folder: metrics equal an independent computation from its TREC files, and score agrees', () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 40 });
  const cwd = mkdtempSync(join(tmpdir(), 'cli-own-'));
  const r = xlalign(['eval', '--dataset', dir, '--retriever', 'bm25,default', '--scenarios', 'mixed,mixed-target', '--out', 'out'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const rows: { dataset: string; retriever: string; scenario: string; lang: string; metric: string; value: number }[] = JSON.parse(readFileSync(join(cwd, 'out/metrics.json'), 'utf8'));
  assert.deepEqual([...new Set(rows.map((x) => `${x.dataset} ${x.retriever} ${x.scenario} ${x.lang}`))].sort(), [
    'mini bm25 mixed de', 'mini bm25 mixed-target de', 'mini default mixed de', 'mini default mixed-target de',
  ]);
  assert.match(r.stdout, /### mini · default · mixed-target/);
  const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.equal(config.dataset, 'mini');
  assert.equal(config.datasetSource, dir);
  let compared = 0;
  for (const retriever of ['bm25', 'default']) {
    for (const scenario of ['mixed', 'mixed-target']) {
      const qrels: Record<string, Record<string, number>> = {};
      for (const [q, , d, rel] of trecLines(join(cwd, 'out/qrels', `${scenario}.de.qrels`))) (qrels[q] ??= {})[d] = Number(rel);
      const runs: Record<string, { id: string; score: number }[]> = {};
      for (const [q, , d, , score] of trecLines(join(cwd, 'out/runs', retriever, `${scenario}.de.run`))) (runs[q] ??= []).push({ id: d, score: Number(score) });
      const qids = Object.keys(qrels);
      assert.ok(qids.length > 150, `${qids.length} queries`);
      const sums: Record<string, number> = {};
      for (const q of qids) for (const [m, v] of Object.entries(reference(qrels[q], runs[q], 'de', 'en'))) sums[m] = (sums[m] ?? 0) + v;
      for (const [m, sum] of Object.entries(sums)) {
        if (m === 'pivot_inclination' && scenario === 'mixed') continue; // both parallel answers are relevant there
        const row = rows.find((x) => x.retriever === retriever && x.scenario === scenario && x.metric === m);
        assert.ok(row, `${retriever} ${scenario} ${m} missing`);
        assert.ok(Math.abs(row.value - sum / qids.length) < 1e-9, `${retriever} ${scenario} ${m}: eval ${row.value}, from the files ${sum / qids.length}`);
        compared++;
      }
      // xlalign score on the same files gives eval's numbers, every metric
      const s = xlalign(['score', '--run', `out/runs/${retriever}/${scenario}.de.run`, '--qrels', `out/qrels/${scenario}.de.qrels`, '--pool', `out/qrels/${scenario}.de.langs.tsv`, '--out', 'scored'], cwd);
      assert.equal(s.status, 0, s.stderr);
      const scoredConfig = JSON.parse(readFileSync(join(cwd, 'scored/config.json'), 'utf8'));
      assert.deepEqual([scoredConfig.evaluations.at(-1).command, scoredConfig.evaluations.at(-1).settings], ['score', []], 'config.json records the score that wrote into the folder');
      const evalRows = rows.filter((x) => x.retriever === retriever && x.scenario === scenario);
      const scored: typeof rows = JSON.parse(readFileSync(join(cwd, 'scored/metrics.json'), 'utf8')).filter((x: { retriever: string; scenario: string }) => x.retriever === retriever && x.scenario === scenario);
      assert.deepEqual(scored.map((x) => x.metric).sort(), evalRows.map((x) => x.metric).sort());
      for (const e of evalRows) {
        const v = scored.find((x) => x.metric === e.metric)!.value;
        assert.ok(Math.abs(v - e.value) < 1e-9, `score ${retriever} ${scenario} ${e.metric}: ${v}, eval ${e.value}`);
      }
      if (retriever !== 'bm25' || scenario !== 'mixed-target') continue;
      // the <lang>- convention gives the same numbers for these ids
      const byId = xlalign(['score', '--run', `out/runs/${retriever}/${scenario}.de.run`, '--qrels', `out/qrels/${scenario}.de.qrels`, '--lang-from-id', '--metrics', 'pivot_inclination,maxr'], cwd);
      assert.equal(byId.status, 0, byId.stderr);
      const pi = evalRows.find((x) => x.metric === 'pivot_inclination')!.value;
      assert.match(byId.stdout, new RegExp(`\\| pivot_inclination \\| ${Number.isInteger(pi) ? pi : pi.toFixed(4)} \\|`));
    }
  }
  assert.equal(compared, 4 * 5 - 2);
  assert.deepEqual(readdirSync(join(cwd, 'out/runs')).sort(), ['bm25', 'default']);
});

test('score without languages refuses pivot metrics and says how to give them', () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 3 });
  const cwd = mkdtempSync(join(tmpdir(), 'cli-score-'));
  assert.equal(xlalign(['eval', '--dataset', dir, '--retriever', 'bm25', '--scenarios', 'mixed', '--out', 'out'], cwd).status, 0);
  const r = xlalign(['score', '--run', 'out/runs/bm25/mixed.de.run', '--qrels', 'out/qrels/mixed.de.qrels', '--metrics', 'ndcg@10,pivot_inclination'], cwd);
  assert.equal(r.status, 2, 'an input error');
  assert.match(r.stderr, /metric 'pivot_inclination' needs each id's language: give --pool FILE .* or --lang-from-id/);
  const ok = xlalign(['score', '--run', 'out/runs/bm25/mixed.de.run', '--qrels', 'out/qrels/mixed.de.qrels'], cwd);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /\| ndcg@10 \| /);
  assert.doesNotMatch(ok.stdout, /pivot/);
});

test('eval refuses a dataset whose query lacks its pivot version before any work, naming file:line:field', () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 3 });
  appendFileSync(join(dir, 'docs.jsonl'), JSON.stringify({ id: 'only-de', lang: 'de', text: 'Nur auf Deutsch.', group: 'x' }) + '\n');
  appendFileSync(join(dir, 'queries.jsonl'), JSON.stringify({ id: 'q-only-de', lang: 'de', text: 'Was gibt es nur auf Deutsch?', relevant: ['only-de'] }) + '\n');
  const n = readFileSync(join(dir, 'queries.jsonl'), 'utf8').trim().split('\n').length;
  const cwd = mkdtempSync(join(tmpdir(), 'cli-own-bad-'));
  // mono needs no pivot version: fine
  assert.equal(xlalign(['eval', '--dataset', dir, '--retriever', 'bm25', '--scenarios', 'mono', '--langs', 'de', '--out', 'ok'], cwd).status, 0);
  const r = xlalign(['eval', '--dataset', dir, '--retriever', 'bm25', '--scenarios', 'mono,mixed', '--out', 'out'], cwd);
  assert.equal(r.status, 2, 'a dataset error is an input error');
  assert.match(r.stderr, new RegExp(`queries\\.jsonl:${n}: relevant\\[0\\]: document 'only-de' of query 'q-only-de' \\(de\\) has no 'en' version in the documents; scenario 'mixed' \\(pivot 'en'\\) needs it`));
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(!existsSync(join(cwd, 'out/metrics.json')) && !existsSync(join(cwd, 'out/runs')), 'nothing was evaluated');
});

test('own data with English as en-US and no meta.json: the pivot is en-US, cross and mixed are built; --pivot and --langs match any case', () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 3, rename: { en: 'en-US' }, meta: null });
  const cwd = mkdtempSync(join(tmpdir(), 'cli-own-enus-'));
  const r = xlalign(['eval', '--dataset', dir, '--retriever', 'bm25', '--langs', 'DE', '--scenarios', 'all', '--out', 'out'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(readFileSync(join(cwd, 'out/metrics.json'), 'utf8')) as { scenario: string; lang: string; queryLang: string; settings: string }[];
  assert.deepEqual([...new Set(rows.map((x) => x.scenario))].sort(), ['cross', 'mixed', 'mixed-pivot', 'mixed-target', 'mono', 'multi']);
  assert.ok(rows.every((x) => x.lang === 'de' && x.queryLang === 'de'));
  const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.equal(config.pivot, 'en-US');
  assert.equal(config.settings[rows[0].settings].pivot, 'en-US');
  const p = xlalign(['eval', '--dataset', dir, '--retriever', 'bm25', '--langs', 'de', '--pivot', 'EN-us', '--scenarios', 'cross', '--out', 'out2'], cwd);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(JSON.parse(readFileSync(join(cwd, 'out2/config.json'), 'utf8')).pivot, 'en-US');
});

test('a requested pool that cannot be built (--langs naming the pivot with cross) is an error before any work, unless --allow-partial, which lists and records it', () => {
  const { dir } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 3 });
  const cwd = mkdtempSync(join(tmpdir(), 'cli-own-partial-'));
  const args = ['eval', '--dataset', dir, '--retriever', 'bm25', '--langs', 'de,en', '--scenarios', 'mono,cross'];
  const r = xlalign([...args, '--out', 'out'], cwd);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /cannot build cross en: 'en' is the pivot; cross pairs a language with the pivot; drop 'en' from --langs, choose another --pivot, or pass --allow-partial/);
  assert.ok(!existsSync(join(cwd, 'out/metrics.json')), 'nothing was evaluated');
  const p = xlalign([...args, '--out', 'out', '--allow-partial'], cwd);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stderr, /not built \(--allow-partial\): cross en \('en' is the pivot/);
  const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.deepEqual(config.evaluations.at(-1).missing, [{ scenario: 'cross', lang: 'en', reason: "'en' is the pivot; cross pairs a language with the pivot" }]);
  const rows = JSON.parse(readFileSync(join(cwd, 'out/metrics.json'), 'utf8')) as { scenario: string; lang: string }[];
  assert.deepEqual([...new Set(rows.map((x) => `${x.scenario} ${x.lang}`))].sort(), ['cross de', 'mono de', 'mono en']);
});

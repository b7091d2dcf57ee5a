import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { markdownTables, writeMetricRows } from '../../lib/results/metric-rows.js';
import { runEvaluation } from '../../lib/eval/run-evaluation.js';
import { evaluate } from '../../lib/metrics/evaluate.js';
import { readQrels, readRun } from '../../lib/runs/trec-io.js';
import { buildPool } from '../../lib/pools/build-pool.js';
import { poolLanguages } from '../../lib/pools/types.js';
import { DenseRetriever } from '../../lib/retrieve/dense-retriever.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

const corpus = xquadCorpus(['de', 'en']);

test('runEvaluation on real XQuAD with a dense model: rows, TREC files, exclusions, cached re-run', async () => {
  const { dir } = writeTinyModel({ dim: 16, seed: 3 });
  const embedder = await loadEmbedder(dir, { cache: false });
  const retriever = new DenseRetriever(embedder, { name: 'tiny' });
  const out = mkdtempSync(join(tmpdir(), 'eval-'));
  const seen: boolean[] = [];
  const first = await runEvaluation(corpus, retriever, { scenarios: ['mixed', 'mixed-target'], langs: ['de'], out, onPool: (_p, _r, _s, cached) => seen.push(cached) });
  assert.deepEqual(seen, [false, false]);
  // the TREC files hold the whole pool minus exclusions, and re-evaluate to the same numbers
  const pool = buildPool(corpus, { scenario: 'mixed-target', lang: 'de' });
  const run = readRun(join(out, 'runs', 'tiny', 'mixed-target.de.run'));
  const qrels = readQrels(join(out, 'qrels', 'mixed-target.de.qrels'));
  assert.deepEqual(qrels, pool.qrels);
  assert.equal(Object.keys(run).length, 1190);
  for (const q of pool.queries) {
    assert.equal(run[q.id].ids.length, 479, 'every document but the excluded one');
    assert.ok(!run[q.id].ids.includes(pool.exclude[q.id][0]), 'an excluded document appears in the run');
  }
  const fromFile = evaluate(qrels, run, ['ndcg@10', 'ap', 'maxr', 'pivot_inclination'], { languages: poolLanguages(pool) });
  for (const m of ['ndcg@10', 'ap', 'maxr', 'pivot_inclination']) {
    const row = first.rows.find((r) => r.scenario === 'mixed-target' && r.metric === m)!;
    assert.ok(Math.abs(row.value - fromFile.mean[m]) < 1e-9, `${m}: ${row.value} vs ${fromFile.mean[m]} from the files`);
  }
  // metrics undefined for a scenario are left out; defined ones are there
  assert.ok(first.rows.some((r) => r.metric === 'pivot_inclination'));
  // a second run reuses every finished pool and gives the same rows
  seen.length = 0;
  const second = await runEvaluation(corpus, retriever, { scenarios: ['mixed', 'mixed-target'], langs: ['de'], out, onPool: (_p, _r, _s, cached) => seen.push(cached) });
  assert.deepEqual(seen, [true, true]);
  assert.deepEqual(second.rows, first.rows);
  // another model (other weights, same name) does not hit that cache
  const { dir: dir2 } = writeTinyModel({ dim: 16, seed: 4 });
  const other = new DenseRetriever(await loadEmbedder(dir2, { cache: false }), { name: 'tiny' });
  seen.length = 0;
  await runEvaluation(corpus, other, { scenarios: ['mixed'], langs: ['de'], out, onPool: (_p, _r, _s, cached) => seen.push(cached) });
  assert.deepEqual(seen, [false]);
  await embedder.dispose();
  await other.embedder.dispose();

  writeMetricRows(out, first.rows);
  const json = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.deepEqual(json, first.rows);
  const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'dataset,retriever,scenario,lang,queryLang,metric,value,settings');
  assert.equal(csv.length, first.rows.length + 1);
  // every row points to the settings record the evaluation returns
  assert.ok(first.rows.every((r) => r.settings === first.settingsId), 'rows carry the settings id');
  assert.match(first.settingsId, /^[0-9a-f]{12}$/);
  assert.equal(first.settings.pivot, 'en');
  assert.equal(first.settings.retriever.name, 'tiny');
  assert.equal(first.settings.retriever.modelId, embedder.id);
  assert.deepEqual(Object.keys(first.settings.dataset.langHashes).sort(), corpus.langs.slice().sort());
  assert.ok(csv.slice(1).every((l) => l.endsWith(`,${first.settingsId}`)));
  const md = markdownTables(first.rows);
  assert.match(md, /### xquad · tiny · mixed-target/);
  assert.match(md, /\| de \| /);
  assert.ok(existsSync(join(out, 'qrels', 'mixed.de.qrels')));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataPath } from '../../lib/util/fs.js';
import { assembleCorpus } from '../../lib/models/static/corpus.js';
import { staticTrainingData } from '../../lib/train/static/build.js';
import { lineRanges, parseLineRanges, readModelTrainingData, TRAINING_DATA_FORMAT } from '../../lib/data/training-data.js';
import { loadTatoeba } from '../../lib/data/tatoeba.js';
import { xquadCorpus, type ParallelCorpus } from '../../lib/data/parallel.js';
import { splitCorpus, splitXquadArticles } from '../../lib/data/split.js';
import { heldOutPart, overlapWarnings, trainingRecords } from '../../lib/eval/leakage.js';
import { AlignmentAdapter, saveAdapter } from '../../lib/train/adapter.js';

const MODEL = dataPath('models', 'xlalign-static-v1');
const TSX = resolve('node_modules/.bin/tsx');
const MAIN = resolve('lib/cli/main.ts');
const xlalign = (args: string[], cwd: string) => spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

test('the default model records its training data down to the Tatoeba lines, as its build assembled it', () => {
  const info = JSON.parse(readFileSync(join(MODEL, 'build-info.json'), 'utf8')) as { heldOut: number; counts: Record<string, Record<string, number>> };
  const record = readModelTrainingData(MODEL)!;
  assert.equal(record.format, TRAINING_DATA_FORMAT);
  assert.deepEqual(record, staticTrainingData(assembleCorpus({ heldOut: info.heldOut })), 'the committed record is what the build assembles');
  const tatoeba = record.datasets.find((d) => d.name === 'tatoeba')!;
  assert.deepEqual(tatoeba.pairs, info.counts.tatoeba);
  const de = tatoeba.files!.find((f) => f.lang === 'de')!;
  assert.equal(de.path, 'tatoeba/tatoeba.deu-eng.deu');
  assert.equal(de.lines, '1-800');
  assert.equal(de.count, info.counts.tatoeba.de);
  assert.deepEqual(record.datasets.map((d) => d.name), ['tatoeba', 'cldr-annotations', 'cldr-names', 'udhr']);
  assert.equal(lineRanges([5, 1, 2, 3, 3, 9, 10]), '1-3,5,9-10');
  assert.deepEqual(parseLineRanges('1-3,5,9-10'), [1, 2, 3, 5, 9, 10]);
});

/** A two-language corpus of Tatoeba lines [from, to) (0-based), German queries and English documents. */
function tatoebaCorpus(from: number, to: number): ParallelCorpus {
  const pairs = loadTatoeba('deu').slice(from, to);
  return {
    name: 'tatoeba-de',
    langs: ['de', 'en'],
    docs: { de: pairs.map((p) => ({ id: p.id, text: p.text })), en: pairs.map((p) => ({ id: p.id, text: p.en })) },
    queries: { de: pairs.map((p) => ({ id: p.id, text: p.text, docId: p.id })), en: pairs.map((p) => ({ id: p.id, text: p.en, docId: p.id })) },
  };
}

test('an evaluation on Tatoeba lines the default model was trained on warns; held-out lines and XQuAD do not', () => {
  const trained = trainingRecords({ model: 'default', modelDir: MODEL });
  assert.equal(trained.length, 1);
  const w = overlapWarnings(tatoebaCorpus(0, 150), trained);
  assert.equal(w.length, 1);
  // 150 pairs, each text twice (document and query) in both languages; Tatoeba repeats a few English lines, all within 1-800
  assert.match(w[0], /^warning: 600 of 600 texts of 'tatoeba-de' \(de 300, en 300\) are among the tatoeba lines default was trained on/);
  assert.deepEqual(overlapWarnings(tatoebaCorpus(800, 950), trained).filter((x) => /de \d+/.test(x)), [], 'held-out German lines 801-950 are not flagged');
  assert.deepEqual(overlapWarnings(xquadCorpus(['de', 'en']), trained), []);
});

test('eval of an adapter trained on XQuAD articles scores the held-out articles by default; --include-train scores all and says so', () => {
  const split = splitXquadArticles();
  const cwd = mkdtempSync(join(tmpdir(), 'xlalign-leak-'));
  mkdirSync(join(cwd, 'a'));
  const adapter = AlignmentAdapter.create(368);
  adapter.training = { trainingData: { format: TRAINING_DATA_FORMAT, datasets: [{ name: 'xquad', grouping: 'article', splitSeed: split.seed, trainGroups: split.train, evalGroups: split.eval }] } };
  saveAdapter(join(cwd, 'a', 'adapter.safetensors'), adapter);
  const args = ['eval', '--dataset', 'xquad', '--retriever', 'bm25,default', '--adapter', 'a/adapter.safetensors', '--langs', 'de', '--scenarios', 'mixed', '--metrics', 'ndcg@10'];
  const r = xlalign([...args, '--out', 'held'], cwd);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /was trained on 24 articles of 'xquad' \(.*adapter\.safetensors \(metadata\)\): evaluating the 24 held-out ones as 'xquad-eval'/);
  const queries = (s: string) => [...s.matchAll(/mixed de: (\d+) queries/g)].map((m) => Number(m[1]));
  const heldQueries = splitCorpus(xquadCorpus(['de', 'en']), split, 'eval').queries.de.length;
  assert.ok(heldQueries > 0 && heldQueries < 1190);
  assert.deepEqual(queries(r.stderr), [heldQueries, heldQueries], 'both retrievers on the same held-out pool');
  const config = JSON.parse(readFileSync(join(cwd, 'held', 'config.json'), 'utf8'));
  const rows = JSON.parse(readFileSync(join(cwd, 'held', 'metrics.json'), 'utf8')) as { dataset: string; settings: string }[];
  assert.ok(rows.every((x) => x.dataset === 'xquad-eval'));
  for (const id of new Set(rows.map((x) => x.settings))) {
    assert.equal(config.settings[id].split.part, 'held-out');
    assert.deepEqual(config.settings[id].split.groups, split.eval.map(String));
  }
  const all = xlalign([...args, '--include-train', '--out', 'all'], cwd);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stderr, /warning: --include-train: evaluating all of 'xquad', including the 24 articles/);
  assert.deepEqual(queries(all.stderr), [1190, 1190]);
  const allConfig = JSON.parse(readFileSync(join(cwd, 'all', 'config.json'), 'utf8'));
  const s = Object.values(allConfig.settings) as { split: { part: string; note?: string } }[];
  assert.ok(s.every((x) => x.split.part === 'all' && /--include-train/.test(x.split.note!)));
});

test('heldOutPart: no record for the dataset leaves it whole; an unknown grouping is refused', () => {
  const corpus = xquadCorpus(['de', 'en']);
  assert.equal(heldOutPart(corpus, []).corpus, corpus);
  const rec = { retriever: 'x', from: 'x/training-data.json', record: { format: TRAINING_DATA_FORMAT, datasets: [{ name: 'xquad', grouping: 'topic', trainGroups: ['a'], evalGroups: ['b'] }] } } as const;
  assert.throws(() => heldOutPart(corpus, [rec as never]), /splits 'xquad' by topic, which eval cannot rebuild/);
  assert.equal(heldOutPart(corpus, [rec as never], { includeTrain: true }).split.part, 'all');
});

test('xlalign eval of the default model on own data made of its Tatoeba training lines warns and records the warning in config.json', () => {
  const pairs = loadTatoeba('deu').slice(0, 20);
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-tatoeba-'));
  const docs = pairs.flatMap((p) => [{ id: `t${p.id}`, lang: 'de', text: p.text }, { id: `t${p.id}`, lang: 'en', text: p.en }]);
  const queries = pairs.flatMap((p) => [{ id: `q${p.id}`, lang: 'de', text: p.text, relevant: [`t${p.id}`] }, { id: `q${p.id}`, lang: 'en', text: p.en, relevant: [`t${p.id}`] }]);
  writeFileSync(join(dir, 'docs.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  writeFileSync(join(dir, 'queries.jsonl'), queries.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const cwd = mkdtempSync(join(tmpdir(), 'xlalign-tatoeba-out-'));
  const r = xlalign(['eval', '--dataset', dir, '--retriever', 'default', '--scenarios', 'cross', '--out', 'out'], cwd);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: 80 of 80 texts of '.*' \(de 40, en 40\) are among the tatoeba lines default was trained on/);
  const config = JSON.parse(readFileSync(join(cwd, 'out', 'config.json'), 'utf8'));
  assert.match(config.evaluations[0].warnings[0], /among the tatoeba lines default was trained on/);
});

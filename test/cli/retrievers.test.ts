import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadJsonlDataset } from '../../lib/data/jsonl-dataset.js';
import { runEvaluation } from '../../lib/eval/run-evaluation.js';
import { resolveRetriever, retrieverKey, retrieverNames } from '../../lib/retrieve/resolve-retriever.js';
import { AlignmentAdapter, loadAdapter, saveAdapter } from '../../lib/train/adapter.js';
import { createRng } from '../../lib/util/rng.js';
import { writeOwnDataset } from '../fixtures/own-dataset.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');
function xlalign(args: string[], cwd: string) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('retrieverNames: readable, unique, path-derived on collision, avoiding names taken in the folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'names-'));
  for (const d of ['a/model', 'b/model', 'x/a/model', 'run1', 'run2']) mkdirSync(join(root, d), { recursive: true });
  const p = (d: string) => join(root, d);
  assert.deepEqual(retrieverNames([{ model: 'bm25' }, { model: 'default' }, { model: 'Xenova/multilingual-e5-small' }, { model: p('a/model') }]), ['bm25', 'default', 'Xenova/multilingual-e5-small', 'model']);
  assert.deepEqual(retrieverNames([{ model: p('a/model') }, { model: p('b/model') }]), ['a/model', 'b/model']);
  const [n1, n2] = retrieverNames([{ model: p('a/model') }, { model: p('x/a/model') }]);
  assert.notEqual(n1, n2);
  assert.ok(n1.endsWith('/a/model') && n2 === 'x/a/model', `${n1} ${n2}`);
  // the same folder twice is one retriever, one name
  assert.deepEqual(retrieverNames([{ model: p('a/model') }, { model: join(p('a'), '..', 'a', 'model') }]), ['model', 'model']);
  // adapters
  assert.deepEqual(retrieverNames([{ model: 'default', adapter: join(p('run1'), 'adapter.safetensors') }]), ['default+adapter']);
  assert.deepEqual(retrieverNames([{ model: 'default', adapter: join(p('run1'), 'adapter.safetensors') }, { model: 'default', adapter: join(p('run2'), 'adapter.safetensors') }]), ['default+run1/adapter', 'default+run2/adapter']);
  // names already used in the output folder by another retriever
  const taken = new Map([['model', retrieverKey({ model: p('a/model') })]]);
  assert.deepEqual(retrieverNames([{ model: p('b/model') }], taken), ['b/model']);
  assert.deepEqual(retrieverNames([{ model: p('a/model') }], taken), ['model'], 'the same retriever keeps its name (its rows are replaced)');
  assert.deepEqual(retrieverNames([{ model: 'bm25', name: 'mine' }]), ['mine']);
  assert.throws(() => retrieverNames([{ model: 'bm25', name: 'x' }, { model: 'default', name: 'x' }]), /name 'x' is already used by another retriever/);
});

test('eval: two model folders with one basename get path-derived names and separate run files, across evals too', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-names-'));
  const { dir: data } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 4 });
  const { dir: tiny } = writeTinyModel({ dim: 8 });
  for (const d of ['a', 'b', 'c', 'd']) cpSync(tiny, join(cwd, d, 'model'), { recursive: true });
  const common = ['--dataset', data, '--scenarios', 'mono', '--langs', 'de', '--no-cache', '--out', 'out'];
  let r = xlalign(['eval', '--retriever', 'a/model,b/model', ...common], cwd);
  assert.equal(r.status, 0, r.stderr);
  r = xlalign(['eval', '--retriever', 'c/model', ...common], cwd);
  assert.equal(r.status, 0, r.stderr);
  r = xlalign(['eval', '--retriever', 'd/model', ...common], cwd);
  assert.equal(r.status, 0, r.stderr);
  r = xlalign(['eval', '--retriever', 'bm25', '--name', 'words', ...common], cwd);
  assert.equal(r.status, 0, r.stderr);
  const rows: { retriever: string }[] = JSON.parse(readFileSync(join(cwd, 'out/metrics.json'), 'utf8'));
  assert.deepEqual([...new Set(rows.map((x) => x.retriever))], ['a/model', 'b/model', 'model', 'd/model', 'words']);
  assert.deepEqual(readdirSync(join(cwd, 'out/runs')).sort(), ['a_model', 'b_model', 'd_model', 'model', 'words']);
  const registry = JSON.parse(readFileSync(join(cwd, 'out/retrievers.json'), 'utf8'));
  assert.equal(registry['d/model'].model, 'd/model');
  assert.equal(registry.model.key, resolve(cwd, 'c/model'));
});

test('eval --adapter: applied by the embedder, named and recorded; equal to the API path', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-adapter-'));
  const { dir: data } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 6 });
  const dim = 368;
  const rng = createRng(5);
  const delta = new Float32Array(dim * dim);
  for (let i = 0; i < delta.length; i++) delta[i] = rng.normal() * 0.2;
  const file = join(cwd, 'rot.safetensors');
  saveAdapter(file, new AlignmentAdapter(dim, { delta }));
  const r = xlalign(['eval', '--dataset', data, '--retriever', 'default', '--adapter', 'rot.safetensors', '--scenarios', 'mixed-target', '--no-cache', '--out', 'out'], cwd);
  assert.equal(r.status, 0, r.stderr);
  const rows: { retriever: string; metric: string; value: number }[] = JSON.parse(readFileSync(join(cwd, 'out/metrics.json'), 'utf8'));
  assert.ok(rows.every((x) => x.retriever === 'default+rot'));
  const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
  assert.equal(config.retrievers[0].name, 'default+rot');
  assert.equal(config.retrievers[0].adapter, file);
  // the API: resolveRetriever with the loaded adapter gives the same name and numbers
  const corpus = loadJsonlDataset(data);
  const api = await resolveRetriever('default', { embed: { adapter: loadAdapter(file), cache: false }, adapterPath: file });
  assert.equal(api.name, 'default+rot');
  const res = await runEvaluation(corpus, api, { scenarios: ['mixed-target'], langs: ['de'], pivot: 'en' });
  for (const row of res.rows) assert.equal(rows.find((x) => x.metric === row.metric)!.value, row.value, row.metric);
  // and the adapter changes the numbers
  const plain = await resolveRetriever('default', { embed: { cache: false } });
  const base = await runEvaluation(corpus, plain, { scenarios: ['mixed-target'], langs: ['de'], pivot: 'en' });
  assert.ok(base.rows.some((b) => b.value !== res.rows.find((x) => x.metric === b.metric)!.value));
});

test('eval prints and records the preset of a known model, unless the user overrides it', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-preset-'));
  const { dir: data } = writeOwnDataset({ langs: ['de', 'en'], paragraphs: 3 });
  const { dir: tiny } = writeTinyModel({ dim: 8 });
  cpSync(tiny, join(cwd, 'multilingual-e5-small'), { recursive: true });
  const common = ['--dataset', data, '--retriever', 'multilingual-e5-small', '--scenarios', 'mono', '--langs', 'de', '--no-cache'];
  let r = xlalign(['eval', ...common, '--out', 'o1'], cwd);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /multilingual-e5-small: preset multilingual-e5 \(pooling "mean", queryPrefix "query: ", passagePrefix "passage: "\)/);
  let c = JSON.parse(readFileSync(join(cwd, 'o1/config.json'), 'utf8')).retrievers[0];
  assert.equal(c.preset, 'multilingual-e5');
  assert.equal(c.embed.queryPrefix, 'query: ');
  assert.equal(c.embed.passagePrefix, 'passage: ');
  r = xlalign(['eval', ...common, '--pooling', 'cls', '--query-prefix', '', '--out', 'o2'], cwd);
  assert.equal(r.status, 0, r.stderr);
  c = JSON.parse(readFileSync(join(cwd, 'o2/config.json'), 'utf8')).retrievers[0];
  assert.deepEqual(c.presetApplied, { passagePrefix: 'passage: ' });
  assert.equal(c.embed.pooling, 'cls');
  assert.equal(c.embed.queryPrefix, '');
});

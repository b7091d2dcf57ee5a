/**
 * `xlalign train` on a researcher's own dataset folder (examples/own-dataset: 4 documents in
 * two groups, en + de, one query whose relevant documents span both groups), with queries in
 * the target and the pivot language: the split keeps groups whole and drops the query that
 * would leak, and before/after rows carry the query language without mixing pools.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');

test('train --dataset <folder> --query-langs target,pivot: group split, leaking query dropped, rows per query language', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'xl-own-train-')), 'out');
  const r = spawnSync(TSX, [MAIN, 'train', '--dataset', 'examples/own-dataset', '--head', 'adapter', '--samples', '2', '--query-langs', 'target,pivot', '--resamples', '50', '--out', out], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(r.status, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.grouping, 'group');
  assert.deepEqual([...config.trainGroups, ...config.evalGroups].sort(), ['cities', 'rivers']);
  // the train samples come from the train group only
  const samples = readFileSync(join(out, 'train-samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const trainDocs = config.trainGroups[0] === 'rivers' ? ['d1', 'd2'] : ['d3', 'd4'];
  for (const s of samples) assert.ok(trainDocs.includes(s.docId), `sample of ${s.docId} outside the train group`);
  // q4's relevant documents (d4, d2) span both groups: it is in neither part
  assert.ok(!samples.some((s) => s.id === 'q4'));
  const rows: { scenario: string; lang: string; queryLang?: string; metric: string; before: number; after: number }[] = JSON.parse(readFileSync(join(out, 'before-after.json'), 'utf8'));
  const views = new Set(rows.map((x) => `${x.scenario}/${x.queryLang ?? x.lang}`));
  for (const v of ['mixed/de', 'mixed/en', 'mixed-target/de', 'mixed-target/en', 'cross/en', 'mono/de']) assert.ok(views.has(v), `no before-after rows for ${v}: ${[...views]}`);
  // each before value equals the metrics.json row of the same pool and query language
  const metrics: { retriever: string; scenario: string; lang: string; queryLang?: string; metric: string; value: number }[] = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  const baseName = metrics[0].retriever;
  for (const x of rows) {
    const m = metrics.find((y) => y.retriever === baseName && y.scenario === x.scenario && y.lang === x.lang && (y.queryLang ?? y.lang) === (x.queryLang ?? x.lang) && y.metric === x.metric);
    assert.ok(m, `no metrics.json row for ${x.scenario} ${x.lang} ${x.queryLang} ${x.metric}`);
    assert.equal(m.value, x.before);
  }
  assert.match(readFileSync(join(out, 'deltas.md'), 'utf8'), /#### mixed \(en queries\) · maxr/);
});

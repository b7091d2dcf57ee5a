/**
 * `xlalign train --dataset belebele` from Belebele's own files: the registry gives its pivot
 * (eng_Latn), its languages (the dialect files of --belebele-dir), its grouping (passages)
 * and split; before, the command fell back to XQuAD's languages and rejected eng_Latn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeBelebeleFormat } from '../fixtures/belebele-format.js';
import { belebeleCorpus } from '../../lib/data/parallel.js';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');
const xlalign = (args: string[], cwd: string) => spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

test('train --dataset belebele --belebele-dir: pivot eng_Latn, passage split, samples from train passages only, rows for deu_Latn', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'xl-bb-train-'));
  try {
    const dir = join(cwd, 'belebele');
    writeBelebeleFormat(dir, 24);
    const r = xlalign(['train', '--dataset', 'belebele', '--belebele-dir', dir, '--head', 'adapter', '--samples', '40', '--epochs', '1', '--train-batch-size', '8', '--scenarios', 'mixed,mono', '--resamples', '50', '--no-cache', '--out', 'out'], cwd);
    assert.equal(r.status, 0, r.stderr);
    const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
    assert.equal(config.dataset, 'belebele');
    assert.equal(config.pivot, 'eng_Latn');
    assert.equal(config.grouping, 'passage');
    assert.equal(config.trainGroups.length, 12);
    assert.equal(config.evalGroups.length, 12);
    // every sample's passage is a train passage, and its texts are the files' texts
    const corpus = await belebeleCorpus({ eng_Latn: 'eng_Latn', deu_Latn: 'deu_Latn' }, { dir, download: false });
    const passage = new Map(corpus.docs.deu_Latn.map((d) => [d.id, d.text]));
    const samples = readFileSync(join(cwd, 'out/train-samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(samples.length, 40);
    for (const s of samples) {
      assert.equal(s.lang, 'deu_Latn');
      assert.ok(config.trainGroups.includes(s.docId), `${s.docId} is not a train passage`);
      assert.equal(s.docTarget, passage.get(s.docId));
    }
    const rows: { scenario: string; lang: string }[] = JSON.parse(readFileSync(join(cwd, 'out/before-after.json'), 'utf8'));
    assert.ok(rows.some((x) => x.scenario === 'mixed' && x.lang === 'deu_Latn'));
    assert.ok(rows.some((x) => x.scenario === 'mono' && x.lang === 'eng_Latn'));
    assert.match(readFileSync(join(cwd, 'out/deltas.md'), 'utf8'), /on the Belebele eval passages \(12 of 24\)/);

    // a pivot that is not among the dialect files: a usage error before any work
    const bad = xlalign(['train', '--dataset', 'belebele', '--belebele-dir', dir, '--pivot', 'fra_Latn', '--out', 'out2'], cwd);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--pivot: 'fra_Latn' is not a language of this dataset.*deu_Latn, eng_Latn/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('--head model is a deprecated alias of --head static: a note, and the static head trains', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'xl-head-alias-'));
  try {
    const r = xlalign(['train', '--head', 'model', '--samples', '32', '--epochs', '1', '--langs', 'de', '--scenarios', 'mono', '--resamples', '20', '--no-cache', '--out', 'out'], cwd);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/note: --head model is deprecated: it is called 'static' now/g)?.length, 1);
    const config = JSON.parse(readFileSync(join(cwd, 'out/config.json'), 'utf8'));
    assert.equal(config.head, 'static');
    assert.equal(config.loop.head, 'StaticParallelHead');
    assert.equal(config.loop.weightDecay, 0);
    assert.ok(existsSync(join(cwd, 'out/model/onnx/model.onnx')));
    const bad = xlalign(['train', '--head', 'model', '--retriever', 'Xenova/multilingual-e5-small', '--out', 'out2'], cwd);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /the static head fine-tunes a static embedding model's table, but 'Xenova\/multilingual-e5-small' is a hub model/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

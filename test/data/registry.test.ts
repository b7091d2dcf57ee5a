import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { datasetLanguages, DATASETS, groupingOf, loadTrainingData, resolveDataset } from '../../lib/data/registry.js';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { splitXquadArticles } from '../../lib/data/split.js';
import { XQUAD_ARTICLES } from '../../lib/data/xquad.js';
import { writeBelebeleFormat } from '../fixtures/belebele-format.js';

test('XQuAD through the registry: its 12 languages, pivot en, the 24/24 article split of splitXquadArticles', async () => {
  const d = await loadTrainingData('xquad', { pivot: 'en' });
  assert.equal(d.corpus.langs.length, 12);
  assert.equal(d.grouping, XQUAD_ARTICLES);
  assert.equal(d.title, 'XQuAD');
  const ref = splitXquadArticles();
  assert.deepEqual({ train: d.split.train, eval: d.split.eval, seed: d.split.seed }, { train: ref.train, eval: ref.eval, seed: ref.seed });
  assert.deepEqual((await loadTrainingData('xquad', { pivot: 'en', splitSeed: 7 })).split.train, splitXquadArticles({ seed: 7 }).train);
  // a corpus in memory named xquad gets the registered grouping too
  assert.equal(groupingOf(xquadCorpus(['en', 'de'])), XQUAD_ARTICLES);
  await assert.rejects(loadTrainingData('xquad', { pivot: 'eng_Latn' }), /pivot 'eng_Latn' is not a language of dataset 'xquad'/);
});

test('Belebele through the registry: languages from the dialect files, pivot eng_Latn, grouped by passage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xl-bb-reg-'));
  try {
    const entry = resolveDataset('belebele');
    assert.equal(entry.languages, undefined);
    assert.equal(datasetLanguages(entry, { belebeleDir: join(dir, 'none') }), undefined);
    assert.deepEqual(datasetLanguages(entry, { belebeleDir: resolve('test/fixtures/belebele') }), ['deu_Latn', 'eng_Latn']);
    writeBelebeleFormat(dir, 10);
    const d = await loadTrainingData('belebele', { pivot: DATASETS.belebele.defaultPivot, belebeleDir: dir });
    assert.deepEqual(d.corpus.langs, ['deu_Latn', 'eng_Latn']);
    assert.equal(d.grouping.name, 'passage');
    assert.equal(d.split.train.length + d.split.eval.length, 10);
    // parallel passages share an id, so a passage is on one side in both dialects
    const train = new Set(d.split.train);
    for (const l of d.corpus.langs) assert.equal(d.corpus.docs[l].filter((x) => train.has(x.id)).length, 5);
    await assert.rejects(loadTrainingData('belebele', { pivot: 'eng_Latn', belebeleDir: join(dir, 'none') }), /name at least one language besides the pivot 'eng_Latn'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every file of a results folder has its schema, writer and reader in lib/results: round trips and errors naming file and field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ablationMarkdown, readAblation, writeAblation, type AblationEntry } from '../../lib/results/ablation.js';
import { readBeforeAfterMeans, writeBeforeAfterMeans } from '../../lib/results/before-after.js';
import { readTrainingRecord, writeTrainingRecord } from '../../lib/results/training-record.js';
import { readPoolLanguages, writePoolLanguages } from '../../lib/results/pool-langs.js';
import { readRetrieverRegistry, registerRetrievers } from '../../lib/results/retrievers.js';
import { checkFolderSettings, readResultsConfig, recordEvaluation, recordSettings } from '../../lib/results/config.js';
import { settingsConflict, settingsId, type EvalSettings } from '../../lib/results/settings.js';
import { toCSV, toMarkdown } from '../../lib/results/table-format.js';

const dir = () => mkdtempSync(join(tmpdir(), 'xlalign-owners-'));
const mean = { scenario: 'mixed', metric: 'maxr', langs: ['de', 'es'], before: 3, after: 2, delta: -1, deltaLow: -1.5, deltaHigh: -0.5, queries: 20 };

test('ablation.json and ablation.md: written, read back, the summary table from toMarkdown', () => {
  const d = dir();
  const entries: AblationEntry[] = [
    { variant: 'study', name: 'default+adapter', trainSeconds: 1.5, lossParts: { lastEpoch: { loss: 0.5, nce: 0.4 } }, means: [mean], deltas: [{ scenario: 'mixed', lang: 'de', metric: 'maxr', before: 3, after: 2, delta: -1 }] },
    { variant: 'jsd', name: 'default+adapter(jsd)', trainSeconds: 2, lossParts: {}, means: [{ ...mean, delta: 0.25, deltaLow: undefined, deltaHigh: undefined }], deltas: [] },
  ];
  const md = ablationMarkdown(entries, '## t');
  assert.match(md, /\| scenario \| metric \| before \| Δ study \| Δ jsd \|\n\|---\|---\|---:\|---:\|---:\|\n\| mixed \| maxr \| 3\.000 \| -1\.000 \[-1\.500, -0\.500\] \| \+0\.250 \|/);
  writeAblation(d, entries, md);
  assert.equal(readFileSync(join(d, 'ablation.md'), 'utf8'), md);
  assert.deepEqual(readAblation(d).map((e) => [e.variant, e.means[0].delta]), [['study', -1], ['jsd', 0.25]]);
  writeFileSync(join(d, 'ablation.json'), JSON.stringify([{ variant: 'x', name: 'n', trainSeconds: 'fast' }]));
  assert.throws(() => readAblation(d), /ablation\.json: \[0\]\.trainSeconds: /);
});

test('before-after-mean.json, training.json, langs.tsv, retrievers.json: round trips and named errors', async () => {
  const d = dir();
  writeBeforeAfterMeans(join(d, 'm.json'), [mean]);
  assert.deepEqual(readBeforeAfterMeans(join(d, 'm.json')), [mean]);
  writeFileSync(join(d, 'm.json'), JSON.stringify([{ ...mean, langs: 'de' }]));
  assert.throws(() => readBeforeAfterMeans(join(d, 'm.json')), /m\.json: rows\[0\]\.langs: /);
  writeTrainingRecord(join(d, 'training.json'), { seconds: 3.5, samples: 10, lr: 0.001 });
  assert.deepEqual(readTrainingRecord(join(d, 'training.json')), { seconds: 3.5, samples: 10, lr: 0.001 });
  assert.throws(() => writeTrainingRecord(join(d, 't2.json'), { samples: 3 }), /t2\.json: seconds: /);
  writePoolLanguages(join(d, 'p.langs.tsv'), { queries: [{ id: 'de-q1', lang: 'de' }], docs: [{ id: 'en-d1', lang: 'en' }] });
  assert.equal(readFileSync(join(d, 'p.langs.tsv'), 'utf8'), 'de-q1\tde\nen-d1\ten\n');
  assert.deepEqual([...readPoolLanguages(join(d, 'p.langs.tsv'))], [['de-q1', 'de'], ['en-d1', 'en']]);
  const names = await registerRetrievers(d, (taken) => (taken.size ? [] : [['bm25', { key: 'bm25', model: 'bm25', dataset: 'xquad' }]]));
  assert.deepEqual(names, ['bm25']);
  assert.deepEqual(readRetrieverRegistry(d), { bm25: { key: 'bm25', model: 'bm25', dataset: 'xquad' } });
  writeFileSync(join(d, 'retrievers.json'), '[1]');
  assert.throws(() => readRetrieverRegistry(d), /retrievers\.json: not a retriever registry/);
});

test('toMarkdown and toCSV: alignment row, empty cells, CSV quoting', () => {
  assert.equal(toMarkdown(['lang', 'x'], [['de', '0.5'], ['mean', '']], ['left', 'right']), '| lang | x |\n|---|---:|\n| de | 0.5 |\n| mean | |');
  assert.equal(toCSV(['a', 'b'], [['x,"y"', 1.5], [undefined, 2]]), 'a,b\n"x,""y""",1.5\n,2\n');
});

const settings = (over: Partial<EvalSettings> = {}, retriever: Partial<EvalSettings['retriever']> = {}): EvalSettings => ({
  dataset: { name: 'xquad', source: 'xquad', langHashes: { de: 'a'.repeat(64), en: 'b'.repeat(64) } },
  pivot: 'en', docUnit: 'paragraph', split: { part: 'all' }, runDepth: 'all', ties: 'pessimistic', version: '0.1.0',
  retriever: { name: 'bm25', model: 'bm25', identity: 'bm25:{}', modelId: null, pooling: null, queryPrefix: null, passagePrefix: null, maxLength: null, adapter: null, ...retriever },
  ...over,
});

test('settings: ids ignore which languages were hashed; conflicts name the setting; config.json keeps every evaluation', async () => {
  const a = settings();
  assert.equal(settingsId(a), settingsId(settings({ dataset: { ...a.dataset, langHashes: { es: 'c'.repeat(64) } } })));
  assert.notEqual(settingsId(a), settingsId(settings({ pivot: 'es' })));
  assert.deepEqual(settingsConflict(a, settings({ docUnit: 'question' })), { setting: 'docUnit', existing: '"paragraph"', fresh: '"question"' });
  assert.equal(settingsConflict(a, settings({ dataset: { ...a.dataset, langHashes: { de: 'f'.repeat(64) } } }))?.setting, 'dataset content (de)');
  assert.equal(settingsConflict(a, settings({}, { name: 'default', maxLength: 8 })), undefined, 'another retriever name may have its own settings');
  assert.equal(settingsConflict(a, settings({}, { identity: 'bm25:{"k1":1}' }))?.setting, 'retriever.identity');
  assert.equal(settingsConflict(a, settings({ dataset: { ...a.dataset, name: 'other' }, pivot: 'es' })), undefined, 'other datasets do not conflict');
  const d = dir();
  await recordSettings(d, settingsId(a), a);
  await recordSettings(d, settingsId(a), settings({ dataset: { ...a.dataset, langHashes: { es: 'c'.repeat(64) } } }));
  assert.deepEqual(Object.keys(readResultsConfig(d).settings[settingsId(a)].dataset.langHashes).sort(), ['de', 'en', 'es']);
  await assert.rejects(recordSettings(d, 'x', settings({ pivot: 'es' })), /holds rows of dataset 'xquad' made with pivot "en" \(settings [0-9a-f]{12}\); this evaluation has pivot "es"/);
  assert.throws(() => checkFolderSettings(d, settings({ runDepth: 100 })), /holds rows of retriever 'bm25' on dataset 'xquad' made with runDepth "all" \(settings [0-9a-f]{12}\); this evaluation has runDepth 100/);
  checkFolderSettings(d, settings({ runDepth: 100 }, { name: 'bm25-depth' })); // another name: its own run files
  await recordEvaluation(d, { command: 'eval', pivot: 'en' }, { record: { command: 'eval', date: 'd1', settings: [settingsId(a)], rows: 4 } });
  await recordEvaluation(d, { command: 'eval', pivot: 'en', langs: ['es'] }, { record: { command: 'eval', date: 'd2', settings: [settingsId(a)], rows: 2 } });
  const c = readResultsConfig(d);
  assert.deepEqual(c.evaluations.map((e) => e.date), ['d1', 'd2']);
  assert.deepEqual(c.langs, ['es']);
  assert.equal(c.format, 'xlalign-results/1');
});

test('a folder of an older xlalign (rows without settings, config.json without format): its pivot is compared, its retrievers refused', async () => {
  const d = dir();
  writeFileSync(join(d, 'metrics.json'), JSON.stringify([{ dataset: 'xquad', retriever: 'bm25', scenario: 'mixed', lang: 'de', metric: 'maxr', value: 3 }]));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ command: 'eval', pivot: 'en', date: 'old' }));
  assert.throws(() => checkFolderSettings(d, settings()), /holds rows of retriever 'bm25' on dataset 'xquad' without a settings record/);
  checkFolderSettings(d, settings({}, { name: 'default' })); // same pivot and doc unit: another retriever may join
  assert.throws(() => checkFolderSettings(d, settings({ pivot: 'es' }, { name: 'default' })), /without a settings record, made with pivot "en"; this evaluation has pivot "es"/);
  assert.throws(() => checkFolderSettings(d, settings({ docUnit: 'question' }, { name: 'default' })), /made with docUnit "paragraph"; this evaluation has docUnit "question"/);
  checkFolderSettings(d, settings({ dataset: { name: 'other', source: 'x', langHashes: {} }, pivot: 'es' }));
});

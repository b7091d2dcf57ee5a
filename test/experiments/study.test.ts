/**
 * `xlalign study` end to end, offline: on the default (static) model and on a tiny
 * transformer twin (random weights, built here), and killed after a stage then resumed to
 * the same outputs as an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CHROMIUM } from '../../lib/plot/export.js';
import { writeTinyEncoder } from '../models/transformer/tiny-encoders.js';
import { writeBelebeleFormat } from '../fixtures/belebele-format.js';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');
const xlalign = (args: string[], cwd: string, env: Record<string, string> = {}) => spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });
const read = (cwd: string, f: string) => readFileSync(join(cwd, f), 'utf8');
const SMALL = ['--langs', 'de', '--scenarios', 'mono,mixed', '--samples', '64', '--resamples', '50', '--no-cache'];
const haveChromium = existsSync(process.env.XLALIGN_CHROMIUM ?? DEFAULT_CHROMIUM);

test('study on the default model: static head, before/after with target and English queries, paper tables, figures; killed after "before" and resumed to the same outputs', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'xl-study-'));
  try {
    // an uninterrupted run
    const figures = haveChromium ? ['--figure-formats', 'svg'] : ['--figure-formats', 'none'];
    const a = xlalign(['study', '--model', 'default', ...SMALL, ...figures, '--ablations', 'study-no-jsd', '--out', 'a'], cwd);
    assert.equal(a.status, 0, a.stderr);
    for (const stage of ['data', 'before', 'train', 'after', 'tables', 'ablations', ...(haveChromium ? ['figures'] : [])]) {
      assert.match(a.stderr, new RegExp(`study \\[\\d/\\d\\] ${stage}: done in`), `progress line of ${stage}`);
      assert.ok(existsSync(join(cwd, 'a/stages', `${stage}.json`)), `marker of ${stage}`);
    }
    const study = JSON.parse(read(cwd, 'a/study.json'));
    assert.equal(study.protocol.head.value, 'static');
    assert.equal(study.protocol.loss.value, 'study');
    assert.deepEqual(study.protocol.samples, { value: 64, source: 'flag' });
    assert.equal(study.protocol.temperature.source, 'study');
    assert.deepEqual(study.protocol.queryLangs.value, ['target', 'pivot']);
    const config = JSON.parse(read(cwd, 'a/config.json'));
    assert.equal(config.head, 'static');
    assert.equal(config.loss, 'study');
    assert.equal(config.loop.epochs, 3);
    // before/after rows for both query sides of mixed; the paper table has the base and the trained model
    const rows: { scenario: string; lang: string; queryLang?: string; metric: string; before: number; after: number }[] = JSON.parse(read(cwd, 'a/before-after.json'));
    assert.ok(rows.some((r) => r.scenario === 'mixed' && r.lang === 'de' && r.queryLang === 'en'));
    assert.ok(rows.some((r) => r.scenario === 'mixed' && r.lang === 'de' && (r.queryLang ?? 'de') === 'de'));
    const table = read(cwd, 'a/paper-table.md');
    assert.match(table, /\| default \| en-de \|/);
    assert.match(table, /\| default\+aligned \| en-de \|/);
    assert.equal(a.stdout, table);
    // the table's Query Tgt Max@R of the trained model is the after value of before-after.json
    const maxr = rows.find((r) => r.scenario === 'mixed' && r.metric === 'maxr' && (r.queryLang ?? 'de') === 'de')!;
    assert.match(table, new RegExp(`\\| default\\+aligned \\| en-de \\|(?: [^|]+ \\|){4} ${maxr.after.toFixed(2)} \\|`));
    if (haveChromium) assert.ok(existsSync(join(cwd, 'a/figures/before-after-mixed-maxr.svg')));
    // --ablations: the study's row is the main run, study-no-jsd trained and evaluated beside it
    const ablation = read(cwd, 'a/paper-ablation.md');
    assert.match(ablation, /\| before training \|/);
    assert.match(ablation, /\| study \|/);
    assert.match(ablation, /\| study-no-jsd \|/);
    assert.equal(JSON.parse(read(cwd, 'a/ablations/study-no-jsd/config.json')).loss, 'study-no-jsd');
    assert.notEqual(read(cwd, 'a/ablations/study-no-jsd/before-after.json'), read(cwd, 'a/before-after.json'));
    // killed inside the ablations stage after a variant finished: the variant is not trained again
    rmSync(join(cwd, 'a/stages/ablations.json'));
    rmSync(join(cwd, 'a/paper-ablation.md'));
    const a2 = xlalign(['study', '--model', 'default', ...SMALL, '--figure-formats', 'none', '--ablations', 'study-no-jsd', '--out', 'a'], cwd);
    assert.equal(a2.status, 0, a2.stderr);
    assert.match(a2.stderr, /study ablations: study-no-jsd: done earlier, skipped/);
    assert.equal(read(cwd, 'a/paper-ablation.md'), ablation);

    // a run stopped after 'before' (as a kill would leave it), then resumed
    const b1 = xlalign(['study', '--model', 'default', ...SMALL, '--figure-formats', 'none', '--out', 'b'], cwd, { XLALIGN_STUDY_STOP_AFTER: 'before' });
    assert.equal(b1.status, 0, b1.stderr);
    assert.match(b1.stderr, /stopped after stage 'before'/);
    assert.ok(existsSync(join(cwd, 'b/stages/before.json')) && !existsSync(join(cwd, 'b/stages/train.json')));
    assert.ok(!existsSync(join(cwd, 'b/paper-table.md')));
    const b2 = xlalign(['study', '--model', 'default', ...SMALL, '--figure-formats', 'none', '--out', 'b'], cwd);
    assert.equal(b2.status, 0, b2.stderr);
    assert.match(b2.stderr, /data: done earlier \(2 outputs verified\), skipped/);
    assert.match(b2.stderr, /before: done earlier \(1 outputs verified\), skipped/);
    assert.doesNotMatch(b2.stderr, /^before mono de/m, 'the before evaluation did not run again');
    assert.match(b2.stderr, /train: done in/);
    for (const f of ['train-samples.jsonl', 'before/evaluation.json', 'loss.csv', 'before-after.json', 'before-after-mean.json', 'metrics.json', 'paper-table.md', 'paper-table-mono.md']) {
      assert.equal(read(cwd, `b/${f}`), read(cwd, `a/${f}`), `${f} of the resumed run equals the uninterrupted run's`);
    }
    // the trained model's evaluation records where its folder lies (b/model, a/model); everything else, the settings id included, is equal
    const sameAfter = (dir: string) => {
      const [mine, ref] = [dir, 'a'].map((d) => JSON.parse(read(cwd, `${d}/after/evaluation.json`)));
      assert.equal(mine.settings.retriever.model, join(cwd, `${dir}/model`));
      mine.settings.retriever.model = ref.settings.retriever.model = '<model folder>';
      assert.deepEqual(mine, ref, `${dir}/after/evaluation.json equals the uninterrupted run's but for the model folder's path`);
    };
    sameAfter('b');

    // killed (SIGKILL) while training, then resumed: data and before are not redone, the outputs equal the uninterrupted run's
    const args = ['study', '--model', 'default', ...SMALL, '--figure-formats', 'none', '--out', 'k'];
    await new Promise<void>((done) => {
      // node itself (not the tsx wrapper, whose child a SIGKILL would orphan)
      const child = spawn(process.execPath, ['--import', pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href, MAIN, ...args], { cwd, env: { ...process.env, CI: 'true' } });
      let err = '';
      child.stderr.on('data', (b) => {
        err += b;
        if (/\] train: fine-tuning/.test(err)) child.kill('SIGKILL');
      });
      child.on('exit', () => done());
    });
    assert.ok(existsSync(join(cwd, 'k/stages/before.json')) && !existsSync(join(cwd, 'k/stages/train.json')), 'killed during training');
    const k = xlalign(args, cwd);
    assert.equal(k.status, 0, k.stderr);
    assert.match(k.stderr, /before: done earlier/);
    assert.match(k.stderr, /train: done in/);
    for (const f of ['loss.csv', 'before-after.json', 'paper-table.md']) assert.equal(read(cwd, `k/${f}`), read(cwd, `a/${f}`), `${f} after the kill equals the uninterrupted run's`);
    sameAfter('k');

    // a changed output is not trusted: the stage and every later one run again
    writeFileSync(join(cwd, 'b/after/evaluation.json'), '{}');
    const b3 = xlalign(['study', '--model', 'default', ...SMALL, '--figure-formats', 'none', '--out', 'b'], cwd);
    assert.equal(b3.status, 0, b3.stderr);
    assert.match(b3.stderr, /train: done earlier/);
    assert.match(b3.stderr, /after: running again: .*evaluation\.json changed since the stage finished/);
    assert.match(b3.stderr, /tables: done in/);
    assert.equal(read(cwd, 'b/before-after.json'), read(cwd, 'a/before-after.json'));

    // other settings in the same folder: refused before any work
    const c = xlalign(['study', '--model', 'default', ...SMALL, '--figure-formats', 'none', '--lr', '0.01', '--out', 'b'], cwd);
    assert.equal(c.status, 2, 'an input error');
    assert.match(c.stderr, /holds a study with other settings/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

for (const family of ['xlm-roberta', 'gte', 'jina'] as const) test(`study on a tiny ${family} twin: the encoder head is chosen by the folder, trains, and writes the tables`, () => {
  const { dir } = writeTinyEncoder(family);
  const cwd = mkdtempSync(join(tmpdir(), 'xl-study-enc-'));
  try {
    const r = xlalign(['study', '--model', dir, '--langs', 'de', '--scenarios', 'mixed', '--samples', '24', '--train-batch-size', '8', '--lr', '1e-3', '--resamples', '50', '--no-cache', '--figure-formats', 'none', '--out', 'out'], cwd);
    assert.equal(r.status, 0, r.stderr);
    const study = JSON.parse(read(cwd, 'out/study.json'));
    assert.equal(study.protocol.head.value, 'encoder');
    assert.equal(study.protocol.head.source, 'sister paper');
    assert.deepEqual(study.protocol.epochs, { value: 1, source: 'assumption', note: 'not reported; 1 epoch over ~2.8k samples' });
    assert.deepEqual(study.protocol.lr, { value: 0.001, source: 'flag' });
    assert.equal(study.protocol.wordEmbeddings.value, 'sparse');
    assert.equal(study.protocol.wordEmbeddings.source, 'sister paper');
    const config = JSON.parse(read(cwd, 'out/config.json'));
    assert.equal(config.head, 'encoder');
    assert.equal(config.loop.steps, 3);
    assert.equal(config.loop.lr, 0.001);
    assert.equal(config.headOptions.wordEmbeddings, 'sparse');
    assert.equal(config.loop.head.wordEmbeddings, 'sparse');
    // the study fine-tunes every encoder fully, jina-v3 included (its task adapters stay and pick the task)
    assert.deepEqual([study.protocol.encoderTrain.value, study.protocol.encoderTrain.source, config.loop.head.train], ['full', 'study', 'full']);
    for (const f of ['model/config.json', 'model/model.safetensors', 'model/onnx/model.onnx', 'paper-table.md', 'before-after.json']) assert.ok(existsSync(join(cwd, 'out', f)), f);
    assert.match(read(cwd, 'out/paper-table.md'), /\+aligned \| en-de \|/);
    // a static-only head on a transformer: a usage error before any work
    const bad = xlalign(['study', '--model', dir, '--head', 'static', '--out', 'bad'], cwd);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /is not a static model folder/);
    assert.ok(!existsSync(join(cwd, 'bad')));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('study on any dataset: Belebele from its files (pivot eng_Latn) and an own JSONL folder', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'xl-study-data-'));
  try {
    writeBelebeleFormat(join(cwd, 'belebele'), 24);
    const r = xlalign(['study', '--model', 'default', '--dataset', 'belebele', '--belebele-dir', 'belebele', '--scenarios', 'mixed', '--samples', '40', '--epochs', '1', '--resamples', '50', '--no-cache', '--figure-formats', 'none', '--out', 'bb'], cwd);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /data: Belebele: 40 training samples from 12 train passages; head static/);
    const config = JSON.parse(read(cwd, 'bb/config.json'));
    assert.equal(config.dataset, 'belebele');
    assert.equal(config.pivot, 'eng_Latn');
    assert.match(read(cwd, 'bb/paper-table.md'), /\| default\+aligned \| eng_Latn-deu_Latn \|/);
    const own = xlalign(['study', '--model', 'default', '--dataset', resolve('examples/own-dataset'), '--samples', '2', '--epochs', '1', '--resamples', '50', '--no-cache', '--figure-formats', 'none', '--out', 'own'], cwd);
    assert.equal(own.status, 0, own.stderr);
    const ownConfig = JSON.parse(read(cwd, 'own/config.json'));
    assert.equal(ownConfig.grouping, 'group');
    assert.deepEqual([...ownConfig.trainGroups, ...ownConfig.evalGroups].sort(), ['cities', 'rivers']);
    assert.ok(existsSync(join(cwd, 'own/paper-table.md')));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('the stages --stop-after offers are the study\'s', async () => {
  const { STAGES } = await import('../../lib/cli/study-command.js');
  const { STUDY_STAGES } = await import('../../lib/experiments/study.js');
  assert.deepEqual(STAGES, [...STUDY_STAGES]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadXquadAll } from '../../lib/data/xquad.js';
import type { ParallelCorpus } from '../../lib/data/parallel.js';
import { runAlignmentExperiment } from '../../lib/experiments/alignment.js';
import { readBeforeAfter } from '../../lib/results/before-after.js';
import { lossRows, readLossCsv } from '../../lib/results/loss-curve.js';
import { loadTrainingJsonl } from '../../lib/train/samples.js';
import { loadAdapter } from '../../lib/train/adapter.js';

test('runAlignmentExperiment on a non-XQuAD ParallelCorpus with its own grouping: trains on train groups, evaluates on eval groups, records both', async () => {
  // XQuAD rows (en, de) under opaque ids, grouped by article title: another dataset as far as the code can tell.
  const all = loadXquadAll(['en', 'de']);
  const docIds = new Map(all.en.paragraphs.map((p, i) => [p.id, `doc-${i}`]));
  const titleOf = new Map(all.en.paragraphs.map((p) => [docIds.get(p.id)!, p.title]));
  const corpus: ParallelCorpus = { name: 'opaque', langs: ['en', 'de'], docs: {}, queries: {} };
  for (const lang of corpus.langs) {
    corpus.docs[lang] = all[lang].paragraphs.map((p) => ({ id: docIds.get(p.id)!, text: p.context }));
    corpus.queries[lang] = all[lang].questions.map((q) => ({ id: `query-${q.id}`, text: q.question, docId: docIds.get(q.paragraphId)! }));
  }
  const grouping = { name: 'topic', groupOf: (id: string) => titleOf.get(id)! };
  const out = mkdtempSync(join(tmpdir(), 'xlalign-exp-'));
  try {
    const r = await runAlignmentExperiment({
      dataset: corpus, grouping, head: 'adapter', out, size: 120, langs: ['de'], scenarios: ['mixed'], resamples: 100,
      loop: { epochs: 1, progress: false }, embed: { cache: false, progress: false },
    });
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(config.dataset, 'opaque');
    assert.equal(config.grouping, 'topic');
    assert.equal(config.trainGroups.length + config.evalGroups.length, 48);
    const samples = loadTrainingJsonl(join(out, 'train-samples.jsonl'));
    assert.equal(samples.length, 120);
    for (const s of samples) assert.ok(config.trainGroups.includes(titleOf.get(s.docId!)), `${s.docId} is in a train topic`);
    const rows = readBeforeAfter(join(out, 'before-after.json'));
    assert.deepEqual(rows, r.deltas);
    assert.ok(rows.length > 0 && rows.every((d) => d.scenario === 'mixed' && d.lang === 'de'));
    assert.match(r.markdown, /on the opaque eval topics \(24 of 48\)/);
    assert.deepEqual(lossRows(readLossCsv(join(out, 'loss.csv'))), r.training.history);
    assert.ok(existsSync(join(out, 'adapter.safetensors')));
    // the adapter records the split it was trained on; config.json the two evaluations' settings
    const data = loadAdapter(join(out, 'adapter.safetensors')).training?.trainingData as { datasets: { name: string; grouping: string; trainGroups: string[]; evalGroups: string[] }[] };
    assert.deepEqual(data.datasets.map((d) => [d.name, d.grouping, d.trainGroups, d.evalGroups]), [['opaque', 'topic', config.trainGroups, config.evalGroups]]);
    assert.deepEqual(config.evaluations.map((e: { command: string; settings: string[] }) => [e.command, e.settings]), [['train', [r.before.settingsId, r.after.settingsId]]]);
    assert.equal(config.settings[r.after.settingsId].retriever.adapter.sha256.slice(0, 8), 'adapter@');
    assert.ok(r.before.rows.every((x) => x.settings === r.before.settingsId) && r.after.rows.every((x) => x.settings === r.after.settingsId));
    await assert.rejects(runAlignmentExperiment({ dataset: 'nope', out }), /'nope' is neither a registered dataset \(xquad, belebele\) nor a folder/);
    // training again into the same folder would replace its rows and run files: refused
    await assert.rejects(runAlignmentExperiment({ dataset: corpus, grouping, head: 'adapter', out, size: 120, langs: ['de'], scenarios: ['mixed'] }), /already holds \d+ metric rows of an earlier run/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

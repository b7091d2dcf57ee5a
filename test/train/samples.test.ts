import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadXquadAll } from '../../lib/data/xquad.js';
import { buildTrainingSamples, loadTrainingJsonl, saveTrainingJsonl } from '../../lib/train/samples.js';
import { filterXquad, splitXquadArticles } from '../../lib/data/split.js';

const split = splitXquadArticles();
const samples = buildTrainingSamples({ split });

test('buildTrainingSamples: 2800 samples, balanced over 11 languages, train articles only, parallel', () => {
  assert.equal(samples.length, 2800);
  const counts: Record<string, number> = {};
  for (const s of samples) counts[s.lang] = (counts[s.lang] ?? 0) + 1;
  assert.equal(Object.keys(counts).length, 11);
  assert.ok(!('en' in counts));
  for (const c of Object.values(counts)) assert.ok(c === 254 || c === 255, String(c));
  const all = loadXquadAll();
  const evalEn = filterXquad(all.en, split, 'eval');
  const evalDocs = new Set(evalEn.paragraphs.map((p) => p.context));
  const evalQuestions = new Set(evalEn.questions.map((q) => q.id));
  const seen = new Set<string>();
  for (const s of samples) {
    assert.ok(!evalQuestions.has(s.id) && !evalDocs.has(s.docPivot), `sample ${s.id} is from an eval article`);
    assert.ok(split.train.includes(Number(s.docId!.slice(1, 3))));
    // the target texts are the target language's version of the same question and paragraph
    const q = all[s.lang].questions.find((x) => x.id === s.id)!;
    assert.equal(s.queryTarget, q.question);
    assert.equal(s.docTarget, all[s.lang].paragraphs.find((p) => p.id === q.paragraphId)!.context);
    assert.equal(s.queryPivot, all.en.questions.find((x) => x.id === s.id)!.question);
    assert.ok(!seen.has(`${s.lang}:${s.id}`), 'no repeated sample');
    seen.add(`${s.lang}:${s.id}`);
  }
  assert.deepEqual(buildTrainingSamples({ split, size: 50, seed: 7 }), buildTrainingSamples({ split, size: 50, seed: 7 }));
  assert.notDeepEqual(buildTrainingSamples({ split, size: 50, seed: 7 }), buildTrainingSamples({ split, size: 50, seed: 8 }));
  assert.throws(() => buildTrainingSamples({ split, size: 11 * 700 }), /train articles hold only \d+ questions/);
});

test('saveTrainingJsonl / loadTrainingJsonl round trip; errors name file, line and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-dataset-'));
  const file = join(dir, 'train.jsonl');
  saveTrainingJsonl(file, samples.slice(0, 20));
  assert.deepEqual(loadTrainingJsonl(file), samples.slice(0, 20));
  const bad = join(dir, 'bad.jsonl');
  const { docTarget: _, ...missing } = samples[0];
  writeFileSync(bad, `${JSON.stringify(samples[1])}\n\n${JSON.stringify(missing)}\n`);
  assert.throws(() => loadTrainingJsonl(bad), (e: Error) => e.message.includes(`${bad}:3: field 'docTarget'`));
  writeFileSync(bad, `${JSON.stringify({ ...samples[0], extra: 1 })}\n`);
  assert.throws(() => loadTrainingJsonl(bad), /bad\.jsonl:1: object: .*extra/);
  writeFileSync(bad, `{"lang": "de",\n`);
  assert.throws(() => loadTrainingJsonl(bad), /bad\.jsonl:1: not valid JSON/);
  writeFileSync(bad, `${JSON.stringify({ ...samples[0], queryPivot: '' })}\n`);
  assert.throws(() => loadTrainingJsonl(bad), /bad\.jsonl:1: field 'queryPivot'/);
});

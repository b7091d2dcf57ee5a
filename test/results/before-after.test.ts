import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBeforeAfter, readBeforeAfter, writeBeforeAfter, type BeforeAfterRow } from '../../lib/results/before-after.js';
import { compareEvaluations } from '../../lib/eval/compare.js';
import type { ComparedEvaluation as EvaluationResult } from '../../lib/eval/compare.js';

test('before-after.json round trip: compareEvaluations rows written and read back unchanged; the file format is fixed', () => {
  // Two tiny evaluations of one pool, per-query scores by hand.
  const evaluation = (v: number[]): EvaluationResult =>
    ({
      rows: [
        { dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang: 'de', metric: 'maxr', value: v.reduce((s, x) => s + x, 0) / v.length },
        { dataset: 'xquad', retriever: 'r', scenario: 'mixed', lang: 'de', metric: 'maxr.median', value: v[1] },
      ],
      perQuery: { 'mixed.de': Object.fromEntries(v.map((x, i) => [`q${i}`, { maxr: x }])) },
    }) as unknown as EvaluationResult;
  const deltas = compareEvaluations(evaluation([3, 5, 9]), evaluation([2, 4, 9]), { seed: 1, resamples: 200 });
  assert.equal(deltas.length, 2);
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-ba-'));
  const file = join(dir, 'before-after.json');
  writeBeforeAfter(file, deltas);
  assert.equal(readFileSync(file, 'utf8'), JSON.stringify(deltas, null, 1) + '\n');
  assert.deepEqual(readBeforeAfter(file), deltas);
  assert.equal(deltas[0].delta, 5 - 17 / 3);
});

test('before-after.json reader: { rows } form, hand-made rows without scenario/delta, extra fields kept; errors name file, row and field', () => {
  const rows: BeforeAfterRow[] = [{ lang: 'de', metric: 'maxr', before: 3, after: 2.5, deltaLow: -1, deltaHigh: 0 }];
  assert.deepEqual(parseBeforeAfter(JSON.stringify({ rows })), rows);
  assert.deepEqual(parseBeforeAfter(JSON.stringify([{ ...rows[0], note: 'x' }])), [{ ...rows[0], note: 'x' }]);
  assert.throws(() => parseBeforeAfter('[{"lang":"de","metric":"maxr","before":"x","after":1}]', 'b.json'), /b\.json: rows\[0\]\.before: /);
  assert.throws(() => parseBeforeAfter('{', 'b.json'), /b\.json: not valid JSON/);
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-ba-'));
  writeFileSync(join(dir, 'x.json'), '[{"metric":"maxr","before":1,"after":1}]');
  assert.throws(() => readBeforeAfter(join(dir, 'x.json')), /x\.json: rows\[0\]\.lang: /);
  assert.throws(() => readBeforeAfter(join(dir, 'none.json')), /cannot read/);
});

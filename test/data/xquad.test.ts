import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkXquadAlignment, loadXquad, loadXquadAll, XQUAD_LANGS } from '../../lib/data/xquad.js';
import { dataPath } from '../../lib/util/fs.js';

test('all 12 XQuAD languages load and align paragraph by paragraph and question by question', () => {
  const all = loadXquadAll();
  assert.deepEqual(Object.keys(all), [...XQUAD_LANGS]);
  for (const x of Object.values(all)) {
    assert.equal(x.paragraphs.length, 240, x.file);
    assert.equal(x.questions.length, 1190, x.file);
    assert.equal(new Set(x.paragraphs.map((p) => p.id)).size, 240);
    assert.equal(new Set(x.questions.map((q) => q.id)).size, 1190);
    assert.equal(new Set(x.paragraphs.map((p) => p.article)).size, 48);
  }
  // parallel ids carry parallel content: the answer text of the first question is in its paragraph
  for (const x of Object.values(all)) {
    const q = x.questions[0];
    const p = x.paragraphs.find((pp) => pp.id === q.paragraphId)!;
    assert.ok(p.context.includes(q.answers[0].text), `${x.lang}: answer not in its paragraph`);
  }
});

test('checkXquadAlignment reports a question moved to another paragraph', () => {
  const en = loadXquad('en');
  const de = loadXquad('de');
  const moved = { ...de, questions: de.questions.map((q, i) => (i === 5 ? { ...q, paragraphId: 'a47p00' } : q)) };
  const problems = checkXquadAlignment([en, moved]);
  assert.equal(problems.length, 1);
  assert.match(problems[0], new RegExp(`question ${de.questions[5].id} is on paragraph a47p00`));
});

function tmpCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xquad-'));
  cpSync(dataPath('xquad', 'xquad.en.json'), join(dir, 'xquad.en.json'));
  return dir;
}

test('a changed file fails the sha256 check, naming the file', () => {
  const dir = tmpCopy();
  writeFileSync(join(dir, 'SHA256SUMS'), readFileSync(dataPath('xquad', 'SHA256SUMS'), 'utf8'));
  const file = join(dir, 'xquad.en.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace('Super Bowl', 'Super Bowk'));
  assert.throws(() => loadXquad('en', { dir }), /xquad\.en\.json: sha256 .* does not match SHA256SUMS/);
});

test('a malformed record names the file and the JSON path of the field', () => {
  const dir = tmpCopy();
  const file = join(dir, 'xquad.en.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  delete json.data[2].paragraphs[1].qas[0].question;
  writeFileSync(file, JSON.stringify(json));
  assert.throws(() => loadXquad('en', { dir }), /xquad\.en\.json: data\[2\]\.paragraphs\[1\]\.qas\[0\]\.question must be a string/);
  writeFileSync(file, '{"data": [');
  assert.throws(() => loadXquad('en', { dir }), /xquad\.en\.json: not valid JSON/);
  assert.throws(() => loadXquad('xx'), /no file .*xquad\.xx\.json; XQuAD languages are ar, de/);
});

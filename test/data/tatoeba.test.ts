import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTatoeba, tatoebaLanguages, TATOEBA_CODES } from '../../lib/data/tatoeba.js';
import { dataPath, sha256File } from '../../lib/util/fs.js';

test('Tatoeba pairs load for every non-English XQuAD language', () => {
  const langs = tatoebaLanguages();
  assert.ok(langs.length >= 100, `only ${langs.length} languages`);
  for (const code of Object.values(TATOEBA_CODES)) {
    const pairs = loadTatoeba(code);
    assert.ok(pairs.length >= 500, `${code}: ${pairs.length} pairs`);
    assert.ok(pairs.every((p) => p.text.trim() && p.en.trim()));
    assert.equal(pairs[0].id, '0');
  }
  // the two sides are different texts: a German line is almost never identical to its English line
  const deu = loadTatoeba('deu');
  assert.ok(deu.filter((p) => p.text === p.en).length < 20);
});

test('misaligned files name both files; an empty line names file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tatoeba-'));
  writeFileSync(join(dir, 'tatoeba.xyz-eng.xyz'), 'a\nb\nc\n');
  writeFileSync(join(dir, 'tatoeba.xyz-eng.eng'), 'A\nB\n');
  assert.throws(() => loadTatoeba('xyz', { dir }), /tatoeba\.xyz-eng\.xyz has 3 lines but .*tatoeba\.xyz-eng\.eng has 2/);
  writeFileSync(join(dir, 'tatoeba.xyz-eng.eng'), 'A\n\nC\n');
  assert.throws(() => loadTatoeba('xyz', { dir }), /tatoeba\.xyz-eng\.eng:2: empty sentence/);
  assert.throws(() => loadTatoeba('qqq', { dir }), /no file .*tatoeba\.qqq-eng\.qqq; available languages: xyz/);
});

test('the vendored Tatoeba files match their recorded sha256', () => {
  const dir = dataPath('tatoeba');
  const lines = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 224, '112 languages x 2 files');
  for (const line of lines) {
    const [sum, name] = line.split(/\s+/);
    assert.equal(sha256File(join(dir, name)), sum, name);
  }
});

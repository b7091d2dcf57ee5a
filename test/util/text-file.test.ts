import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeUtf8, readTextFile } from '../../lib/util/text-file.js';
import { exitCodeFor, xlError, XlalignError } from '../../lib/util/errors.js';
import { loadJsonlDataset } from '../../lib/data/jsonl-dataset.js';
import { loadBeir } from '../../lib/data/beir.js';
import { loadXquad } from '../../lib/data/xquad.js';
import { loadTatoeba } from '../../lib/data/tatoeba.js';
import { loadTrainingJsonl } from '../../lib/train/samples.js';
import { dataPath } from '../../lib/util/fs.js';

const errorOf = (f: () => unknown): XlalignError => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof XlalignError, String(e));
    return e;
  }
  assert.fail('no error');
};

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const tmp = () => mkdtempSync(join(tmpdir(), 'utf8-'));

test('decodeUtf8: valid text (a BOM dropped) decodes; an invalid byte names file, line, column and byte', () => {
  assert.equal(decodeUtf8(Buffer.from('\uFEFFa\nSchläft 黑豹 🙂\n'), 'f.txt', 'x'), 'a\nSchläft 黑豹 🙂\n');
  // 'é' in Latin-1 (0xE9) on line 3, after 'caf' (column 4)
  const bad = Buffer.concat([Buffer.from('ok\nalso ok ü\n'), latin1('café\n'), Buffer.from('line 4\n')]);
  const e = errorOf(() => decodeUtf8(bad, 'f.txt', 'loadX'));
  assert.equal(e.message, 'loadX: f.txt:3: not valid UTF-8 (bad byte 0xE9 at column 4); save the file as UTF-8');
  assert.equal(exitCodeFor(e), 2, 'an input error');
  // a sequence cut short at the end of the file (no newline), after a multi-byte character
  const cut = Buffer.concat([Buffer.from('x\n黑'), Buffer.from('豹').subarray(0, 2)]);
  assert.match(errorOf(() => decodeUtf8(cut, 'g.txt', 'w')).message, /^w: g\.txt:2: not valid UTF-8 \(bad byte 0xE8 at column 2\)/);
  // surrogates encoded in UTF-8 (CESU) and overlong forms are invalid too
  assert.match(errorOf(() => decodeUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80]), 'h', 'w')).message, /h:1: .*0xED at column 2/);
  assert.match(errorOf(() => decodeUtf8(Buffer.from([0xc0, 0xaf]), 'h', 'w')).message, /h:1: .*0xC0 at column 1/);
  assert.match(errorOf(() => readTextFile(join(tmp(), 'none.txt'), 'w')).message, /^w: no file .*none\.txt$/);
});

test('the dataset loaders refuse invalid UTF-8 naming the file and line: own JSONL, BEIR (jsonl and qrels), XQuAD, Tatoeba, training JSONL', () => {
  // own JSONL folder: a Latin-1 document on line 2 of docs.jsonl
  const own = tmp();
  writeFileSync(join(own, 'docs.jsonl'), Buffer.concat([
    Buffer.from(JSON.stringify({ id: 'p1', lang: 'en', text: 'The cat sleeps.' }) + '\n'),
    latin1(JSON.stringify({ id: 'p1', lang: 'de', text: 'Die Katze schläft.' }) + '\n'),
  ]));
  writeFileSync(join(own, 'queries.jsonl'), JSON.stringify({ id: 'q1', lang: 'en', text: 'Who sleeps?', relevant: ['p1'] }) + '\n');
  assert.match(errorOf(() => loadJsonlDataset(own)).message, /docs\.jsonl:2: not valid UTF-8 \(bad byte 0xE4 at column 46\)/);

  // BEIR: corpus.jsonl, then the qrels TSV
  const beir = tmp();
  mkdirSync(join(beir, 'qrels'));
  writeFileSync(join(beir, 'corpus.jsonl'), latin1(JSON.stringify({ _id: 'd1', text: 'Ä' }) + '\n'));
  writeFileSync(join(beir, 'queries.jsonl'), JSON.stringify({ _id: 'q1', text: 'a' }) + '\n');
  writeFileSync(join(beir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');
  assert.match(errorOf(() => loadBeir(beir)).message, /^loadBeir: .*corpus\.jsonl:1: not valid UTF-8/);
  writeFileSync(join(beir, 'corpus.jsonl'), JSON.stringify({ _id: 'd1', text: 'Ä' }) + '\n');
  assert.equal(loadBeir(beir).docs.en[0].text, 'Ä');
  writeFileSync(join(beir, 'qrels', 'test.tsv'), Buffer.concat([Buffer.from('query-id\tcorpus-id\tscore\nq1\td1\t1\n'), latin1('q1\td\xe9\t1\n')]));
  assert.match(errorOf(() => loadBeir(beir)).message, /test\.tsv:3: not valid UTF-8 \(bad byte 0xE9 at column 5\)/);

  // XQuAD: a copy of the German file (ASCII, \u escapes) with the 'P' of the first 'Panthers' as Latin-1 'Ä'
  const xq = tmp();
  const bytes = readFileSync(dataPath('xquad', 'xquad.de.json'));
  const at = bytes.indexOf(Buffer.from('Panthers'));
  const broken = Buffer.from(bytes);
  broken[at] = 0xc4;
  writeFileSync(join(xq, 'xquad.de.json'), broken);
  const before = bytes.subarray(0, at).toString('utf8').split('\n');
  const line = before.length;
  const column = before[line - 1].length + 1;
  assert.equal(line, 6);
  assert.equal(errorOf(() => loadXquad('de', { dir: xq, verify: false })).message, `loadXquad: ${join(xq, 'xquad.de.json')}:6: not valid UTF-8 (bad byte 0xC4 at column ${column}); save the file as UTF-8`);

  // Tatoeba: line 2 of the non-English side
  const tat = tmp();
  writeFileSync(join(tat, 'tatoeba.deu-eng.deu'), Buffer.concat([Buffer.from('Hallo.\n'), latin1('Grüße.\n')]));
  writeFileSync(join(tat, 'tatoeba.deu-eng.eng'), 'Hello.\nGreetings.\n');
  assert.match(errorOf(() => loadTatoeba('deu', { dir: tat })).message, /tatoeba\.deu-eng\.deu:2: not valid UTF-8 \(bad byte 0xFC at column 3\)/);

  // training JSONL
  const train = join(tmp(), 'pairs.jsonl');
  writeFileSync(train, latin1('{"x": "ö"}\n'));
  assert.match(errorOf(() => loadTrainingJsonl(train)).message, /^loadTrainingJsonl: .*pairs\.jsonl:1: not valid UTF-8/);
});

test('exit codes: input errors 2 (the default kind), internal failures 1', () => {
  assert.equal(exitCodeFor(xlError('f', 'bad input')), 2);
  assert.equal(exitCodeFor(xlError('f', 'broken invariant', { kind: 'internal' })), 1);
  assert.equal(exitCodeFor(new TypeError('x is undefined')), 1);
  assert.equal(exitCodeFor('a string'), 1);
  assert.equal(xlError('f', 'm', { cause: 1 }).cause, 1);
});

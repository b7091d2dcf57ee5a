import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { belebelePassageId, loadBelebele, parseBelebeleJsonl } from '../../lib/data/belebele.js';
import { belebeleCorpus } from '../../lib/data/parallel.js';

const FIXTURE = resolve('test/fixtures/belebele');

test('loads the published JSONL format from a local folder', async () => {
  const en = await loadBelebele('eng_Latn', { dir: FIXTURE, download: false });
  assert.equal(en.length, 3);
  assert.equal(en[1].question_number, 2);
  assert.equal(en[1].correct_answer_num, '3');
  assert.equal(en[0].dialect, 'eng_Latn');
});

test('a parallel corpus: passages unique by link, same ids in both dialects', async () => {
  const c = await belebeleCorpus({ en: 'eng_Latn', de: 'deu_Latn' }, { dir: FIXTURE, download: false });
  assert.equal(c.docs.en.length, 2);
  assert.deepEqual(c.docs.en.map((d) => d.id), c.docs.de.map((d) => d.id));
  assert.deepEqual(c.queries.en.map((q) => q.id), c.queries.de.map((q) => q.id));
  assert.equal(c.queries.de[2].docId, belebelePassageId('https://en.wikinews.org/wiki/Test/B'));
  assert.match(c.docs.de[1].text, /Museum/);
});

test('malformed lines name the file, line and field', () => {
  const good = readFileSync(join(FIXTURE, 'eng_Latn.jsonl'), 'utf8').split('\n');
  const bad = JSON.parse(good[1]);
  bad.correct_answer_num = '7';
  assert.throws(() => parseBelebeleJsonl([good[0], JSON.stringify(bad)].join('\n'), 'x.jsonl'), /x\.jsonl:2: field 'correct_answer_num'/);
  delete bad.question;
  bad.correct_answer_num = '1';
  assert.throws(() => parseBelebeleJsonl(JSON.stringify(bad), 'y.jsonl'), /y\.jsonl:1: field 'question'/);
  assert.throws(() => parseBelebeleJsonl('{"link": ', 'z.jsonl'), /z\.jsonl:1: not valid JSON/);
});

test('offline and missing: a clear error saying where to put the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'belebele-'));
  await assert.rejects(loadBelebele('fra_Latn', { dir, download: false }), /no file .*fra_Latn\.jsonl\. Put the published file fra_Latn\.jsonl .* into/);
  // a download that cannot succeed (nothing listens on this port) gives the same guidance
  await assert.rejects(loadBelebele('fra_Latn', { dir, baseUrl: 'http://127.0.0.1:9/none' }), /downloading http:\/\/127\.0\.0\.1:9\/none\/fra_Latn\.jsonl failed .*Put the published file/);
  await assert.rejects(loadBelebele('french', { dir }), /'french' is not a Belebele dialect code/);
  writeFileSync(join(dir, 'x'), '');
});

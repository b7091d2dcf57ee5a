import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rawScoresPath, readRun, writeRun } from '../../lib/runs/trec-io.js';
import { readRunReference } from '../helpers/trec-reference.js';
import { fnv1a, IdInterner } from '../../lib/runs/trec-scan.js';
import type { Run } from '../../lib/runs/types.js';
import { createRng } from '../../lib/util/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'trec-fast-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const write = (text: string | Buffer, ext = '.run') => {
  const p = join(dir, `${fileNo++}${ext}`);
  writeFileSync(p, text);
  return p;
};

/** readRun and the plain oracle (test/helpers/trec-reference.ts) give the same Run (query order, ids, bit-identical Float64Array scores), at several chunk sizes. */
function assertSame(path: string, chunkSizes = [1 << 24, 97, 7]): Run {
  const want = readRunReference(path);
  for (const chunkSize of chunkSizes) {
    const got = readRun(path, { chunkSize });
    assert.deepEqual(Object.keys(got), Object.keys(want), `query order, chunk ${chunkSize}`);
    assert.deepEqual(got, want, `chunk ${chunkSize}`);
    for (const q in got) {
      assert.ok(got[q].scores instanceof Float64Array);
      for (let i = 0; i < got[q].scores.length; i++) assert.ok(Object.is(got[q].scores[i], want[q].scores[i]), `${q}[${i}] bit-identical`);
    }
  }
  return want;
}

/** readRun and the oracle throw, with the same message (file:line and field). */
function assertSameError(path: string, pattern: RegExp): void {
  let want = '';
  assert.throws(() => readRunReference(path), (e: unknown) => {
    want = (e as Error).message;
    return pattern.test(want);
  });
  for (const chunkSize of [1 << 24, 5]) assert.throws(() => readRun(path, { chunkSize }), (e: unknown) => (e as Error).message === want, `chunk ${chunkSize}: ${want}`);
}

test('fast readRun equals the plain oracle on a seeded bench-shaped run (ids repeated across queries, float32 scores), raw scores read back from the .scores file', () => {
  const rng = createRng(13);
  const run: Run = {};
  for (let q = 0; q < 400; q++) {
    const ids = new Set<string>();
    while (ids.size < 50) ids.add(`${rng.int(2) ? 'de' : 'en'}-p${rng.int(3000)}`);
    const scores = new Float32Array(50);
    for (let i = 0; i < 50; i++) scores[i] = (rng.next() - 0.2) * 10 ** (rng.int(10) - 6);
    run[`de-${q}`] = { ids: [...ids], scores };
  }
  const p = join(dir, 'seeded.run');
  writeRun(p, run, { tag: 'bench' });
  const back = assertSame(p);
  assert.equal(Object.keys(back).length, 400);
  // the raw scores came back from the .scores file: the same float32 values
  for (const q in run) {
    const want = new Map(run[q].ids.map((id, i) => [id, run[q].scores[i]]));
    back[q].ids.forEach((id, i) => assert.ok(Object.is(Math.fround(back[q].scores[i]), want.get(id)), `${q} ${id}`));
  }
  // the score column alone (what trec_eval reads): the evaluated order, n .. 1
  const column = readRun(p, { rawScores: false });
  assert.deepEqual(column, readRunReference(p, { rawScores: false }));
  assert.deepEqual(Array.from(column['de-0'].scores).slice(0, 3), [50, 49, 48]);
  // the interned strings are shared between queries: one string per distinct id
  const seen = new Map<string, string>();
  for (const q in back) for (const id of back[q].ids) seen.set(id, id);
  assert.ok(seen.size < 400 * 50, 'ids repeat across queries');
  // gzip too, with its raw scores beside it
  const gz = write(gzipSync(readFileSync(p)), '.run.gz');
  writeFileSync(rawScoresPath(gz), gzipSync(readFileSync(rawScoresPath(p))));
  assert.deepEqual(readRun(gz), back);
});

test('fast readRun equals the reference on layout edge cases: CRLF, tabs, runs of spaces, blank lines, no final newline, control bytes, UTF-8, long ids', () => {
  const long = 'x'.repeat(20);
  const text = [
    'q1\tQ0\tdA\t1\t2.5\tt\r',
    '',
    '   \t ',
    '  q2  Q0 dé 1 1e-3 t  ',
    'q1 Q0 dB 2 -.5 t\t\r',
    'q2 Q0 dF 2 +7E2 t',
    `q2 Q0 ${long}a 3 1 t`,
    `q2 Q0 ${long}b 4 1 t`, // same first 20 bytes and length, different tail
    `q2 Q0 ${long}a 5 2 t`,
    'q3 Q0 d\x01x 1 0.5 t', // a control byte inside a field: part of the id for both
    'q3 Q0 dA 01 5. t',
    'q3 Q0 dA +1 0.0 t', // rank spellings Number() reads as integers
    'q3 Q0 dA 1.0 -0 t',
    'q3 Q0 dA 1e1 -0.0 t',
    'q3 Q0 dB 12345678901234567 1 t', // rank past 15 digits
    'q1 Q0 dA 3 3 t', // q1 again, far from its first lines
    'q4 Q0 dA 1 .25 t',
  ].join('\n');
  const run = assertSame(write(text));
  assert.deepEqual(run.q1.ids, ['dA', 'dB', 'dA']);
  assert.deepEqual(run.q2.ids, ['dé', 'dF', `${long}a`, `${long}b`, `${long}a`]);
  assert.equal(run.q3.ids[0], 'd\x01x');
  assert.ok(Object.is(run.q3.scores[3], -0));
});

test('fast readRun scores are bit-identical to Number() on plain, long, tiny, huge and exponent spellings', () => {
  const rng = createRng(7);
  const texts = ['0', '-0', '1', '0.1', '0.30000000000000004', '123456789012345678', '1.7976931348623157e308', '4.9e-324', '1e22', '1e23', '-3.40282347e+38', '00012.5000', '0.0000000000000000000000001', '1234567890.12345', '1234567890.123456', '9007199254740993', '.5', '5.', '-.5e-3', 'inf', '-Infinity'];
  for (let i = 0; i < 300; i++) {
    const x = (rng.next() - 0.5) * 10 ** (rng.int(40) - 20);
    texts.push(x.toPrecision(1 + rng.int(17)), String(x), x.toFixed(rng.int(20)), String(Math.fround(x)));
  }
  const p = write(texts.map((t, i) => `q Q0 d${i} ${i + 1} ${t} x\n`).join(''));
  const got = assertSame(p).q.scores;
  texts.forEach((t, i) => {
    const want = /inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t);
    assert.ok(Object.is(got[i], want), `${t}: ${got[i]} vs ${want}`);
  });
});

test('fast readRun: malformed lines throw the reference error, naming file:line', () => {
  const ok = 'q Q0 d 1 0.5 t\n';
  assertSameError(write(ok + 'q Q0 d2 2 0.4\n'), /:2: expected 6 fields .* found 5/);
  assertSameError(write(ok + 'q Q0 d2 2 0.4 t extra\n'), /:2: expected 6 fields .* found 7/);
  assertSameError(write(ok + '\nq\n'), /:3: expected 6 fields .* found 1/);
  assertSameError(write(ok + ok + 'q Q0 d2 2 0x10 t'), /:3: score '0x10' is not a number/);
  assertSameError(write(ok + 'q Q0 d2 2 1.5e t\n'), /:2: score '1.5e' is not a number/);
  assertSameError(write(ok + 'q Q0 d2 2 - t\n'), /:2: score '-' is not a number/);
  assertSameError(write(ok + 'q Q0 d2 2 NaN t\n'), /:2: score 'NaN' is not a number/);
  assertSameError(write(ok + 'q Q0 d2 2 --1 t\n'), /:2: score '--1' is not a number/);
  assertSameError(write('q Q0 d one 0.5 t\n'), /:1: rank 'one' is not an integer/);
  assertSameError(write(ok + 'q Q0 d 2.5 0.5 t\r\n'), /:2: rank '2.5' is not an integer/);
  assertSameError(write(ok + 'q Q0 d 1e400 0.5 t\r\n'), /:2: rank '1e400' is not an integer/);
});

test('IdInterner: one string per distinct byte string, through table growth, long ids (shared 12-byte heads, lengths past 255) and the distinct-id cap', () => {
  const ids: string[] = [];
  for (let i = 0; i < 5000; i++) ids.push(`en-${i}`, `${'y'.repeat(25)}${i}`, `ü${i}`);
  for (let i = 0; i < 50; i++) ids.push(`${'z'.repeat(300)}${i}`, `${'z'.repeat(300 + i)}`); // lengths past 255
  const buf = Buffer.from(ids.join(' '));
  const spans: [number, number][] = [];
  let s = 0;
  for (let i = 0; i <= buf.length; i++) if (i === buf.length || buf[i] === 32) spans.push([s, i]), (s = i + 1);
  for (const cap of [1 << 20, 100]) {
    const it = new IdInterner(cap);
    const first = spans.map(([a, b]) => it.get(buf, a, b, fnv1a(buf, a, b)));
    assert.deepEqual(first, ids);
    const again = spans.map(([a, b]) => it.get(buf, a, b));
    assert.deepEqual(again, ids);
    assert.equal(it.size, Math.min(cap, ids.length));
  }
});

test('fast readRun and IdInterner: ids with the same FNV-1a hash and length stay distinct (also as the first line of a query)', () => {
  // d1139599 and d1322382 collide in 32-bit FNV-1a (found by search)
  const [x, y] = ['d1139599', 'd1322382'];
  const bx = Buffer.from(x);
  const by = Buffer.from(y);
  assert.equal(fnv1a(bx, 0, bx.length), fnv1a(by, 0, by.length));
  const it = new IdInterner();
  assert.deepEqual([it.get(bx, 0, 8), it.get(by, 0, 8), it.get(by, 0, 8), it.get(bx, 0, 8)], [x, y, y, x]);
  assert.equal(it.size, 2);
  const run = assertSame(write(`q1 Q0 ${x} 1 1 t\nq2 Q0 ${y} 1 1 t\nq2 Q0 ${x} 2 0.5 t\nq3 Q0 ${x} 1 1 t\nq3 Q0 ${y} 2 1 t\n`));
  assert.deepEqual([run.q1.ids, run.q2.ids, run.q3.ids], [[x], [y, x], [x, y]]);
});

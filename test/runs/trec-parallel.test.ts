import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRun, writeRun } from '../../lib/runs/trec-io.js';
import type { Run } from '../../lib/runs/types.js';
import { createRng } from '../../lib/util/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'trec-parallel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A seeded run with ids in several scripts, float32 and float64 scores, and a query split over the file. */
function seededRun(): Run {
  const rng = createRng(99);
  const run: Run = {};
  for (let q = 0; q < 300; q++) {
    const ids: string[] = [];
    const scores: number[] = [];
    const n = 1 + rng.int(60);
    for (let j = 0; j < n; j++) {
      ids.push(`${['de', 'en', 'zh'][rng.int(3)]}-${rng.int(500)}${q % 7 === 0 ? 'ü' : ''}-${j}`);
      scores.push(q % 2 ? Math.fround(rng.next()) : rng.next() * 1e-3 - 5e-4);
    }
    run[`de-${q}`] = { ids, scores };
  }
  return run;
}

test('parallel readRun (worker threads over byte ranges) gives exactly the single-threaded result', () => {
  const path = join(dir, 'a.run');
  writeRun(path, seededRun(), { tag: 't' });
  // lines of one query far apart in the file: merged in file order by both paths
  writeFileSync(path, 'de-0 Q0 late-doc 99 -1 t\n', { flag: 'a' });
  const single = readRun(path, { threads: 1 });
  for (const threads of [2, 3, 5]) {
    for (const chunkSize of [1 << 24, 4096]) {
      const modes: string[] = [];
      const par = readRun(path, { threads, parallelMinBytes: 0, chunkSize, onMode: (m, d) => modes.push(`${m} ${d}`) });
      assert.deepEqual(modes, [`parallel ${threads} threads`], 'the worker threads ran (no fallback)');
      assert.deepEqual(par, single, `threads ${threads}, chunk ${chunkSize}`);
      assert.deepEqual(Object.keys(par), Object.keys(single), 'query order');
    }
  }
  assert.equal(single['de-0'].ids.at(-1), 'late-doc');
});

test('parallel readRun reports a bad line with its global line number, like the single-threaded reader', () => {
  const path = join(dir, 'bad.run');
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) lines.push(`q${i % 50} Q0 d${i} ${i + 1} ${(1 - i / 1e4).toFixed(6)} t`);
  lines[4321] = 'q1 Q0 d4321 x 0.5 t';
  writeFileSync(path, lines.join('\n') + '\n');
  const msg = /bad\.run:4322: rank 'x' is not an integer/;
  assert.throws(() => readRun(path, { threads: 1 }), msg);
  assert.throws(() => readRun(path, { threads: 3, parallelMinBytes: 0 }), msg);
  // an error in the first range (parsed on this thread) too
  lines[4321] = lines[4320];
  lines[7] = 'q7 Q0 d7 8 zz t';
  writeFileSync(path, lines.join('\n') + '\n');
  assert.throws(() => readRun(path, { threads: 3, parallelMinBytes: 0 }), /bad\.run:8: score 'zz' is not a number/);
});

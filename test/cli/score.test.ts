import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');

function xlalign(args: string[], cwd: string) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('xlalign score: says its tie order, counts and explains skipped queries, records them with --out; refuses an empty run and one sharing no query id', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-score-'));
  writeFileSync(join(cwd, 'f.qrels'), 'q1 0 a 1\nq2 0 c 1\nq3 0 a 0\n');
  // q1: a (relevant) tied with b; trec_eval puts b first (id descending), as does the pessimistic order
  writeFileSync(join(cwd, 'f.run'), 'q1 Q0 a 1 1 t\nq1 Q0 z 2 1 t\nq3 Q0 a 1 1 t\nq9 Q0 a 1 1 t\n');
  const r = xlalign(['score', '--run', 'f.run', '--qrels', 'f.qrels', '--metrics', 'rr@10,maxr', '--out', 'o'], cwd);
  assert.equal(r.status, 0, r.stderr);
  // trec_eval -c on these files: q1 RR 1/2 (z before a), q2 missing 0, q3 judged only 0: 0
  assert.match(r.stdout, /\| rr@10 \| 0\.1667 \| 3 \|/);
  assert.match(r.stdout, /\| maxr \| 2\.5000 \| 2 \|/);
  assert.match(r.stdout, /ties: trec_eval's order/);
  assert.match(r.stdout, /queries: 3 scored/);
  assert.match(r.stdout, /skipped: 1 queries of f\.run without judgments in f\.qrels/);
  const rows = JSON.parse(readFileSync(join(cwd, 'o', 'metrics.json'), 'utf8')) as { metric: string; ties: string; queries: number; skippedQueries: Record<string, number> }[];
  assert.deepEqual(rows.map((x) => [x.metric, x.ties, x.queries, x.skippedQueries]), [
    ['rr@10', 'trec_eval', 3, { 'run queries without judgments': 1 }],
    ['maxr', 'trec_eval', 2, { 'run queries without judgments': 1 }],
  ]);
  const p = xlalign(['score', '--run', 'f.run', '--qrels', 'f.qrels', '--metrics', 'rr@10', '--ties', 'pessimistic', '--run-queries-only'], cwd);
  assert.match(p.stdout, /ties: pessimistic/);
  assert.match(p.stdout, /\| rr@10 \| 0\.2500 \| 2 \|/);
  writeFileSync(join(cwd, 'empty.run'), '');
  const e = xlalign(['score', '--run', 'empty.run', '--qrels', 'f.qrels'], cwd);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /empty\.run is empty \(no ranked document\); nothing to score/);
  writeFileSync(join(cwd, 'upper.run'), 'Q1 Q0 a 1 1 t\n');
  const u = xlalign(['score', '--run', 'upper.run', '--qrels', 'f.qrels'], cwd);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /no query id of upper\.run \('Q1'\) is in f\.qrels \('q1', 'q2', 'q3'\); ids are compared exactly, case included/);
  assert.equal(xlalign(['score', '--run', 'f.run', '--qrels', 'f.qrels', '--ties', 'lucky'], cwd).status, 2);
});

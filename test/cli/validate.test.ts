import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkInt, checkMetricNames, checkNumber, checkOutputDir, checkRetriever, checkSomethingToEvaluate, UsageError } from '../../lib/cli/validate.js';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');
const W = 'xlalign test';

function xlalign(args: string[], cwd: string, env: Record<string, string> = {}, uid?: number) {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', XLALIGN_DEBUG: '', ...env }, ...(uid === undefined ? {} : { uid, gid: uid }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('number options: ranges, integers, a one-line UsageError naming the flag and the value', () => {
  assert.equal(checkInt(W, '--epochs', '3'), 3);
  assert.equal(checkInt(W, '--epochs', undefined), undefined);
  for (const bad of ['0', '-2', '1.5', 'x', '']) assert.throws(() => checkInt(W, '--epochs', bad), (e: Error) => e instanceof UsageError && e.message.includes(`--epochs must be an integer >= 1, got '${bad}'`));
  assert.equal(checkNumber(W, '--lr', '1e-3'), 1e-3);
  for (const bad of ['-1', '0', 'NaN', 'Infinity', 'abc']) assert.throws(() => checkNumber(W, '--lr', bad), /--lr must be a positive number/);
  assert.equal(checkNumber(W, '--lambda', '0', 'non-negative'), 0);
});

test('metric names come from lib/metrics; unknown ones suggest the closest', () => {
  assert.deepEqual(checkMetricNames(W, ['ndcg@10', 'maxr', 'pivot_inclination', 'complete@5']), ['ndcg@10', 'maxr', 'pivot_inclination', 'complete@5']);
  assert.throws(() => checkMetricNames(W, ['foo']), /unknown metric 'foo'; supported: ndcg@k/);
  assert.throws(() => checkMetricNames(W, ['ndgc@10']), /did you mean 'ndcg@10'/);
  assert.throws(() => checkMetricNames(W, []), /--metrics is empty/);
});

test('retriever names: bm25, default, a folder, owner/name; BM25 suggests bm25; a missing relative folder is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-'));
  writeFileSync(join(dir, 'config.json'), '{}');
  assert.equal(checkRetriever(W, '--retriever', 'bm25'), 'special');
  assert.equal(checkRetriever(W, '--retriever', dir), 'folder');
  assert.equal(checkRetriever(W, '--retriever', 'Xenova/multilingual-e5-small'), 'hub');
  assert.throws(() => checkRetriever(W, '--retriever', 'BM25'), /'BM25' is neither 'bm25', 'default', an existing model folder .* nor a hub id of the form owner\/name; did you mean 'bm25'\?/);
  assert.throws(() => checkRetriever(W, '--retriever', 'defualt'), /did you mean 'default'/);
  assert.throws(() => checkRetriever(W, '--retriever', 'models/e5/small'), /models\/e5\/small does not exist/);
  assert.throws(() => checkRetriever(W, '--retriever', tmpdir()), /has no config\.json/);
});

test('output folders: an existing file, under a file, /proc, /sys; nothing is created', () => {
  const root = mkdtempSync(join(tmpdir(), 'out-'));
  const file = join(root, 'f');
  writeFileSync(file, 'x');
  assert.equal(checkOutputDir(W, '--out', join(root, 'a', 'b')), join(root, 'a', 'b'));
  assert.ok(!existsSync(join(root, 'a')), 'validation creates nothing');
  assert.throws(() => checkOutputDir(W, '--out', file), /is an existing file, not a folder/);
  assert.throws(() => checkOutputDir(W, '--out', join(file, 'x', 'y')), new RegExp(`is under ${file}, which is a file`));
  assert.throws(() => checkOutputDir(W, '--out', '/proc/x'), /pseudo file system/);
  assert.throws(() => checkOutputDir(W, '--out', '/sys/kernel/x'), /pseudo file system/);
  assert.throws(() => checkOutputDir(W, '--out', '/dev/x'), /pseudo file system/);
  if (existsSync('/dev/shm')) assert.equal(checkOutputDir(W, '--out', '/dev/shm/xlalign-out'), '/dev/shm/xlalign-out');
});

test('an evaluation with nothing to evaluate is an error', () => {
  assert.throws(() => checkSomethingToEvaluate(W, ['cross'], ['en'], 'en'), /nothing to evaluate: --scenarios cross with --langs en gives no pool/);
  assert.doesNotThrow(() => checkSomethingToEvaluate(W, ['cross', 'mono'], ['en'], 'en'));
});

test('CLI: each bad option fails before any work with one line, exit code 2, no stack; --debug adds it', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-validate-'));
  writeFileSync(join(cwd, 'file'), 'x');
  const cases: [string[], RegExp][] = [
    [['eval', '--out', '/proc/x'], /--out \/proc\/x is on a pseudo file system/],
    [['eval', '--out', 'file'], /is an existing file/],
    [['eval', '--out', 'file/sub'], /is under .*file, which is a file/],
    [['eval', '--langs', 'en', '--scenarios', 'cross', '--out', 'o'], /nothing to evaluate/],
    [['eval', '--langs', ',', '--out', 'o'], /--langs is empty/],
    [['eval', '--metrics', 'foo', '--out', 'o'], /unknown metric 'foo'/],
    [['eval', '--retriever', 'BM25', '--out', 'o'], /did you mean 'bm25'/],
    [['eval', '--batch-size', '0', '--out', 'o'], /--batch-size must be an integer >= 1, got '0'/],
    [['eval', '--threads', '0', '--out', 'o'], /--threads must be an integer >= 1/],
    [['eval', '--run-depth', '-5', '--out', 'o'], /--run-depth/],
    [['train', '--lr', '-1', '--out', 'o'], /--lr must be a positive number, got '-1'/],
    [['train', '--epochs', '0', '--out', 'o'], /--epochs must be an integer >= 1/],
    [['train', '--samples', '1', '--out', 'o'], /--samples must be an integer >= 2/],
    [['train', '--head', 'static', '--retriever', 'Xenova/multilingual-e5-small', '--out', 'o'], /--head static .* is a hub model; use --head adapter/],
    [['ablate', '--train-batch-size', '1', '--out', 'o'], /--train-batch-size must be an integer >= 2/],
    [['ablate', '--run-depth', 'x', '--out', 'o'], /--run-depth/],
    [['figures', '--from', 'nowhere'], /--from .*nowhere does not exist/],
    [['score', '--run', 'nowhere.run', '--qrels', 'file'], /--run .*nowhere\.run does not exist/],
    [['score', '--run', 'file', '--qrels', 'file', '--metrics', 'ndcg@x'], /unknown metric 'ndcg@x'/],
    [['figures', '--from', '.', '--out', 'o'], /has neither metrics\.json nor before-after\.json/],
    [['table', '--from', 'nowhere'], /^error: xlalign table: --from .*nowhere does not exist$/m],
  ];
  for (const [args, want] of cases) {
    const r = xlalign(args, cwd);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.ok(!existsSync(join(cwd, 'o')), 'no output folder was created');
  const unknown = xlalign(['eval', '--bogus'], cwd);
  assert.equal(unknown.status, 2);
  const debug = xlalign(['eval', '--out', '/proc/x', '--debug'], cwd);
  assert.equal(debug.status, 2);
  assert.match(debug.stderr, /\n\s+at /, 'stack with --debug');
  assert.match(xlalign(['eval', '--out', '/proc/x'], cwd, { XLALIGN_DEBUG: '1' }).stderr, /\n\s+at /);
});

test('CLI: an unwritable output folder (checked as an unprivileged user when run as root)', { skip: process.platform !== 'linux' }, () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-ro-'));
  chmodSync(cwd, 0o755);
  const locked = join(cwd, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o555);
  // root may write anywhere: run the CLI as 'nobody' then (uid 65534)
  const uid = process.getuid?.() === 0 ? 65534 : undefined;
  const r = xlalign(['eval', '--out', join(locked, 'out')], cwd, { HOME: cwd, TSX_CACHE_DIR: join(tmpdir(), 'tsx-nobody') }, uid);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /locked is not writable \(the folder would be created there\)/);
});

test('CLI: eval --run-format gz writes .run.gz, and score reads it back to the same numbers', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-gz-'));
  const e = xlalign(['eval', '--retriever', 'bm25', '--langs', 'de', '--scenarios', 'mixed', '--run-format', 'gz', '--metrics', 'ndcg@10,maxr', '--out', 'o'], cwd);
  assert.equal(e.status, 0, e.stderr);
  assert.ok(existsSync(join(cwd, 'o/runs/bm25/mixed.de.run.gz')) && !existsSync(join(cwd, 'o/runs/bm25/mixed.de.run')));
  const rows = JSON.parse(readFileSync(join(cwd, 'o/metrics.json'), 'utf8')) as { metric: string; value: number }[];
  const s = xlalign(['score', '--run', 'o/runs/bm25/mixed.de.run.gz', '--qrels', 'o/qrels/mixed.de.qrels', '--metrics', 'ndcg@10,maxr', '--out', 's'], cwd);
  assert.equal(s.status, 0, s.stderr);
  const scored = JSON.parse(readFileSync(join(cwd, 's/metrics.json'), 'utf8')) as { metric: string; value: number }[];
  for (const m of ['ndcg@10', 'maxr']) {
    const a = rows.find((r) => r.metric === m)!.value;
    const b = scored.find((r) => r.metric === m)!.value;
    assert.ok(Math.abs(a - b) < 1e-9, `${m}: eval ${a} vs score of the .run.gz ${b}`);
  }
});

test('CLI: figures go into <from>/figures by default, never into the working folder', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-fig-'));
  mkdirSync(join(cwd, 'res'));
  const rows = ['de', 'ar'].map((lang, i) => ({ dataset: 'xquad', retriever: 'bm25', scenario: 'mono', lang, metric: 'maxr', value: 1 + i }));
  writeFileSync(join(cwd, 'res', 'metrics.json'), JSON.stringify(rows));
  const r = xlalign(['figures', '--from', 'res', '--formats', 'html'], cwd);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`wrote \\d+ figures into ${join(cwd, 'res', 'figures').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.ok(existsSync(join(cwd, 'res', 'figures', 'xquad-bm25-maxr.html')));
  assert.ok(!existsSync(join(cwd, 'figures')));
});

test('CLI: a dataset file that is not UTF-8 is an input error: exit code 2, one line naming file and line, nothing written', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-utf8-'));
  mkdirSync(join(cwd, 'data'));
  writeFileSync(join(cwd, 'data', 'docs.jsonl'), Buffer.concat([
    Buffer.from(JSON.stringify({ id: 'p1', lang: 'en', text: 'The cat sleeps.' }) + '\n'),
    Buffer.from(JSON.stringify({ id: 'p1', lang: 'de', text: 'Die Katze schläft.' }) + '\n', 'latin1'),
  ]));
  writeFileSync(join(cwd, 'data', 'queries.jsonl'), JSON.stringify({ id: 'q1', lang: 'de', text: 'Wer schläft?', relevant: ['p1'] }) + '\n');
  const r = xlalign(['eval', '--dataset', 'data', '--retriever', 'bm25', '--out', 'o'], cwd);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^error: .*data\/docs\.jsonl:2: not valid UTF-8 \(bad byte 0xE4 at column 46\); save the file as UTF-8\n$/);
  assert.ok(!existsSync(join(cwd, 'o', 'metrics.json')));
});

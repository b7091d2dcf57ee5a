import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { env } from '@huggingface/transformers';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { createProgress, setProgressContext } from '../../lib/util/progress.js';
import { writeTinyModel } from '../fixtures/tiny-model.js';

env.allowRemoteModels = false;
const { dir } = writeTinyModel({ dim: 8, seed: 4 });
after(() => rmSync(dir, { recursive: true, force: true }));

function sink() {
  const lines: string[] = [];
  return { lines, stream: { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream };
}

test('off a terminal: plain lines (stage, context, done/total, rate) at most every intervalMs, and a final line', () => {
  const { lines, stream } = sink();
  setProgressContext('default mixed.de');
  const p = createProgress({ stage: 'embed', total: 100, unit: 'texts', intervalMs: 0, stream });
  p.tick(40);
  p.tick(60);
  p.done();
  setProgressContext('');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^progress: embed \[default mixed\.de\] 40\/100 texts, [\d.]+\/s, ~\d+ s left\n$/);
  assert.match(lines[2], /^progress: embed \[default mixed\.de\] 100\/100 texts, [\d.]+\/s\n$/);
  const quiet = sink();
  const q = createProgress({ stage: 'train', total: 10, intervalMs: 60_000, stream: quiet.stream });
  for (let i = 0; i < 10; i++) q.tick();
  q.done();
  assert.deepEqual(quiet.lines, [], 'nothing within the first interval, and no final line without an earlier one');
  const off = sink();
  createProgress({ stage: 'x', total: 1, intervalMs: 0, stream: off.stream, mode: 'off' }).tick();
  assert.deepEqual(off.lines, []);
});

test('the embedder reports progress lines on a non-TTY stderr (XLALIGN_PROGRESS_MS sets the interval)', async () => {
  const emb = await loadEmbedder(dir, { cache: false, batchSize: 1, progress: true });
  const seen: string[] = [];
  const write = process.stderr.write;
  process.env.XLALIGN_PROGRESS_MS = '0';
  process.stderr.write = ((s: string) => (seen.push(String(s)), true)) as typeof process.stderr.write;
  try {
    await emb.embed(['The cats sleep.', 'кошка', '猫睡', 'doggy dog', 'the cat']);
  } finally {
    process.stderr.write = write;
    delete process.env.XLALIGN_PROGRESS_MS;
    await emb.dispose();
  }
  const lines = seen.filter((l) => l.startsWith('progress: embed'));
  assert.ok(lines.length >= 5, seen.join(''));
  assert.match(lines.at(-1)!, /5\/5 texts/);
});

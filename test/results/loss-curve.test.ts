import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lossCurveCsv, lossRows, parseLossCsv, readLossCsv, writeLossCsv, type LossRow } from '../../lib/results/loss-curve.js';
import { trainLoop } from '../../lib/train/train-loop.js';
import { AlignmentAdapter } from '../../lib/train/adapter.js';
import { AdapterHead } from '../../lib/train/heads/adapter-head.js';
import { embedTrainingSamples } from '../../lib/train/train-adapter.js';
import { syntheticEmbedder, syntheticSamples } from '../train/synthetic.js';

test('loss.csv round trip: what trainLoop writes reads back as the same LossRows, doubles exact', async () => {
  const samples = syntheticSamples(60, 2);
  const cached = await embedTrainingSamples(syntheticEmbedder(12), samples);
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-loss-'));
  const file = join(dir, 'loss.csv');
  const { history } = await trainLoop(new AdapterHead(AlignmentAdapter.create(12), cached), samples.length, { batchSize: 10, epochs: 2, lossCsv: file, progress: false });
  const rows = lossRows(readLossCsv(file));
  assert.deepEqual(rows, history);
  assert.equal(readFileSync(file, 'utf8').split('\n')[0], 'step,epoch,loss,lr,infoNCE,jsdQueries,jsdDocuments,jsd');
});

test('loss.csv: parts first seen later get empty cells, read back as absent; errors name file, line and column', () => {
  const history: LossRow[] = [
    { step: 0, epoch: 1, loss: 0.1 + 0.2, lr: 1e-3, parts: { a: 1 / 3 } },
    { step: 1, epoch: 1, loss: 2.5, lr: 5e-4, parts: { b: 7 } },
  ];
  const csv = lossCurveCsv(history);
  assert.equal(csv, 'step,epoch,loss,lr,a,b\n0,1,0.30000000000000004,0.001,0.3333333333333333,\n1,1,2.5,0.0005,,7\n');
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-loss-'));
  writeLossCsv(join(dir, 'l.csv'), history);
  assert.deepEqual(lossRows(readLossCsv(join(dir, 'l.csv'))), history);
  assert.throws(() => lossRows(parseLossCsv('step,loss\n0,1\n', { file: 'x.csv' })), /x\.csv: line 1: no 'epoch' column/);
  assert.throws(() => lossRows(parseLossCsv('step,epoch,loss,lr\n0,0,1,0.1\n', { file: 'x.csv' })), /x\.csv: line 2: field 'epoch'/);
  assert.throws(() => parseLossCsv('step,epoch,loss,lr\n0,1,abc,0.1\n', { file: 'x.csv' }), /x\.csv: line 2: column 'loss' = 'abc' is not a number/);
  writeFileSync(join(dir, 'empty.csv'), '');
  assert.throws(() => readLossCsv(join(dir, 'empty.csv')), /empty\.csv: empty file/);
  assert.throws(() => readLossCsv(join(dir, 'missing.csv')), /cannot read .*missing\.csv/);
});

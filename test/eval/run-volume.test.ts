import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { estimateRunVolume, GZIP_RATIO, runVolumeNotice } from '../../lib/eval/run-volume.js';
import { runEvaluation } from '../../lib/eval/run-evaluation.js';
import { Bm25Retriever } from '../../lib/retrieve/bm25.js';
import { SCENARIOS } from '../../lib/pools/types.js';

/** Run files (`*.run`) and their lines, and the bytes of every file written beside them. */
function written(dir: string): { files: number; lines: number; bytes: number } {
  let lines = 0;
  let bytes = 0;
  let files = 0;
  for (const f of readdirSync(dir)) {
    bytes += statSync(join(dir, f)).size;
    if (!f.endsWith('.run')) continue;
    files++;
    lines += readFileSync(join(dir, f), 'utf8').split('\n').length - 1;
  }
  return { files, lines, bytes };
}

test('the estimate counts the lines BM25 writes exactly and the bytes of every file written within 10%, at full depth and at --run-depth', async () => {
  const corpus = xquadCorpus(['de', 'en']);
  const settings = { scenarios: ['mono', 'mixed'] as const, langs: ['de'], queryLangs: ['target', 'pivot'] as const, pivot: 'en' };
  for (const runDepth of [undefined, 7]) {
    const out = mkdtempSync(join(tmpdir(), 'run-volume-'));
    try {
      const est = estimateRunVolume(corpus, { ...settings, runDepth, tag: 'bm25' });
      await runEvaluation(corpus, new Bm25Retriever(), { ...settings, scenarios: [...settings.scenarios], queryLangs: [...settings.queryLangs], out, runDepth, cacheDir: false, notice: () => {} });
      const got = written(join(out, 'runs', 'bm25'));
      assert.equal(est.files, got.files);
      assert.equal(est.lines, got.lines, `depth ${runDepth}`);
      assert.ok(Math.abs(est.bytes - got.bytes) / got.bytes < 0.1, `depth ${runDepth}: estimated ${est.bytes}, wrote ${got.bytes}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  // mono.de: 1190 queries x 240 paragraphs; mixed.de (target and English queries): 1190 x 480 minus the
  // other-language version of each query's own paragraph, each
  const mono = estimateRunVolume(corpus, { scenarios: ['mono'], langs: ['de'] });
  assert.equal(mono.lines, 1190 * 240);
});

test('the whole XQuAD with both query languages and two retrievers is announced (~14 GB: run files and their .scores files), with the flags that shrink it', () => {
  const corpus = xquadCorpus();
  const full = estimateRunVolume(corpus, { scenarios: SCENARIOS, queryLangs: ['target', 'pivot'], retrievers: 2 });
  assert.ok(full.bytes > 12e9 && full.bytes < 16e9, `${full.bytes}`);
  const line = runVolumeNotice(full, {})!;
  assert.match(line, /^notice: the run files will take about 1\d\.\d GB \(\d+ files, \d+ lines\); to write less: --run-depth 100 .*, --run-format gz \(about 2\.\d GB\), fewer --scenarios, --langs or --query-langs, --no-trec/);
  const gz = estimateRunVolume(corpus, { scenarios: SCENARIOS, queryLangs: ['target', 'pivot'], retrievers: 2, compressRuns: true });
  assert.equal(gz.bytes, Math.round(gz.textBytes / GZIP_RATIO));
  assert.doesNotMatch(runVolumeNotice(gz, { compressRuns: true })!, /--run-format gz/);
  // at depth 10 every query (each has more than 10 candidates) writes 10 lines: 1190 queries per pool
  const shallow = estimateRunVolume(corpus, { scenarios: SCENARIOS, queryLangs: ['target', 'pivot'], retrievers: 2, runDepth: 10 });
  assert.equal(shallow.files, full.files);
  assert.equal(shallow.lines, full.files * 1190 * 10);
  assert.ok(shallow.bytes < 1e9);
  assert.equal(runVolumeNotice(shallow, { runDepth: 10 }), undefined, 'below 1 GB: nothing announced');
});

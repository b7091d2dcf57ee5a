import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { runEvaluation } from '../../lib/eval/run-evaluation.js';
import { Bm25Retriever } from '../../lib/retrieve/bm25.js';

/** A plain reader of TREC files, independent of lib/runs/trec-io.ts. */
function readTrec(path: string, cols: number): string[][] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
    const f = l.split(/\s+/);
    assert.equal(f.length, cols, `${path}: '${l}'`);
    return f;
  });
}

test("maxr_norm and ndcg@1 in the rows equal a direct computation from the exported run and qrels files; both query languages", async () => {
  const out = mkdtempSync(join(tmpdir(), 'study-'));
  const scenarios = ['mixed', 'mixed-target', 'cross', 'mono'] as const;
  const { rows } = await runEvaluation(xquadCorpus(['de', 'en']), new Bm25Retriever(), {
    scenarios, langs: ['de'], queryLangs: ['target', 'pivot'], out, metrics: ['maxr_norm', 'ndcg@1', 'maxr'],
  });
  // pools: 3 two-language scenarios x 2 query languages + mono
  const pools = ['mixed.de', 'mixed.de.en-queries', 'mixed-target.de', 'mixed-target.de.en-queries', 'cross.de', 'cross.de.en-queries', 'mono.de'];
  // each run file with its raw scores beside it
  assert.deepEqual(readdirSync(join(out, 'runs', 'bm25')).sort(), pools.flatMap((p) => [`${p}.run`, `${p}.run.scores`]).sort());
  assert.deepEqual(readdirSync(join(out, 'qrels')).sort(), pools.map((p) => `${p}.qrels`).sort());
  assert.equal(rows.length, pools.length * 3);
  // rows in plan order: per two-language scenario, de then en queries (3 metrics each)
  assert.deepEqual(rows.filter((_, i) => i % 3 === 0).map((r) => `${r.scenario}/${r.queryLang}`), [
    'mixed/de', 'mixed/en', 'mixed-target/de', 'mixed-target/en', 'cross/de', 'cross/en', 'mono/de',
  ]);
  for (const pool of pools) {
    const [scenario] = pool.split('.');
    const queryLang = pool.endsWith('en-queries') ? 'en' : 'de';
    const qrels: Record<string, Record<string, number>> = {};
    for (const [qid, , doc, rel] of readTrec(join(out, 'qrels', `${pool}.qrels`), 4)) (qrels[qid] ??= {})[doc] = Number(rel);
    const ranked: Record<string, { doc: string; rank: number; score: number }[]> = {};
    for (const [qid, , doc, rank, score] of readTrec(join(out, 'runs', 'bm25', `${pool}.run`), 6)) (ranked[qid] ??= []).push({ doc, rank: Number(rank), score: Number(score) });
    const qids = Object.keys(qrels);
    assert.equal(qids.length, 1190);
    assert.ok(qids.every((q) => q.startsWith(`${queryLang}-`)));
    let sumNorm = 0;
    let sumNdcg1 = 0;
    for (const qid of qids) {
      const lines = ranked[qid];
      // the file is the whole pool minus exclusions, in rank order, the score column n .. 1
      lines.forEach((l, i) => {
        assert.equal(l.rank, i + 1);
        assert.equal(l.score, lines.length - i);
      });
      const D = lines.length; // |D_q|: every candidate is written (no --run-depth)
      const relevant = Object.keys(qrels[qid]).filter((d) => qrels[qid][d] > 0);
      const maxR = Math.max(...relevant.map((d) => lines.find((l) => l.doc === d)!.rank));
      sumNorm += (Math.log2(D) - Math.log2(maxR)) / (Math.log2(D) - Math.log2(relevant.length));
      sumNdcg1 += (qrels[qid][lines[0].doc] ?? 0) / 1; // DCG@1 / IDCG@1 with binary judgments
    }
    const row = (m: string) => rows.find((r) => `${r.scenario}.${r.lang}${r.queryLang !== r.lang ? `.${r.queryLang}-queries` : ''}` === pool && r.metric === m)!.value;
    assert.ok(Math.abs(row('maxr_norm') - sumNorm / qids.length) < 1e-12, `${pool} maxr_norm: ${row('maxr_norm')} vs ${sumNorm / qids.length}`);
    assert.ok(Math.abs(row('ndcg@1') - sumNdcg1 / qids.length) < 1e-12, `${pool} ndcg@1`);
    process.stderr.write(`${pool}: maxr_norm ${row('maxr_norm').toFixed(4)}, ndcg@1 ${row('ndcg@1').toFixed(4)}, maxr ${row('maxr').toFixed(1)}\n`);
    if (scenario === 'mono') assert.ok(row('maxr_norm') > 0.8 && row('maxr_norm') < 1, `${pool}: BM25 ranks same-language answers high`);
    if (scenario === 'mixed-target') assert.equal(ranked[qids[0]].length, 479, 'the excluded parallel answer is not a candidate');
  }
});

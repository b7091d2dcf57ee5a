import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xquadCorpus } from '../../lib/data/parallel.js';
import { loadEmbedder } from '../../lib/embed/transformers-embedder.js';
import { runEvaluation } from '../../lib/eval/run-evaluation.js';
import { DenseRetriever } from '../../lib/retrieve/dense-retriever.js';
import { trecEvalReference } from '../helpers/trec-eval-reference.js';
import { defaultModelPath } from '../../lib/retrieve/resolve-retriever.js';

/** A plain reader of TREC files, independent of lib/runs/trec-io.ts. */
function readTrec(path: string, cols: number): string[][] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
    const f = l.split(/\s+/);
    assert.equal(f.length, cols, `${path}: '${l}'`);
    return f;
  });
}

test('the exported run and qrels files give xlalign\'s numbers under trec_eval\'s definitions', async () => {
  // the embedded default model: real texts get distinct scores (a toy vocabulary would tie)
  const embedder = await loadEmbedder(defaultModelPath(), { cache: false });
  const out = mkdtempSync(join(tmpdir(), 'trec-'));
  const { rows } = await runEvaluation(xquadCorpus(['de', 'en']), new DenseRetriever(embedder, { name: 'default' }), {
    scenarios: ['mixed', 'mono'], langs: ['de'], out, metrics: ['ndcg@10', 'ap', 'p@10', 'r@10'],
  });
  await embedder.dispose();
  for (const scenario of ['mixed', 'mono']) {
    const qrels: Record<string, Record<string, number>> = {};
    for (const [qid, zero, doc, rel] of readTrec(join(out, 'qrels', `${scenario}.de.qrels`), 4)) {
      assert.equal(zero, '0');
      (qrels[qid] ??= {})[doc] = Number(rel);
    }
    const runs: Record<string, { ids: string[]; scores: number[] }> = {};
    for (const [qid, q0, doc, rank, score, tag] of readTrec(join(out, 'runs', 'default', `${scenario}.de.run`), 6)) {
      assert.equal(q0, 'Q0');
      assert.equal(tag, 'default');
      const r = (runs[qid] ??= { ids: [], scores: [] });
      assert.equal(Number(rank), r.ids.length + 1, 'ranks are 1, 2, 3 ... in file order');
      r.ids.push(doc);
      r.scores.push(Number(score));
    }
    const qids = Object.keys(qrels);
    assert.equal(qids.length, 1190);
    let ties = 0;
    const sums: Record<string, number> = { 'ndcg@10': 0, ap: 0, 'p@10': 0, 'r@10': 0 };
    for (const qid of qids) {
      const { ids, scores } = runs[qid];
      ties += scores.length - new Set(scores).size;
      const ref = trecEvalReference(qrels[qid], ids, scores, 10);
      for (const m of Object.keys(sums)) sums[m] += ref[m];
    }
    // the score column is printed with 9 significant digits: ties would make trec_eval's
    // order (docno) differ from xlalign's (pessimistic); with this model there are few
    assert.ok(ties < 50, `${ties} tied scores`);
    for (const m of Object.keys(sums)) {
      const ours = rows.find((r) => r.scenario === scenario && r.metric === m)!.value;
      assert.ok(Math.abs(ours - sums[m] / qids.length) < 1e-4, `${scenario} ${m}: xlalign ${ours}, trec_eval definitions on the files ${sums[m] / qids.length}`);
    }
  }
});

/**
 * Test helper: an independent, slow, object-based implementation of the metric definitions
 * (no ties assumed): sort objects by score, then compute each measure directly from its
 * textbook formula. The real trec_eval (test/tools/trec_eval, run by test/tools/trec-eval.ts)
 * is the oracle of the definitions it has; this reference is kept beside it for what the
 * program cannot give: full-precision per-query values (trec_eval prints 4 decimals) and the
 * metrics trec_eval lacks (RR@k, MaxR, Complete@k).
 */
export function trecEvalReference(judged: Record<string, number>, ids: string[], scores: number[], k: number) {
  const ranked = ids.map((id, i) => ({ id, score: scores[i], rel: judged[id] ?? 0 })).sort((a, b) => b.score - a.score);
  const relevant = Object.entries(judged).filter(([, r]) => r > 0);
  const R = relevant.length;
  const top = ranked.slice(0, k);
  const dcg = top.reduce((s, d, i) => s + d.rel / Math.log2(i + 2), 0);
  const idcg = relevant.map(([, r]) => r).sort((a, b) => b - a).slice(0, k).reduce((s, r, i) => s + r / Math.log2(i + 2), 0);
  const first = top.findIndex((d) => d.rel > 0);
  const hits = top.filter((d) => d.rel > 0).length;
  let ap = 0;
  ranked.forEach((d, i) => {
    if (d.rel > 0) ap += ranked.slice(0, i + 1).filter((x) => x.rel > 0).length / (i + 1);
  });
  // 1-based rank of each relevant document; Infinity when it was not retrieved.
  const ranks = relevant.map(([id]) => {
    const i = ranked.findIndex((d) => d.id === id);
    return i < 0 ? Infinity : i + 1;
  });
  return {
    [`ndcg@${k}`]: idcg > 0 ? dcg / idcg : 0,
    [`rr@${k}`]: first < 0 ? 0 : 1 / (first + 1),
    [`r@${k}`]: hits / R,
    [`p@${k}`]: hits / k,
    ap: ap / R,
    maxr: Math.min(Math.max(...ranks), ranked.length + 1),
    [`complete@${k}`]: ranks.every((r) => r <= k) ? 1 : 0,
  };
}


// %% [markdown]
// # 03 · Alignment, language by language
//
// Which languages does fine-tuning help, and how? Per query language, on the XQuAD eval
// articles: MaxR, Complete@10 and PivotInclination before and after; the rank of the
// same-language answer among English distractors; the similarity of parallel vs
// non-parallel paragraphs; and bitext retrieval accuracy across every Tatoeba language.
//
// The fine-tuned model is the one notebook 02 writes (`results/notebooks/02-alignment-fine-tuning/model`);
// if it is missing, this notebook trains it the same way (same seed, about a minute).

// %%
import * as tslab from 'tslab';
import * as xl from '../../lib/index.js';
import * as aq from 'arquero';
import * as fs from 'node:fs';
const OUT = '../results/notebooks/03-per-language-alignment';
const TUNED = '../results/notebooks/02-alignment-fine-tuning/model';
const SEED = 42;
const CACHE = '../.cache/embeddings';
const exporter = await xl.createFigureExporter();
async function show(fig: any, size: { width?: number; height?: number } = {}) {
  tslab.display.png(await exporter.png(fig, { scale: 1, ...size }));
}
const split = xl.splitXquadArticles();
if (!fs.existsSync(`${TUNED}/config.json`)) {
  const samples = xl.buildTrainingSamples({ size: 2800, seed: SEED, split: split });
  const t = await xl.fineTuneStaticModel({ modelDir: xl.defaultModelPath(), samples: samples, outDir: TUNED, lossCsv: `${OUT}/loss-model.csv`, seed: SEED, progress: false });
  console.log(`trained ${TUNED} in ${t.result.seconds.toFixed(1)} s`);
} else console.log(`using ${TUNED}`);
const models: Record<string, string> = { before: xl.defaultModelPath(), after: TUNED };

// %% [markdown]
// ## Per-language before/after
//
// - **MaxR** (in `mixed`, where both the L and the English answer are relevant): the worst
//   rank among the relevant documents, MaxR(q) = max_{d ∈ rel(q)} rank(d). 1 is perfect.
// - **Complete@10** (in `mixed`): 1 if every relevant document is in the top 10.
// - **PivotInclination** (in `mixed-target`, where the English answer is removed): 1 if at
//   least one unrelated English paragraph ranks above the L answer.

// %%
const evalCorpus = xl.splitCorpus(xl.xquadCorpus(), split, 'eval');
const LANGS = evalCorpus.langs.filter((l: string) => l !== 'en');
const evalOpts = { scenarios: ['mixed', 'mixed-target'] as xl.Scenario[], langs: LANGS, metrics: ['maxr', 'complete@10', 'pivot_inclination', 'pivot_above'] };
const results: Record<string, any> = {};
for (const [name, dir] of Object.entries(models)) {
  const emb = await xl.loadEmbedder(dir, { progress: false, cache: CACHE });
  results[name] = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(emb, { name: name === 'before' ? 'default' : 'default+aligned' }), evalOpts);
  await emb.dispose();
}
const deltas = xl.compareEvaluations(results.before, results.after, { seed: SEED });
xl.writeMetricRows(OUT, [...results.before.rows, ...results.after.rows]);
xl.writeFileAtomic(`${OUT}/before-after.json`, JSON.stringify(deltas, null, 1) + '\n');

// %%
await show(xl.beforeAfterBars(deltas, 'maxr', { scenario: 'mixed', labels: ['default', 'fine-tuned'], title: 'MaxR in the mixed pool (lower is better)' }));
await show(xl.beforeAfterBars(deltas, 'complete@10', { scenario: 'mixed', labels: ['default', 'fine-tuned'], yRange: [0, 1], title: 'Complete@10 in the mixed pool' }));
await show(xl.beforeAfterBars(deltas, 'pivot_inclination', { scenario: 'mixed-target', labels: ['default', 'fine-tuned'], yRange: [0, 1], title: 'PivotInclination in mixed-target (lower is better)' }));

// %%
tslab.display.html(
  aq.from(deltas)
    .filter((d: any) => (d.scenario === 'mixed' && d.metric !== 'pivot_inclination' && d.metric !== 'pivot_above') || (d.scenario === 'mixed-target' && d.metric === 'pivot_inclination'))
    .derive({ cell: aq.escape((d: any) => `${d.before.toFixed(2)} → ${d.after.toFixed(2)}`) })
    .groupby('lang')
    .pivot('metric', 'cell')
    .orderby('lang')
    .toHTML(),
);

// %% [markdown]
// ## Where does the same-language answer land?
//
// In `mixed-target` each query has one relevant document, its paragraph in the query
// language, among the L and English paragraphs (the English answer removed); its rank is
// the per-query MaxR. Boxes: median and quartiles per language (log scale).

// %%
const ranksOf = (res: any) =>
  Object.fromEntries(LANGS.map((l: string) => [l, Object.values(res.perQuery[`mixed-target.${l}`]).map((s: any) => s.maxr)]));
await show(xl.rankDistribution(ranksOf(results.before), { label: 'rank of the same-language answer', title: 'Rank of the same-language answer in mixed-target: default model' }));
await show(xl.rankDistribution(ranksOf(results.after), { label: 'rank of the same-language answer', title: 'Rank of the same-language answer in mixed-target: fine-tuned' }));

// %% [markdown]
// ## Similarity of parallel and non-parallel paragraphs
//
// For each language L, cos(x_L[i], x_en[i]) for the eval paragraphs and their English
// versions (parallel), against cos(x_L[i], x_en[π(i)]) for a seeded random derangement π
// (non-parallel). Good alignment separates the two modes.

// %%
function derangement(n: number, seed: number): number[] {
  const rng = xl.createRng(seed);
  for (;;) {
    const p = xl.shuffled([...Array(n).keys()], rng);
    if (p.every((v: number, i: number) => v !== i)) return p;
  }
}
const dot = (a: Float32Array, i: number, b: Float32Array, j: number, dim: number) => {
  let s = 0;
  for (let k = 0; k < dim; k++) s += a[i * dim + k] * b[j * dim + k];
  return s;
};
const sims: Record<string, any[]> = {};
for (const [name, dir] of Object.entries(models)) {
  const emb = await xl.loadEmbedder(dir, { progress: false, cache: CACHE });
  const en = await emb.embed(evalCorpus.docs.en.map((d: any) => d.text), { kind: 'passage' });
  const enIndex = new Map(evalCorpus.docs.en.map((d: any, i: number) => [d.id, i]));
  sims[name] = [];
  for (const lang of LANGS) {
    const docs = evalCorpus.docs[lang];
    const x = await emb.embed(docs.map((d: any) => d.text), { kind: 'passage' });
    const perm = derangement(docs.length, SEED);
    sims[name].push({
      lang,
      parallel: docs.map((d: any, i: number) => dot(x, i, en, enIndex.get(d.id) as number, emb.dim)),
      nonParallel: docs.map((d: any, i: number) => dot(x, i, en, enIndex.get(docs[perm[i]].id) as number, emb.dim)),
    });
  }
  await emb.dispose();
}
await show(xl.similarityHistograms(sims.before, { title: 'Parallel vs non-parallel paragraph similarity: default model' }));
await show(xl.similarityHistograms(sims.after, { title: 'Parallel vs non-parallel paragraph similarity: fine-tuned' }));

// %%
const gap = (rows: any[]) => rows.map((r) => ({ lang: r.lang, gap: r.parallel.reduce((a: number, b: number) => a + b, 0) / r.parallel.length - r.nonParallel.reduce((a: number, b: number) => a + b, 0) / r.nonParallel.length }));
tslab.display.html(
  aq.from(gap(sims.before)).rename({ gap: 'before' })
    .join(aq.from(gap(sims.after)).rename({ gap: 'after' }), 'lang')
    .derive({ before: aq.escape((d: any) => +d.before.toFixed(3)), after: aq.escape((d: any) => +d.after.toFixed(3)) })
    .toHTML(),
);

// %% [markdown]
// ## Bitext accuracy across all Tatoeba languages
//
// For each of the Tatoeba languages (paired with English), the last 200 lines (the slice the
// default model held out for its 11 XQuAD languages; most other languages were never trained
// on): top-1 accuracy of finding each sentence's English translation among the 200,
// acc = (1/n) Σ_i [argmax_j cos(x_i, e_j) = i] (ties count as misses). Languages are sorted by
// the default model's accuracy.

// %%
const HELD_OUT = 200;
const tatoeba = xl.tatoebaLanguages()
  .map((code: string) => ({ code, pairs: xl.loadTatoeba(code) }))
  .filter((t: any) => t.pairs.length >= 50);
const accRows: any[] = [];
for (const [name, dir] of Object.entries(models)) {
  const emb = await xl.loadEmbedder(dir, { progress: false, cache: CACHE });
  for (const { code, pairs } of tatoeba) {
    const held = pairs.slice(-HELD_OUT);
    const x = await emb.embed(held.map((p: any) => p.text));
    const e = await emb.embed(held.map((p: any) => p.en));
    accRows.push({ lang: code, model: name === 'before' ? 'default' : 'fine-tuned', accuracy: xl.bitextAccuracy(x, e, emb.dim).xToEn, n: held.length });
  }
  await emb.dispose();
}
xl.writeFileAtomic(`${OUT}/tatoeba-accuracy.json`, JSON.stringify(accRows, null, 1) + '\n');
console.log(`${tatoeba.length} languages with at least 50 pairs`);
await show(xl.bitextAccuracyBars(accRows, { title: `Tatoeba bitext accuracy (x → en, top-1, last ${HELD_OUT} lines) across ${tatoeba.length} languages` }), { height: 450 });

// %%
const xquadCodes = new Set(Object.values(xl.TATOEBA_CODES));
tslab.display.html(
  aq.from(accRows)
    .derive({ group: aq.escape((d: any) => (xquadCodes.has(d.lang) ? 'XQuAD languages (trained)' : 'other languages')) })
    .groupby('group', 'model')
    .rollup({ languages: aq.op.count(), mean_accuracy: aq.op.mean('accuracy') })
    .derive({ mean_accuracy: aq.escape((d: any) => +d.mean_accuracy.toFixed(3)) })
    .orderby('group', 'model')
    .toHTML(),
);

// %% [markdown]
// ## Standard figures

// %%
const written = await xl.renderStandardFigures(OUT, '../figures/03-per-language-alignment', { metrics: ['maxr', 'complete@10', 'pivot_inclination'], scale: 1 });
console.log(written.map((f: any) => f.name).join('\n'));
await exporter.close();

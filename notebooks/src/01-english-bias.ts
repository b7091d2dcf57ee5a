// %% [markdown]
// # 01 · English bias in mixed-language retrieval
//
// **Question.** A multilingual retriever gets a German question. The pool holds the German
// paragraph that answers it *and* English paragraphs (the English version of the answer,
// and many unrelated ones). Does it rank unrelated **English** paragraphs above the related
// **German** one?
//
// We build pools from XQuAD (240 paragraphs and 1190 questions, translated into 12
// languages), rank them with BM25 and with the default dense model (an embedded static
// multilingual embedding model, `data/models/xlalign-static-v1`), and measure the
// inclination towards the pivot language (English) per query language and scenario.
//
// Everything here runs offline; the library is loaded from `dist/` (`npm run build`).

// %%
import * as tslab from 'tslab';
import * as xl from '../../lib/index.js';
const MODEL = process.env.XLALIGN_MODEL ?? 'default';
const EMBED = { queryPrefix: process.env.XLALIGN_QUERY_PREFIX ?? '', passagePrefix: process.env.XLALIGN_PASSAGE_PREFIX ?? '', progress: false, cache: '../.cache/embeddings' };
const OUT = '../results/notebooks/01-english-bias';
const exporter = await xl.createFigureExporter();
/** Show a plotly figure spec inline, rendered as PNG by headless Chromium. */
async function show(fig: any, size: { width?: number; height?: number } = {}) {
  tslab.display.png(await exporter.png(fig, { scale: 1, ...size }));
}
console.log(`dense model: ${MODEL}`);

// %% [markdown]
// ## The data and the pools
//
// Ids are `<lang>-<id>`: the question `de-<qid>`, the paragraph `en-a07p03`; parallel
// versions share the `<id>`. With query language L and pivot P = English:
//
// | scenario | documents | relevant to a query | excluded from its ranking |
// |---|---|---|---|
// | `mono` | L | the L answer | – |
// | `cross` | P | the P answer | – |
// | `mixed` | L ∪ P | both parallel answers | – |
// | `mixed-target` | L ∪ P | the L answer | the P answer |
// | `mixed-pivot` | L ∪ P | the P answer | the L answer |

// %%
const corpus = xl.xquadCorpus();
import * as aq from 'arquero';
tslab.display.html(
  aq.from(corpus.langs.map((l: string) => ({ lang: l, paragraphs: corpus.docs[l].length, questions: corpus.queries[l].length }))).toHTML(),
);

// %%
const pool = xl.buildPool(corpus, { scenario: 'mixed', lang: 'de' });
const q = pool.queries[0];
console.log(`mixed pool for de: ${pool.queries.length} queries x ${pool.docs.length} documents`);
console.log(`query ${q.id}: ${q.text}`);
for (const [doc, rel] of Object.entries(pool.qrels[q.id])) {
  const text = pool.docs.find((d) => d.id === doc)!.text;
  console.log(`  relevant (${rel}) ${doc}: ${text.slice(0, 110)}…`);
}

// %% [markdown]
// ## Metrics
//
// Per query q with ranking of the pool (ties broken pessimistically: among equal scores,
// non-relevant documents come first), averaged over queries:
//
// - **nDCG@10** = DCG@10 / IDCG@10 with DCG@k = Σ_{i≤k} rel_i / log₂(i+1).
// - **MaxR** = the worst (largest) 1-based rank among all relevant documents of q. In `mixed`
//   both parallel answers must be found, so MaxR is large when one language lags.
// - **Complete@k** = 1 if *every* relevant document is in the top k, else 0.
// - **PivotAbove** = the number of non-relevant English documents ranked above the best
//   relevant document in the query's language L.
// - **PivotInclination** = 1 if PivotAbove ≥ 1, else 0: the share of queries for which at
//   least one *unrelated* English paragraph beats the related same-language one. English
//   queries and queries without a relevant L document are left out.

// %% [markdown]
// ## Evaluate BM25 and the dense model
//
// Every (scenario, language) pool is ranked in full and scored. Dense embeddings are cached
// in `.cache/embeddings`, so a re-run is fast.

// %%
const SCENARIOS: xl.Scenario[] = ['mono', 'cross', 'mixed', 'mixed-target', 'mixed-pivot'];
const LANGS = xl.XQUAD_LANGS.filter((l: string) => l !== 'en');
const METRICS = ['ndcg@10', 'maxr', 'complete@10', 'pivot_inclination', 'pivot_above'];
const rows: any[] = [];
for (const name of ['bm25', MODEL]) {
  const t0 = Date.now();
  const retriever = await xl.resolveRetriever(name, { embed: EMBED });
  const res = await xl.runEvaluation(corpus, retriever, { scenarios: SCENARIOS, langs: LANGS, metrics: METRICS });
  rows.push(...res.rows);
  if (retriever instanceof xl.DenseRetriever) await retriever.embedder.dispose();
  console.log(`${retriever.name}: ${res.rows.length} metric rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
xl.writeMetricRows(OUT, rows);
console.log(`wrote ${OUT}/metrics.json`);

// %% [markdown]
// ## PivotInclination per language and scenario
//
// Rows: query language; columns: scenario (only the mixed pools hold English and
// same-language documents together, so only they define the metric).

// %%
for (const r of ['bm25', MODEL]) {
  tslab.display.html(`<h4>${r}: PivotInclination</h4>` + xl.metricTable(rows, 'pivot_inclination', { retriever: r }).toHTML());
}

// %%
await show(xl.metricBars(rows, 'pivot_inclination', { scenarios: ['mixed', 'mixed-target'], yRange: [0, 1], title: 'PivotInclination: share of queries with an unrelated English paragraph above the answer' }));

// %% [markdown]
// The same with **PivotAbove** (how many unrelated English paragraphs outrank the answer,
// on average): large values mean the query language's answer is buried under English.

// %%
await show(xl.metricBars(rows, 'pivot_above', { scenarios: ['mixed-target'], title: 'PivotAbove in mixed-target: unrelated English paragraphs above the answer' }));

// %% [markdown]
// ## Does mixing hurt? nDCG@10 per scenario, and MaxR / Complete@10 in the mixed pool

// %%
await show(xl.metricBars(rows.filter((r) => r.retriever !== 'bm25'), 'ndcg@10', { scenarios: ['mono', 'cross', 'mixed-target', 'mixed-pivot'], yRange: [0, 1], title: `nDCG@10 by scenario (${MODEL})` }));

// %%
await show(xl.metricBars(rows, 'maxr', { scenarios: ['mixed'], title: 'MaxR in the mixed pool (worst rank of the two parallel answers; lower is better)' }));
await show(xl.metricBars(rows, 'complete@10', { scenarios: ['mixed'], yRange: [0, 1], title: 'Complete@10 in the mixed pool (both parallel answers in the top 10)' }));

// %% [markdown]
// ## Summary table (mean over languages)

// %%
tslab.display.html(
  aq
    .from(rows)
    .filter((d: any) => d.scenario === 'mixed' || d.scenario === 'mixed-target')
    .groupby('retriever', 'scenario', 'metric')
    .rollup({ mean: aq.op.mean('value') })
    .derive({ mean: aq.escape((d: any) => Math.round(d.mean * 1000) / 1000) })
    .groupby('retriever', 'scenario')
    .pivot('metric', 'mean')
    .toHTML(),
);

// %% [markdown]
// ## Standard figures
//
// The same results as files: `figures/01-english-bias/*.png|svg` (what `xlalign figures
// --from results/notebooks/01-english-bias` writes).

// %%
const written = await xl.renderStandardFigures(OUT, '../figures/01-english-bias', { metrics: METRICS, scale: 1 });
console.log(written.map((f: any) => f.name).join('\n'));

// %% [markdown]
// ## Using a hub model instead
//
// Any transformers.js model works through the same path. e5 models expect the prefixes
// `query: ` and `passage: `. This machine cannot reach the Hugging Face hub, so the cell
// prints why it is skipped; on a machine with network, or with the model folder copied here
// (see `environment.md`), it evaluates the `mixed-target` pools.

// %%
const HUB = process.env.XLALIGN_HUB_MODEL ?? 'Xenova/multilingual-e5-small';
try {
  const e5 = await xl.resolveRetriever(HUB, { embed: { queryPrefix: 'query: ', passagePrefix: 'passage: ', progress: false, cache: '../.cache/embeddings' } });
  const res = await xl.runEvaluation(corpus, e5, { scenarios: ['mixed-target'], langs: LANGS, metrics: ['pivot_inclination', 'ndcg@10'] });
  if (e5 instanceof xl.DenseRetriever) await e5.embedder.dispose();
  await show(xl.metricBars(res.rows, 'pivot_inclination', { yRange: [0, 1], title: `PivotInclination in mixed-target (${HUB})` }));
} catch (e: any) {
  if (e?.name !== 'XlalignError') throw e;
  console.log(`skipped: ${HUB} is not available here.\n${e.message.slice(0, 400)}…`);
}

// %%
await exporter.close();

// %% [markdown]
// # 02 · Alignment fine-tuning
//
// Notebook 01 showed that in a pool mixing English with the query's language, unrelated
// English paragraphs often outrank the related same-language one. The remedy studied here:
// fine-tune on ~2.8k **parallel** samples with a retrieval loss (InfoNCE) plus an alignment
// loss (Jensen-Shannon divergence) that asks parallel inputs to see the documents the same way.
//
// Two things are trained, both offline in Node:
// - **the default model itself** (a static embedding model: one vector per token, mean-pooled;
//   the whole token table is updated);
// - an **alignment adapter**: a linear map W (initialised to the identity) on top of any
//   frozen encoder's embeddings, here the default model's.
//
// Then both are evaluated before and after on XQuAD articles that training never saw.

// %%
import * as tslab from 'tslab';
import * as xl from '../../lib/index.js';
import * as aq from 'arquero';
const OUT = '../results/notebooks/02-alignment-fine-tuning';
const SEED = 42;
const CACHE = '../.cache/embeddings';
const exporter = await xl.createFigureExporter();
async function show(fig: any, size: { width?: number; height?: number } = {}) {
  tslab.display.png(await exporter.png(fig, { scale: 1, ...size }));
}

// %% [markdown]
// ## A leakage-free split
//
// XQuAD's 48 articles are split (seeded) into train and eval articles. Training samples come
// from train articles only; every evaluation below uses eval articles only, so no paragraph
// or question (in any language) is on both sides.

// %%
const split = xl.splitXquadArticles();
console.log(`split seed ${split.seed}: ${split.train.length} train articles, ${split.eval.length} eval articles`);
console.log(`eval articles: ${split.eval.join(' ')}`);

// %% [markdown]
// ## The 2.8k training set
//
// Each sample is a parallel tuple (pivot = English, target = one of the 11 other languages):
// `queryPivot`, `queryTarget` (the same question in both languages) and `docPivot`,
// `docTarget` (its paragraph in both languages). Samples are balanced over the languages and
// drawn with a fixed seed.

// %%
const samples = xl.buildTrainingSamples({ size: 2800, seed: SEED, split: split });
xl.saveTrainingJsonl(`${OUT}/train-samples.jsonl`, samples);
tslab.display.html(aq.from(samples).groupby('lang').count({ as: 'samples' }).orderby('lang').toHTML());
const s0 = samples[0];
console.log(`${s0.lang} ${s0.id}\n  EN q: ${s0.queryPivot}\n  ${s0.lang} q: ${s0.queryTarget}\n  EN d: ${s0.docPivot.slice(0, 100)}…\n  ${s0.lang} d: ${s0.docTarget.slice(0, 100)}…`);

// %% [markdown]
// ## The loss
//
// All embeddings are L2-normalised, s(a, b) = a·b, τ = 0.05. In a batch of B samples the
// candidate documents D are the 2B pivot and target paragraphs.
//
// **InfoNCE** (multi-positive): each query (pivot and target version) has two positives P(q),
// the two parallel versions of its paragraph, and *each* must outrank the other in-batch
// documents on its own (SupCon's L_out, `multiPositive: 'each'`, the default):
//
// $$\mathcal{L}_{\text{InfoNCE}} = -\frac{1}{|Q|}\sum_{q} \frac{1}{|P(q)|}\sum_{p\in P(q)} \log \frac{e^{s(q,p)/\tau}}{\sum_{d\in D} e^{s(q,d)/\tau}}$$
//
// (The alternative `'sum'`, −log of the positives' total softmax mass, lets a model put all
// the mass on the same-language document; it worsened MaxR in the training engineer's runs.)
//
// **Jensen-Shannon**: for the two versions x_P, x_L of a query, p = softmax(s(x_P, D)/τ) and
// q = softmax(s(x_L, D)/τ); with m = (p+q)/2,
//
// $$\text{JSD}(p\,\|\,q) = \tfrac12 \text{KL}(p\,\|\,m) + \tfrac12 \text{KL}(q\,\|\,m) \in [0, \ln 2]$$
//
// and symmetrically for the documents against the in-batch queries. Total:
// $\mathcal{L} = \mathcal{L}_{\text{InfoNCE}} + \lambda\,\text{JSD}$ with λ = 1. (The study's exact
// formulation is not public; these choices are configurable in `AlignmentLoss`.)

// %% [markdown]
// ## Before: the default model on the eval articles

// %%
const evalCorpus = xl.splitCorpus(xl.xquadCorpus(), split, 'eval');
const SCENARIOS: xl.Scenario[] = ['mono', 'cross', 'mixed', 'mixed-target'];
const LANGS = evalCorpus.langs.filter((l: string) => l !== 'en');
const METRICS = ['ndcg@10', 'maxr', 'complete@10', 'pivot_inclination', 'pivot_above'];
const evalOpts = { scenarios: SCENARIOS, langs: LANGS, metrics: METRICS };
const baseEmbedder = await xl.loadEmbedder(xl.defaultModelPath(), { progress: false, cache: CACHE });
const before = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(baseEmbedder, { name: 'default' }), evalOpts);
console.log(`${evalCorpus.queries.de.length} eval queries and ${evalCorpus.docs.de.length} eval paragraphs per language`);

// %% [markdown]
// ## Training (a): the whole static model
//
// AdamW (lr 1e-3 with warmup and linear decay, 3 epochs, batches of 32 samples that never
// share a paragraph), sparse updates of the token rows a batch touches. The fine-tuned model
// is written as a new model folder that loads like any other.

// %%
const tuned = await xl.fineTuneStaticModel({ modelDir: xl.defaultModelPath(), samples: samples, outDir: `${OUT}/model`, lossCsv: `${OUT}/loss-model.csv`, seed: SEED, progress: false });
console.log(`static model: ${tuned.result.steps} steps in ${tuned.result.seconds.toFixed(1)} s, final loss ${tuned.result.history.at(-1)!.loss.toFixed(3)}`);

// %% [markdown]
// ## Training (b): an alignment adapter on the frozen default model
//
// The samples are embedded once by the frozen encoder; only W (dim x dim) is trained.

// %%
const trainedAdapter = await xl.trainAdapter({ embedder: baseEmbedder, samples: samples, out: `${OUT}/adapter.safetensors`, lossCsv: `${OUT}/loss-adapter.csv`, seed: SEED, progress: false });
console.log(`adapter: ${trainedAdapter.result.steps} steps in ${trainedAdapter.result.seconds.toFixed(1)} s (+ ${trainedAdapter.embedSeconds.toFixed(1)} s embedding), final loss ${trainedAdapter.result.history.at(-1)!.loss.toFixed(3)}`);

// %% [markdown]
// ## Loss curves
//
// Total loss and its parts per step (faint: raw; solid: 10-step moving average).

// %%
const logs = { model: xl.readLossCsv(`${OUT}/loss-model.csv`), adapter: xl.readLossCsv(`${OUT}/loss-adapter.csv`) };
await show(xl.lossCurve(logs, { series: ['loss'], smooth: 10, title: 'Training loss (InfoNCE + JSD)' }));
await show(xl.lossCurve(logs, { series: ['infoNCE', 'jsd'], smooth: 10, title: 'The two terms' }));

// %% [markdown]
// ## After: both fine-tuned variants on the eval articles

// %%
const tunedEmbedder = await xl.loadEmbedder(`${OUT}/model`, { progress: false, cache: CACHE });
const afterModel = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(tunedEmbedder, { name: 'default+aligned' }), evalOpts);
await tunedEmbedder.dispose();
const adaptedEmbedder = await xl.loadEmbedder(xl.defaultModelPath(), { progress: false, cache: CACHE, adapter: trainedAdapter.adapter });
const afterAdapter = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(adaptedEmbedder, { name: 'default+adapter' }), evalOpts);
await adaptedEmbedder.dispose();
await baseEmbedder.dispose();
const deltasModel = xl.compareEvaluations(before, afterModel, { seed: SEED });
const deltasAdapter = xl.compareEvaluations(before, afterAdapter, { seed: SEED });
xl.writeMetricRows(OUT, [...before.rows, ...afterModel.rows, ...afterAdapter.rows]);
xl.writeFileAtomic(`${OUT}/before-after.json`, JSON.stringify(deltasModel, null, 1) + '\n');
xl.writeFileAtomic(`${OUT}/before-after-adapter.json`, JSON.stringify(deltasAdapter, null, 1) + '\n');

// %% [markdown]
// Mean over the 11 languages, with the change (Δ = after − before). Error bars in the charts
// below are 95% paired-bootstrap intervals of Δ over queries (1000 resamples, seeded).

// %%
const summary = (deltas: any[], name: string) =>
  aq.from(deltas)
    .filter((d: any) => d.scenario === 'mixed' || d.scenario === 'mixed-target')
    .groupby('scenario', 'metric')
    .rollup({ before: aq.op.mean('before'), after: aq.op.mean('after'), delta: aq.op.mean('delta') })
    .derive({ variant: aq.escape(() => name) });
tslab.display.html(
  summary(deltasModel, 'fine-tuned model').concat(summary(deltasAdapter, 'adapter'))
    .derive({ before: aq.escape((d: any) => +d.before.toFixed(3)), after: aq.escape((d: any) => +d.after.toFixed(3)), delta: aq.escape((d: any) => +d.delta.toFixed(3)) })
    .select('variant', 'scenario', 'metric', 'before', 'after', 'delta')
    .toHTML(),
);

// %%
for (const metric of ['pivot_inclination', 'maxr', 'complete@10']) {
  await show(xl.beforeAfterBars(deltasModel, metric, { scenario: metric === 'pivot_inclination' ? 'mixed-target' : 'mixed', labels: ['default', 'fine-tuned model'], yRange: metric === 'maxr' ? undefined : [0, 1] }));
}

// %%
await show(xl.beforeAfterBars(deltasAdapter, 'pivot_inclination', { scenario: 'mixed-target', labels: ['default', 'default + adapter'], yRange: [0, 1] }));

// %% [markdown]
// Does alignment cost monolingual quality? nDCG@10 in `mono` (the query language only) and
// `cross` (English documents only), before and after fine-tuning the model:

// %%
await show(xl.beforeAfterBars(deltasModel, 'ndcg@10', { scenario: 'mono', labels: ['default', 'fine-tuned model'], yRange: [0, 1] }));
await show(xl.beforeAfterBars(deltasModel, 'ndcg@10', { scenario: 'cross', labels: ['default', 'fine-tuned model'], yRange: [0, 1] }));

// %% [markdown]
// ## Standard figures
//
// Written to `figures/02-alignment-fine-tuning/` (the same as `xlalign figures --from
// results/notebooks/02-alignment-fine-tuning`).

// %%
const written = await xl.renderStandardFigures(OUT, '../figures/02-alignment-fine-tuning', { metrics: ['pivot_inclination', 'maxr', 'complete@10'], scale: 1 });
console.log(written.map((f: any) => f.name).join('\n'));
await exporter.close();

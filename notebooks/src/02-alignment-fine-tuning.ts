// %% [markdown]
// # 02 · Alignment fine-tuning
//
// Notebook 01 showed that in a pool mixing English with the query's language, unrelated
// English paragraphs often outrank the related same-language one. The remedy studied here
// (arXiv 2604.05684): fine-tune on ~2.8k **parallel** samples with the study's loss, a
// retrieval term (InfoNCE from the target-language passage to its English query) plus an
// alignment term (Jensen-Shannon distance between the two passages' embeddings, each read as
// a distribution over its dimensions).
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
// The study's objective (`StudyLoss`, the default of `xlalign train`), on L2-normalised
// embeddings of a batch of B triplets (q_en, p_en, p_tgt):
//
// **L_JSD**: each passage embedding z is read as a distribution over its own dimensions,
// P(z)_i = exp(z_i/τ_J) / Σ_k exp(z_k/τ_J) with τ_J = 1, and
//
// $$\mathcal{L}_{\text{JSD}} = \frac1B\sum_b \sqrt{\text{JSD}\big(P(z^{en}_b)\,\|\,P(z^{tgt}_b)\big) + \varepsilon}$$
//
// (ε = 1e-8 inside the root so that the gradient stays finite at 0; the write-up puts it
// outside). For unit vectors in 368 dimensions the softmax is nearly uniform and L_JSD is
// about 0.01–0.02: see the loss curves below.
//
// **L_NCE**: InfoNCE with cosine similarity, anchor p_tgt, positive its English query q_en,
// negatives the other in-batch English queries, τ = 0.05:
//
// $$\mathcal{L}_{\text{NCE}} = -\frac1B\sum_b \log \frac{e^{\cos(p^{tgt}_b, q^{en}_b)/\tau}}{\sum_j e^{\cos(p^{tgt}_b, q^{en}_j)/\tau}}$$
//
// Total: $\mathcal{L} = \mathcal{L}_{\text{JSD}} + \mathcal{L}_{\text{NCE}}$ (equal weights, as in the study).
// Our earlier formulation stays available as the variant `alignment` (InfoNCE of both query
// versions against both languages' in-batch documents + λ·JSD of *score* distributions);
// `xl.LOSS_VARIANT_TABLE` lists every variant.

// %%
for (const [name, spec] of Object.entries(xl.LOSS_VARIANT_TABLE) as [string, any][]) console.log(`${name.padEnd(14)} ${spec.describe}`);

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
const tuned = await xl.fineTuneStaticModel({ modelDir: xl.defaultModelPath(), samples: samples, outDir: `${OUT}/model`, lossCsv: `${OUT}/loss-model.csv`, loss: xl.makeLoss('study'), seed: SEED, progress: false });
console.log(`static model: ${tuned.result.steps} steps in ${tuned.result.seconds.toFixed(1)} s, final loss ${tuned.result.history.at(-1)!.loss.toFixed(3)}`);

// %% [markdown]
// ## Training (b): an alignment adapter on the frozen default model
//
// The samples are embedded once by the frozen encoder; only W (dim x dim) is trained.

// %%
const trainedAdapter = await xl.trainAdapter({ embedder: baseEmbedder, samples: samples, out: `${OUT}/adapter.safetensors`, lossCsv: `${OUT}/loss-adapter.csv`, loss: xl.makeLoss('study'), seed: SEED, progress: false });
console.log(`adapter: ${trainedAdapter.result.steps} steps in ${trainedAdapter.result.seconds.toFixed(1)} s (+ ${trainedAdapter.embedSeconds.toFixed(1)} s embedding), final loss ${trainedAdapter.result.history.at(-1)!.loss.toFixed(3)}`);

// %% [markdown]
// ## Loss curves
//
// Total loss and its parts per step (faint: raw; solid: 10-step moving average).

// %%
const logs = { model: xl.readLossCsv(`${OUT}/loss-model.csv`), adapter: xl.readLossCsv(`${OUT}/loss-adapter.csv`) };
await show(xl.lossCurve(logs, { series: ['loss'], smooth: 10, title: 'Training loss (L_JSD + L_NCE)' }));
await show(xl.lossCurve(logs, { series: ['infoNCE'], smooth: 10, title: 'L_NCE' }));
await show(xl.lossCurve(logs, { series: ['jsd'], smooth: 10, title: 'L_JSD (its own scale: about 1% of L_NCE)' }));
console.log('mean loss parts, first and last epoch:', JSON.stringify({ model: xl.lossPartsByEpoch(tuned.result.history), adapter: xl.lossPartsByEpoch(trainedAdapter.result.history) }, null, 1));

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
const meansModel = xl.compareMeansOverLanguages(before, afterModel, { seed: SEED });
const meansAdapter = xl.compareMeansOverLanguages(before, afterAdapter, { seed: SEED });

// %% [markdown]
// Mean over the 11 languages, with the change (Δ = after − before) and its 95% interval: a
// paired bootstrap of the *mean over languages* that resamples queries within each language
// (1000 resamples, seeded). Error bars in the per-language charts below are the
// per-language intervals.

// %%
const summary = (means: any[], name: string) =>
  aq.from(means)
    .filter((d: any) => ['mixed', 'mixed-target', 'mono'].includes(d.scenario) && ['pivot_inclination', 'maxr', 'complete@10', 'ndcg@10'].includes(d.metric))
    .derive({ variant: aq.escape(() => name), before: aq.escape((d: any) => +d.before.toFixed(3)), after: aq.escape((d: any) => +d.after.toFixed(3)), delta: aq.escape((d: any) => +d.delta.toFixed(3)),
      ci: aq.escape((d: any) => (d.deltaLow === undefined ? '' : `[${d.deltaLow.toFixed(3)}, ${d.deltaHigh.toFixed(3)}]`)) })
    .select('variant', 'scenario', 'metric', 'before', 'after', 'delta', 'ci');
tslab.display.html(summary(meansModel, 'fine-tuned model').concat(summary(meansAdapter, 'adapter')).toHTML());

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
// ## The study's ablation rows, with the adapter
//
// Each variant trains a fresh adapter on the same samples (seconds each): the study's loss,
// L_JSD replaced by InfoNCE between the parallel passages (L_NCEpsg), without L_JSD, without
// L_NCE, and our earlier `alignment` loss. The table has the study's ablation layout (mean
// over the language pairs of `mixed`, the study's "Multi"; Comp@10 ×100); the second table
// gives each variant's change with the interval of the mean over languages.

// %%
const ablationOpts = { scenarios: ['mono', 'mixed', 'mixed-target'] as xl.Scenario[], langs: LANGS, metrics: METRICS };
const ablationBase = await xl.loadEmbedder(xl.defaultModelPath(), { progress: false, cache: CACHE });
const beforeAblation = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(ablationBase, { name: 'default' }), ablationOpts);
const ablation: any[] = [];
for (const variant of xl.ABLATION_VARIANTS) {
  const t = await xl.trainAdapter({ embedder: ablationBase, samples: samples, loss: xl.makeLoss(variant), seed: SEED, progress: false });
  const emb = await xl.loadEmbedder(xl.defaultModelPath(), { progress: false, cache: CACHE, adapter: t.adapter });
  const after = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(emb, { name: `default+adapter(${variant})` }), ablationOpts);
  await emb.dispose();
  ablation.push({ variant, after, means: xl.compareMeansOverLanguages(beforeAblation, after, { seed: SEED }), parts: xl.lossPartsByEpoch(t.result.history).lastEpoch });
}
await ablationBase.dispose();
tslab.display.markdown(xl.paperTableMarkdown(xl.paperAblationTable(ablation.map((a) => ({ variant: a.variant, before: beforeAblation.rows, after: a.after.rows })))));

// %%
const view = [['mixed-target', 'pivot_inclination'], ['mixed', 'maxr'], ['mixed', 'complete@10'], ['mono', 'ndcg@10']];
tslab.display.html(
  aq.from(ablation.flatMap((a) => view.map(([scenario, metric]) => {
    const d = a.means.find((m: any) => m.scenario === scenario && m.metric === metric);
    return { variant: a.variant, cell: `${scenario} ${metric}`, value: `${d.delta >= 0 ? '+' : ''}${d.delta.toFixed(3)} [${d.deltaLow.toFixed(3)}, ${d.deltaHigh.toFixed(3)}]` };
  })))
    .groupby('variant')
    .pivot('cell', 'value')
    .toHTML(),
);
console.log(ablation.map((a) => `${a.variant}: ${Object.entries(a.parts).map(([k, v]: [string, any]) => `${k} ${v.toPrecision(3)}`).join(', ')}`).join('\n'));

// %% [markdown]
// ## Standard figures
//
// Written to `figures/02-alignment-fine-tuning/` (the same as `xlalign figures --from
// results/notebooks/02-alignment-fine-tuning --out figures/02-alignment-fine-tuning`).

// %%
const written = await xl.renderStandardFigures(OUT, '../figures/02-alignment-fine-tuning', { metrics: ['pivot_inclination', 'maxr', 'complete@10'], scale: 1 });
console.log(written.map((f: any) => f.name).join('\n'));
await exporter.close();

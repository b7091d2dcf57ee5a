// %% [markdown]
// # 04 · Fine-tuning a transformer encoder
//
// Notebook 02 fine-tuned a static model and an adapter on frozen embeddings. The study's
// remedy fine-tunes the **transformer encoder itself** (multilingual-e5, bge-m3, ...). xlalign
// does that in TypeScript: the encoder's forward and backward passes run on ONNX Runtime in
// graphs that xlalign builds (a small reverse-mode differentiator emits the backward nodes;
// see `lib/models/transformer/README.md`), weights are read from and written to Hugging Face
// folders (`config.json` + `model.safetensors`), and the result loads through the same path as
// every other dense model (transformers.js).
//
// Offline, this notebook builds a small encoder: the default static model's token table
// (368 dimensions) under one randomly initialised BERT layer, trains it with the alignment
// loss on parallel XQuAD samples (GradCache two-pass, AdamW with warm-up and decay, the word
// table frozen) and compares per-language metrics before and after on held-out articles. The
// last cell fine-tunes multilingual-e5-small from the hub where a network is available.

// %%
import * as tslab from 'tslab';
import * as xl from '../../lib/index.js';
const OUT = '../results/notebooks/04-encoder-fine-tuning';
const SEED = 42;
const exporter = await xl.createFigureExporter();
async function show(fig: any, size: { width?: number; height?: number } = {}) {
  tslab.display.png(await exporter.png(fig, { scale: 1, ...size }));
}

// %% [markdown]
// ## A small encoder, built here
//
// Word embeddings: the default static model's table; position and token-type tables start at
// zero; one post-LN BERT layer (8 heads of 46 dimensions, feed-forward 736) with N(0, 0.02²)
// weights, so at first the encoder is close to a LayerNorm of the token vectors. Written as a
// Hugging Face BERT folder (model.safetensors, onnx/model.onnx, the static model's WordPiece
// tokenizer, 128 tokens at most).

// %%
const stat = xl.readStaticModel(xl.defaultModelPath());
const weights = xl.encoderFromTable(stat.embeddings, stat.vocabSize, stat.dim, { numLayers: 1, numHeads: 8, intermediateSize: 2 * stat.dim, seed: SEED });
const BASE = `${OUT}/base-model`;
xl.writeEncoderFolder(BASE, weights, { tokenizer: stat.tokenizer, tokenizerConfig: { ...stat.tokenizerConfig, model_max_length: 128 } });
console.log(`${BASE}: BERT, ${weights.config.numLayers} layer, hidden ${weights.config.hiddenSize}, ${weights.config.numHeads} heads, vocabulary ${weights.config.vocabSize}`);

// %% [markdown]
// ## Data and evaluation set-up
//
// The leakage-free article split of notebook 02; 704 training samples (a quarter of the
// study's 2,800, to keep this notebook to minutes on a laptop CPU) balanced over the 11
// target languages; evaluation on the eval articles in five languages of five scripts.

// %%
const split = xl.splitXquadArticles();
const samples = xl.buildTrainingSamples({ size: 704, seed: SEED, split: split });
const evalCorpus = xl.splitCorpus(xl.xquadCorpus(), split, 'eval');
const LANGS = ['de', 'ru', 'ar', 'hi', 'zh'];
const SCENARIOS: xl.Scenario[] = ['mono', 'mixed', 'mixed-target'];
const evalOpts = { scenarios: SCENARIOS, langs: LANGS, metrics: ['ndcg@10', 'maxr', 'complete@10', 'pivot_inclination'] };
async function evaluate(folder: string, name: string) {
  const embedder = await xl.loadEmbedder(folder, { progress: false, cache: false, maxLength: 128 });
  const res = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(embedder, { name: name }), evalOpts);
  await embedder.dispose();
  return res;
}
const before = await evaluate(BASE, 'small-encoder');

// %% [markdown]
// ## Training
//
// `fineTuneEncoder` runs the loop: per batch of 32 samples, (1) the 128 texts are embedded
// without keeping activations, (2) the loss (InfoNCE + Jensen-Shannon, as in notebook 02)
// gives the gradient of each embedding, (3) each micro-batch is run again forward and
// backward on ONNX Runtime with those gradients, (4) AdamW steps every trained parameter.
// The word table stays frozen (`wordEmbeddings: 'sparse'` would update the rows a batch
// uses). A checkpoint is written every 10 steps: killing the kernel and running the cell
// again resumes where it stopped.

// %%
const FT = `${OUT}/fine-tuned`;
const run = await xl.fineTuneEncoder({ modelDir: BASE, samples: samples, outDir: FT, epochs: 1, batchSize: 32, lr: 1e-4, maxLength: 128, microBatch: 32, checkpointEvery: 10, seed: SEED, progress: false });
console.log(`${run.steps} steps in ${run.seconds.toFixed(0)} s; loss ${run.history[0].loss.toFixed(3)} -> ${run.history.at(-1)!.loss.toFixed(3)}`);
await show(xl.lossCurve(xl.readLossCsv(`${FT}/loss.csv`), { series: ['loss'], smooth: 5, title: 'Training loss (InfoNCE + JSD)' }));

// %% [markdown]
// ## Before and after, per language
//
// The fine-tuned folder `fine-tuned/model` is evaluated through transformers.js like any
// model. Error bars: 95% paired-bootstrap intervals of the change over queries.

// %%
const after = await evaluate(`${FT}/model`, 'small-encoder+aligned');
const deltas = xl.compareEvaluations(before, after, { seed: SEED });
xl.writeMetricRows(OUT, [...before.rows, ...after.rows]);
xl.writeFileAtomic(`${OUT}/before-after.json`, JSON.stringify(deltas, null, 1) + '\n');
for (const [metric, scenario] of [['maxr', 'mixed'], ['complete@10', 'mixed'], ['pivot_inclination', 'mixed-target'], ['ndcg@10', 'mono']] as const) {
  await show(xl.beforeAfterBars(deltas, metric, { scenario: scenario, labels: ['small encoder', 'fine-tuned'], yRange: metric === 'maxr' ? undefined : [0, 1] }));
}

// %% [markdown]
// ## The same on multilingual-e5-small (needs the hub)
//
// `fineTuneEncoder` takes a hub id too: `model.safetensors`, `config.json` and the tokenizer
// files are fetched once into transformers.js's cache. e5 expects the prefixes `query: ` and
// `passage: `. This machine cannot reach the hub, so the cell prints why it is skipped; with
// a network (or the model folder copied here and `XLALIGN_HUB_MODEL` pointing to it) it
// fine-tunes the top 2 layers for one epoch and evaluates before and after.

// %%
const HUB = process.env.XLALIGN_HUB_MODEL ?? 'intfloat/multilingual-e5-small';
try {
  const dir = await xl.resolveEncoderFolder(HUB);
  const prefixes = { queryPrefix: 'query: ', passagePrefix: 'passage: ' };
  const e5Eval = async (folder: string, name: string) => {
    const embedder = await xl.loadEmbedder(folder, { ...prefixes, progress: false, cache: false });
    const res = await xl.runEvaluation(evalCorpus, new xl.DenseRetriever(embedder, { name: name }), evalOpts);
    await embedder.dispose();
    return res;
  };
  const e5Before = await e5Eval(dir, 'e5-small');
  const e5Run = await xl.fineTuneEncoder({ modelDir: dir, samples: samples, outDir: `${OUT}/e5-small`, ...prefixes, topLayers: 2, epochs: 1, lr: 2e-5, maxLength: 128, microBatch: 16, seed: SEED, progress: false });
  const e5After = await e5Eval(`${OUT}/e5-small/model`, 'e5-small+aligned');
  console.log(`${e5Run.steps} steps in ${e5Run.seconds.toFixed(0)} s`);
  await show(xl.beforeAfterBars(xl.compareEvaluations(e5Before, e5After, { seed: SEED }), 'pivot_inclination', { scenario: 'mixed-target', labels: ['e5-small', 'fine-tuned'], yRange: [0, 1] }));
} catch (e: any) {
  console.log(`skipped: ${HUB} is not available here.\n${e.message.slice(0, 400)}…`);
}
await exporter.close();

// xlalign from a script: English inclination of the default model on German XQuAD questions.
// Run: node examples/quickstart.mjs (after npm run build), or from the sources:
//      npx tsx --conditions=xlalign-source examples/quickstart.mjs
import * as xl from 'xlalign';

const corpus = xl.xquadCorpus(['de', 'en']); // or xl.loadJsonlDataset('my-data'), xl.loadBeir('scifact')
const retriever = await xl.resolveRetriever('default');
const { rows } = await xl.runEvaluation(corpus, retriever, { scenarios: ['mixed-target'], langs: ['de'], pivot: 'en' });
for (const r of rows) console.log(`${r.scenario} ${r.lang} ${r.metric}: ${r.value.toFixed(3)}`);
await retriever.embedder.dispose();

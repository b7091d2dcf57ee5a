/**
 * One benchmark measurement in its own process, so that its peak RSS is its own and its
 * timing does not pay for another measurement's heap. Usage (from bench/run.ts):
 * `node --import tsx bench/child.ts <task> '<json params>'`; prints `RESULT <json>`.
 */
import { benchScoring } from './scoring.js';
import { benchMetrics, writeMetricsFixture } from './metrics.js';
import { benchEmbeddingPaths } from './embedding.js';
import { loadXquad } from '../lib/data/xquad.js';
import { benchEmbeddingThreads, benchScoringThreads } from './threads.js';

const [task, json] = process.argv.slice(2);
const p = JSON.parse(json ?? '{}');
let result: object;
if (task === 'scoring') result = await benchScoring(p);
else if (task === 'metrics-write') result = writeMetricsFixture(p.dir, p);
else if (task === 'metrics') result = benchMetrics(p.files, p);
else if (task === 'embedding') {
  // German XQuAD: all paragraphs and questions (the texts of one evaluation pool).
  const x = loadXquad(p.lang ?? 'de');
  const texts = [...x.paragraphs.map((t) => t.context), ...x.questions.map((q) => q.question)].slice(0, p.limit ?? Infinity);
  result = await benchEmbeddingPaths(p.modelDir, texts, { repeats: p.repeats ?? 3 });
} else if (task === 'threads-scoring') result = { points: await benchScoringThreads(p) };
else if (task === 'threads-embedding') {
  const x = loadXquad('de');
  const texts = [...x.paragraphs.map((t) => t.context), ...x.questions.map((q) => q.question)].slice(0, p.limit ?? 480);
  result = { points: await benchEmbeddingThreads(p.modelDir, texts, { maxLength: p.maxLength }) };
} else throw new Error(`bench/child.ts: unknown task '${task}'; use scoring, metrics-write, metrics, embedding, threads-scoring or threads-embedding`);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(`RESULT ${JSON.stringify({ ...result, peakRssMiB })}`);

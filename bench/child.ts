/**
 * One benchmark measurement in its own process, so that its peak RSS is its own and its
 * timing does not pay for another measurement's heap. Usage (from bench/run.ts):
 * `node --import tsx bench/child.ts <task> '<json params>'`; prints `RESULT <json>`.
 */
import { benchScoring } from './scoring.js';
import { benchMetrics, writeMetricsFixture } from './metrics.js';

const [task, json] = process.argv.slice(2);
const p = JSON.parse(json ?? '{}');
let result: object;
if (task === 'scoring') result = await benchScoring(p);
else if (task === 'metrics-write') result = writeMetricsFixture(p.dir, p);
else if (task === 'metrics') result = benchMetrics(p.files, p);
else throw new Error(`bench/child.ts: unknown task '${task}'; use scoring, metrics-write or metrics`);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(`RESULT ${JSON.stringify({ ...result, peakRssMiB })}`);

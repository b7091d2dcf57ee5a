/**
 * An ablation folder (`xlalign ablate --out DIR`: one subfolder per loss variant, each an
 * `xlalign train` folder) and its summary files `ablation.json` and `ablation.md`: the one
 * owner of their format (schema, writer, readers, the summary table).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { BeforeAfterMeanRowSchema, BeforeAfterRowSchema, type BeforeAfterMeanRow, type BeforeAfterRow } from './before-after.js';
import { readResultsConfig } from './config.js';
import { readMetricRowsFile } from './metric-rows.js';
import type { AblationVariantRows } from './paper-table.js';
import { toMarkdown } from './table-format.js';

/** zod schema of one entry of `ablation.json` (one trained variant). */
export const AblationEntrySchema = z.looseObject({
  variant: z.string().min(1),
  /** Name of the trained retriever. */
  name: z.string().min(1),
  trainSeconds: z.number(),
  /** Mean loss and loss parts over the first and last epoch (`lossPartsByEpoch`). */
  lossParts: z.record(z.string(), z.record(z.string(), z.number())),
  means: z.array(BeforeAfterMeanRowSchema),
  deltas: z.array(BeforeAfterRowSchema),
});
/** One entry of `ablation.json`. */
export interface AblationEntry {
  variant: string;
  name: string;
  trainSeconds: number;
  lossParts: Record<string, Record<string, number>>;
  means: BeforeAfterMeanRow[];
  deltas: BeforeAfterRow[];
}

/** The rows of the ablation summary: the study's headline metrics. */
export const ABLATION_VIEW: readonly [string, string][] = [
  // (PivotInclination is the same in mixed and mixed-target: the pivot answer is relevant in one, excluded in the other)
  ['mixed-target', 'pivot_inclination'], ['mixed', 'pivot_inclination'], ['mixed-target', 'pivot_above'], ['mixed-target', 'maxr'], ['mixed', 'maxr'],
  ['mixed', 'maxr_norm'], ['mixed', 'complete@10'], ['mono', 'ndcg@10'],
];

/**
 * The summary table of an ablation: one row per scenario, metric and query language of
 * {@link ABLATION_VIEW}, the value before training and each variant's Δ with the interval
 * of the mean over languages; then each variant's loss parts over the last epoch.
 * @example ablationMarkdown(entries, '## Loss ablation: default, head adapter')
 */
export function ablationMarkdown(entries: readonly AblationEntry[], title: string): string {
  const f = (v: number) => v.toFixed(3);
  const body: string[][] = [];
  // one row per view and query language (own-language queries first, then pivot-language ones)
  const queryLangs = [undefined, ...new Set(entries.flatMap((e) => e.means.map((d) => d.queryLang)).filter((q): q is string => q !== undefined))];
  for (const queryLang of queryLangs) {
    for (const [scenario, metric] of ABLATION_VIEW) {
      const cells = entries.map((e) => e.means.find((d) => d.scenario === scenario && d.queryLang === queryLang && d.metric === metric));
      if (!cells[0]) continue;
      const deltas = cells.map((d) => (d ? `${d.delta >= 0 ? '+' : ''}${f(d.delta)}${d.deltaLow === undefined ? '' : ` [${f(d.deltaLow)}, ${f(d.deltaHigh!)}]`}` : ''));
      body.push([`${scenario}${queryLang ? ` (${queryLang} queries)` : ''}`, metric, f(cells[0].before), ...deltas]);
    }
  }
  const columns = ['scenario', 'metric', 'before', ...entries.map((e) => `Δ ${e.variant}`)];
  const parts = (v: Record<string, number> | undefined) => Object.entries(v ?? {}).map(([k, x]) => `${k} ${x.toPrecision(3)}`).join(', ');
  const lines = [title, '', toMarkdown(columns, body, columns.map((_, i) => (i < 2 ? 'left' : 'right'))), '', 'Training loss (mean over the last epoch; parts unweighted):', ''];
  for (const e of entries) lines.push(`- ${e.variant}: ${parts(e.lossParts.lastEpoch)} (${e.trainSeconds.toFixed(1)} s of training)`);
  lines.push('');
  return lines.join('\n');
}

/** Write `ablation.json` (the entries, checked) and `ablation.md` atomically. */
export function writeAblation(dir: string, entries: readonly AblationEntry[], markdown: string): void {
  const checked = z.array(AblationEntrySchema).parse(entries);
  writeFileAtomic(join(dir, 'ablation.md'), markdown);
  writeFileAtomic(join(dir, 'ablation.json'), JSON.stringify(checked, null, 1) + '\n');
}

/**
 * Read `<dir>/ablation.json`.
 * @throws XlalignError naming the file, entry and field.
 */
export function readAblation(dir: string): AblationEntry[] {
  const file = join(dir, 'ablation.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw xlError('readAblation', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const r = z.array(AblationEntrySchema).safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw xlError('readAblation', `${file}: ${issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}: ${issue.message}`);
  }
  return r.data as AblationEntry[];
}

/**
 * The variants of an ablation folder: every subfolder with a `metrics.json` and a
 * `config.json` of an alignment experiment, in the order of `ablation.json` when present.
 * The base retriever's rows are `before`, the others `after`.
 * @throws XlalignError when a subfolder's config.json does not name its model.
 */
export function readAblationFolder(dir: string): AblationVariantRows[] {
  const order: string[] = existsSync(join(dir, 'ablation.json'))
    ? (JSON.parse(readFileSync(join(dir, 'ablation.json'), 'utf8')) as { variant: string }[]).map((v) => v.variant)
    : readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  const out: AblationVariantRows[] = [];
  for (const variant of order) {
    const metrics = join(dir, variant, 'metrics.json');
    const configFile = join(dir, variant, 'config.json');
    if (!existsSync(metrics) || !existsSync(configFile)) continue;
    const config = readResultsConfig(join(dir, variant)) as { model?: unknown; loss?: unknown };
    if (typeof config.model !== 'string') throw xlError('xlalign table', `${configFile}: field 'model' missing; expected the config.json of xlalign train`);
    const rows = readMetricRowsFile(metrics);
    out.push({ variant: typeof config.loss === 'string' ? config.loss : variant, before: rows.filter((r) => r.retriever === config.model), after: rows.filter((r) => r.retriever !== config.model) });
  }
  return out;
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { xlError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { markdownTables, type MetricRow } from '../results/metric-rows.js';
import { paperAblationTable, paperMainTable, paperTableCsv, paperTableMarkdown, type AblationVariantRows, type PaperTable } from '../results/paper-table.js';
import { parseMetricRows } from '../plot/metric-rows.js';
import { checkExists } from './validate.js';

function readRows(file: string): MetricRow[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw xlError('xlalign table', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  return parseMetricRows(json, { file });
}

/**
 * The variants of an ablation folder (`xlalign ablate --out DIR`): every subfolder with a
 * `metrics.json` and a `config.json` of an alignment experiment, in the order of
 * `ablation.json` when present. The base retriever's rows are `before`, the others `after`.
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
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { model?: string; loss?: string };
    if (!config.model) throw xlError('xlalign table', `${configFile}: field 'model' missing; expected the config.json of xlalign train`);
    const rows = readRows(metrics);
    out.push({ variant: config.loss ?? variant, before: rows.filter((r) => r.retriever === config.model), after: rows.filter((r) => r.retriever !== config.model) });
  }
  return out;
}

/** `xlalign table`: the study's tables (or plain per-scenario tables) from a results folder, as Markdown and CSV. */
export function tableCommand(): Command {
  return new Command('table')
    .description("Print a results folder's tables: --style paper gives the study's main table (retriever × language pair; Query En / Query Tgt × Comp@10, Max@R, Max@R_norm) or, for an ablate folder, its ablation table")
    .requiredOption('--from <dir>', 'a folder of xlalign eval or train (metrics.json), or of xlalign ablate (one subfolder per loss variant)')
    .addOption(new Option('--style <style>', "'paper': the study's layout; 'plain': one table per retriever and scenario").choices(['paper', 'plain']).default('paper'))
    .option('--scenario <name>', "scenario of the paper table: mixed (the study's Multi), mono (Mono-Same) or cross (Mono-Cross)", 'mixed')
    .option('--pivot <lang>', 'pivot language (its queries are "Query En")', 'en')
    .option('--digits <n>', 'decimals in Markdown', '2')
    .option('--out <dir>', 'where to write paper-table.md and paper-table.csv (or paper-ablation.*); default the --from folder')
    .action((opts) => {
      const from = checkExists('xlalign table', '--from', opts.from, 'folder');
      const digits = Number(opts.digits);
      if (!Number.isInteger(digits) || digits < 0) throw xlError('xlalign table', `--digits must be a non-negative integer, got '${opts.digits}'`);
      const hasMetrics = existsSync(join(from, 'metrics.json'));
      if (opts.style === 'plain') {
        if (!hasMetrics) throw xlError('xlalign table', `${join(from, 'metrics.json')} not found`);
        process.stdout.write(markdownTables(readRows(join(from, 'metrics.json')), { digits }));
        return;
      }
      let table: PaperTable;
      let base: string;
      const options = { scenario: opts.scenario, pivot: opts.pivot };
      if (hasMetrics) {
        table = paperMainTable(readRows(join(from, 'metrics.json')), options);
        base = 'paper-table';
      } else {
        const variants = readAblationFolder(from);
        if (!variants.length) throw xlError('xlalign table', `${from} has neither metrics.json nor subfolders with metrics.json and config.json (an xlalign ablate folder)`);
        table = paperAblationTable(variants, options);
        base = 'paper-ablation';
      }
      const md = paperTableMarkdown(table, { digits });
      const out = resolve(opts.out ?? from);
      writeFileAtomic(join(out, `${base}.md`), md);
      writeFileAtomic(join(out, `${base}.csv`), paperTableCsv(table));
      process.stdout.write(md);
      process.stderr.write(`wrote ${join(out, base)}.md and .csv\n`);
    });
}

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { xlError } from '../util/errors.js';
import { markdownTables, readMetricRowsFile as readRows } from '../results/metric-rows.js';
import { paperAblationTable, paperMainTable, writePaperTable, type PaperTable } from '../results/paper-table.js';
import { readAblationFolder } from '../results/ablation.js';
import { checkExists } from './validate.js';

export { readAblationFolder } from '../results/ablation.js';

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
      let base: 'paper-table' | 'paper-ablation';
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
      const out = resolve(opts.out ?? from);
      const md = writePaperTable(out, base, table, { digits });
      process.stdout.write(md);
      process.stderr.write(`wrote ${join(out, base)}.md and .csv\n`);
    });
}

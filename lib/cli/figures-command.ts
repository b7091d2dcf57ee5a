import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { FIGURE_FORMATS as FORMATS, type FigureFormat } from '../plot/export.js';
import { list } from './options.js';
import { checkExists, checkOutputDir, usageError } from './validate.js';


/** `xlalign figures`: render the standard figures of a results folder, without Jupyter. */
export function figuresCommand(): Command {
  return new Command('figures')
    .description('Render the standard figures (PNG and SVG; HTML on request) from a results folder (metrics.json; before-after.json and loss CSVs when present)')
    .requiredOption('--from <dir>', 'results folder written by xlalign eval or xlalign train')
    .option('--out <dir>', 'figures folder (default: figures/ inside the --from folder)')
    .option('--formats <list>', `comma-separated: ${FORMATS.join(', ')} (html inlines plotly.js, ~5 MB a figure)`, 'png,svg')
    .option('--chromium <path>', 'Chromium executable used to render PNG and SVG', '/usr/bin/chromium')
    .action(async (opts) => {
      const where = 'xlalign figures';
      const from = checkExists(where, '--from', opts.from, 'folder');
      if (!['metrics.json', 'before-after.json'].some((f) => existsSync(resolve(from, f)))) throw usageError(where, `--from ${from} has neither metrics.json nor before-after.json; pass a folder written by xlalign eval or train`);
      const out = checkOutputDir(where, '--out', opts.out ?? join(from, 'figures'));
      const formats = list(opts.formats) as FigureFormat[];
      if (formats.length === 0) throw usageError(where, `--formats is empty; use ${FORMATS.join(', ')}`);
      for (const f of formats) if (!(FORMATS as readonly string[]).includes(f)) throw usageError(where, `--formats: unknown format '${f}'; use ${FORMATS.join(', ')}`);
      if (formats.some((f) => f !== 'html')) checkExists(where, '--chromium', opts.chromium, 'file');
      const { renderStandardFigures } = await import('../plot/standard-figures.js');
      const figures = await renderStandardFigures(from, out, { executablePath: opts.chromium, formats });
      for (const f of figures) process.stdout.write(`${f.name}: ${Object.values(f.files ?? {}).join(' ')}\n`);
      process.stderr.write(`wrote ${figures.length} figures into ${out}\n`);
    });
}

import { resolve } from 'node:path';
import { Command } from 'commander';
import { FIGURE_FORMATS, type FigureFormat } from '../plot/export.js';
import { renderStandardFigures } from '../plot/standard-figures.js';
import { xlError } from '../util/errors.js';
import { list } from './options.js';

/** `xlalign figures`: render the standard figures of a results folder, without Jupyter. */
export function figuresCommand(): Command {
  return new Command('figures')
    .description('Render the standard figures (PNG and SVG; HTML on request) from a results folder (metrics.json; before-after.json and loss CSVs when present)')
    .requiredOption('--from <dir>', 'results folder written by xlalign eval or xlalign train')
    .option('--out <dir>', 'figures folder', 'figures')
    .option('--formats <list>', `comma-separated: ${FIGURE_FORMATS.join(', ')} (html inlines plotly.js, ~5 MB a figure)`, 'png,svg')
    .option('--chromium <path>', 'Chromium executable used to render PNG and SVG', '/usr/bin/chromium')
    .action(async (opts) => {
      const formats = list(opts.formats) as FigureFormat[];
      for (const f of formats) if (!FIGURE_FORMATS.includes(f)) throw xlError('xlalign figures', `unknown format '${f}'; use ${FIGURE_FORMATS.join(', ')}`);
      const figures = await renderStandardFigures(resolve(opts.from), resolve(opts.out), { executablePath: opts.chromium, formats });
      for (const f of figures) process.stdout.write(`${f.name}: ${Object.values(f.files ?? {}).join(' ')}\n`);
      process.stderr.write(`wrote ${figures.length} figures into ${resolve(opts.out)}\n`);
    });
}

import { resolve } from 'node:path';
import { Command } from 'commander';
import { renderStandardFigures } from '../plot/standard-figures.js';

/** `xlalign figures`: render the standard figures of a results folder, without Jupyter. */
export function figuresCommand(): Command {
  return new Command('figures')
    .description('Render the standard figures (PNG, SVG, HTML) from a results folder (metrics.json; before-after.json and loss CSVs when present)')
    .requiredOption('--from <dir>', 'results folder written by xlalign eval or xlalign train')
    .option('--out <dir>', 'figures folder', 'figures')
    .option('--chromium <path>', 'Chromium executable used to render PNG and SVG', '/usr/bin/chromium')
    .action(async (opts) => {
      const figures = await renderStandardFigures(resolve(opts.from), resolve(opts.out), { executablePath: opts.chromium });
      for (const f of figures) process.stdout.write(`${f.name}: ${Object.values(f.files ?? {}).join(' ')}\n`);
      process.stderr.write(`wrote ${figures.length} figures into ${resolve(opts.out)}\n`);
    });
}

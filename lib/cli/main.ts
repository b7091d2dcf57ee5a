#!/usr/bin/env node
/**
 * The `xlalign` command line: thin commands over the library.
 *   xlalign eval     evaluate retrievers on mixed-language pools
 *   xlalign score    score an existing TREC run against qrels
 *   xlalign train    alignment fine-tuning, evaluated before and after
 *   xlalign ablate   the same for each loss variant (the study's loss, its ablation rows, the earlier one)
 *   xlalign figures  render the standard figures of a results folder
 *   xlalign table    the study's tables (main and ablation layouts) as Markdown and CSV
 */
import { Command } from 'commander';
import { XlalignError } from '../util/errors.js';
import { evalCommand } from './eval-command.js';
import { figuresCommand } from './figures-command.js';
import { scoreCommand } from './score-command.js';
import { ablateCommand, trainCommand } from './train-command.js';
import { tableCommand } from './table-command.js';

const program = new Command('xlalign')
  .description('Cross-lingual alignment in retrieval: mixed-language pools, metrics, alignment fine-tuning')
  .showHelpAfterError()
  .addCommand(evalCommand())
  .addCommand(scoreCommand())
  .addCommand(trainCommand())
  .addCommand(ablateCommand())
  .addCommand(figuresCommand())
  .addCommand(tableCommand());

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof XlalignError) {
    process.stderr.write(`error: ${e.message}\n`);
  } else {
    process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  }
  process.exit(1);
});

#!/usr/bin/env node
/**
 * The `xlalign` command line: thin commands over the library.
 *   xlalign eval     evaluate retrievers on mixed-language pools
 *   xlalign score    score an existing TREC run against qrels
 *   xlalign train    alignment fine-tuning, evaluated before and after
 *   xlalign ablate   the same with the full loss, InfoNCE only and JSD only
 *   xlalign figures  render the standard figures of a results folder
 */
import { Command } from 'commander';
import { XlalignError } from '../util/errors.js';
import { evalCommand } from './eval-command.js';
import { figuresCommand } from './figures-command.js';
import { scoreCommand } from './score-command.js';
import { ablateCommand, trainCommand } from './train-command.js';

const program = new Command('xlalign')
  .description('Cross-lingual alignment in retrieval: mixed-language pools, metrics, alignment fine-tuning')
  .showHelpAfterError()
  .addCommand(evalCommand())
  .addCommand(scoreCommand())
  .addCommand(trainCommand())
  .addCommand(ablateCommand())
  .addCommand(figuresCommand());

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof XlalignError) {
    process.stderr.write(`error: ${e.message}\n`);
  } else {
    process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  }
  process.exit(1);
});

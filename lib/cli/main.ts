#!/usr/bin/env node
/**
 * The `xlalign` command line: thin commands over the library.
 *   xlalign eval     evaluate retrievers on mixed-language pools
 *   xlalign score    score an existing TREC run against qrels
 *   xlalign train    alignment fine-tuning, evaluated before and after
 *   xlalign ablate   the same for each loss variant (the study's loss, its ablation rows, the earlier one)
 *   xlalign figures  render the standard figures of a results folder
 *   xlalign table    the study's tables (main and ablation layouts) as Markdown and CSV
 *   xlalign study    the study's protocol on one model (before, fine-tune, after, tables, figures), resumable
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, XlalignError } from '../util/errors.js';
import { evalCommand } from './eval-command.js';
import { figuresCommand } from './figures-command.js';
import { scoreCommand } from './score-command.js';
import { ablateCommand, trainCommand } from './train-command.js';
import { tableCommand } from './table-command.js';
import { studyCommand } from './study-command.js';

// --debug anywhere on the line (or XLALIGN_DEBUG=1): print stacks of unexpected errors
const debug = process.argv.includes('--debug') || process.env.XLALIGN_DEBUG === '1';
const argv = process.argv.filter((a) => a !== '--debug');

const program = new Command('xlalign')
  .description('Cross-lingual alignment in retrieval: mixed-language pools, metrics, alignment fine-tuning')
  .option('--debug', 'print the stack of unexpected errors (also XLALIGN_DEBUG=1)')
  .showHelpAfterError()
  .addCommand(evalCommand())
  .addCommand(scoreCommand())
  .addCommand(trainCommand())
  .addCommand(ablateCommand())
  .addCommand(figuresCommand())
  .addCommand(tableCommand())
  .addCommand(studyCommand());
// commander's own usage errors (unknown option, bad choice) are thrown to the handler below
for (const c of [program, ...program.commands]) c.exitOverride();

program.parseAsync(argv).catch((e: unknown) => {
  process.exit(exitCodeOf(e));
});

/**
 * Report an error in one line and choose the exit code: 2 for every input error (bad
 * options, commander's parse errors: commander has printed those already; bad dataset,
 * run, qrels or model files: an `XlalignError` of kind `input`), 1 for internal failures
 * (an `XlalignError` of kind `internal`, any other error). Stacks only with --debug or
 * XLALIGN_DEBUG=1.
 */
function exitCodeOf(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof XlalignError) {
    process.stderr.write(`error: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    return exitCodeFor(e);
  }
  const err = e as Error;
  const first = String(err?.message ?? e).split('\n')[0];
  process.stderr.write(`error: ${err?.name && err.name !== 'Error' ? `${err.name}: ` : ''}${first}${debug ? '' : ' (run with --debug or XLALIGN_DEBUG=1 for the stack)'}\n`);
  if (debug) process.stderr.write(`${err?.stack ?? String(e)}\n`);
  return exitCodeFor(e);
}

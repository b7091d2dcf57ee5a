/**
 * What an error is about, which decides the exit code of the command line:
 * - `input`: the user's input is wrong (an option, a dataset file, a model folder, a run or
 *   qrels file): exit code 2. The default of every {@link XlalignError}.
 * - `internal`: xlalign itself or its environment failed (a broken invariant, a download
 *   that failed, a disk that is full): exit code 1, as for any error that is not an
 *   `XlalignError` (a `TypeError`, an ONNX Runtime failure, `ENOSPC`).
 */
export type ErrorKind = 'input' | 'internal';

/** Exit code of an input error (options and data). */
export const EXIT_INPUT = 2;
/** Exit code of an internal failure. */
export const EXIT_INTERNAL = 1;

/** Options of {@link xlError}. */
export interface XlErrorOptions {
  cause?: unknown;
  /** Default `'input'`; `'internal'` for failures that are not the user's input. */
  kind?: ErrorKind;
}

/**
 * The one error type of xlalign. Messages start with the name of the function (or
 * command) that failed and name the bad input (file, line, field) and what would be valid.
 *
 * @example
 * throw xlError('loadXquad', `${file}: data[3].paragraphs[0].qas[2].id is missing`);
 */
export class XlalignError extends Error {
  /** The function or command that raised it, e.g. `loadXquad`. */
  readonly where: string;
  /** Input error (exit code 2) or internal failure (exit code 1); see {@link ErrorKind}. */
  readonly kind: ErrorKind;
  constructor(where: string, message: string, options?: XlErrorOptions) {
    super(`${where}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XlalignError';
    this.where = where;
    this.kind = options?.kind ?? 'input';
  }
}

/** Build an {@link XlalignError}; use as `throw xlError('fn', 'what is wrong')`. */
export function xlError(where: string, message: string, options?: XlErrorOptions): XlalignError {
  return new XlalignError(where, message, options);
}

/**
 * The exit code for an error: {@link EXIT_INPUT} (2) for an input error (an
 * `XlalignError` of kind `input`), {@link EXIT_INTERNAL} (1) for anything else.
 * @example exitCodeFor(xlError('f', 'bad')) // 2
 */
export function exitCodeFor(e: unknown): number {
  return e instanceof XlalignError && e.kind === 'input' ? EXIT_INPUT : EXIT_INTERNAL;
}

/** Throw unless `value` is one of `allowed`; the message lists the allowed values. */
export function checkOneOf<T extends string>(where: string, field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw xlError(where, `unsupported ${field} '${value}'; use ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

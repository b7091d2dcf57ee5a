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
  constructor(where: string, message: string, options?: { cause?: unknown }) {
    super(`${where}: ${message}`, options);
    this.name = 'XlalignError';
    this.where = where;
  }
}

/** Build an {@link XlalignError}; use as `throw xlError('fn', 'what is wrong')`. */
export function xlError(where: string, message: string, options?: { cause?: unknown }): XlalignError {
  return new XlalignError(where, message, options);
}

/** Throw unless `value` is one of `allowed`; the message lists the allowed values. */
export function checkOneOf<T extends string>(where: string, field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw xlError(where, `unsupported ${field} '${value}'; use ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

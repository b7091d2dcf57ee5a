/**
 * Validation of command-line input before any work starts (no corpus loaded, no model
 * loaded): every check here runs in milliseconds and throws a {@link UsageError} (exit
 * code 2, one line) naming the option, the bad value and what would be valid.
 *
 * Each check is a small exported function so that every command (eval, train, ablate,
 * figures, score) validates the same option the same way:
 *
 * @example
 * checkOutputDir('xlalign score', '--out', opts.out);
 * const metrics = checkMetricNames('xlalign score', list(opts.metrics));
 */
import { accessSync, constants, existsSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { XlalignError } from '../util/errors.js';
import { closestName } from '../util/closest.js';
import { parseMetric, SUPPORTED_METRICS } from '../metrics/registry.js';
import { SCENARIOS, type Scenario } from '../pools/types.js';

/** A usage error: bad command-line input. `main` prints its one line and exits with code 2. */
export class UsageError extends XlalignError {
  readonly exitCode = 2;
}

/** Build a {@link UsageError}: `throw usageError('xlalign eval', '--lr must be > 0, got -1')`. */
export function usageError(where: string, message: string): UsageError {
  return new UsageError(where, message);
}

/**
 * An integer option, at least `min` (default 1). `undefined` passes through (option not given).
 * @example const epochs = checkInt('xlalign train', '--epochs', opts.epochs); // '0' -> UsageError
 */
export function checkInt(where: string, flag: string, value: unknown, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (String(value).trim() === '' || !Number.isInteger(n) || n < min) throw usageError(where, `${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
}

/**
 * A finite number option: `> 0` when `strict` (learning rate, temperature), else `>= 0`.
 * `undefined` passes through.
 */
export function checkNumber(where: string, flag: string, value: unknown, bound: 'positive' | 'non-negative' | 'any' = 'positive'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok = String(value).trim() !== '' && Number.isFinite(n) && (bound === 'any' || (bound === 'positive' ? n > 0 : n >= 0));
  if (!ok) throw usageError(where, `${flag} must be a ${bound === 'any' ? 'finite' : bound} number, got '${value}'`);
  return n;
}

/**
 * Metric names, each checked by the metrics' own parser (`lib/metrics`), so the valid names
 * are defined in one place. An empty list is an error.
 */
export function checkMetricNames(where: string, names: readonly string[], flag = '--metrics'): string[] {
  if (names.length === 0) throw usageError(where, `${flag} is empty; use names such as ${SUPPORTED_METRICS.slice(0, 4).join(', ')}`);
  for (const m of names) {
    try {
      parseMetric(m);
    } catch {
      const hint = closestName(m, ['ndcg@10', 'rr@10', 'r@10', 'p@10', 'ap', 'maxr', 'maxr.median', 'complete@10', 'pivot_inclination', 'pivot_above']);
      throw usageError(where, `${flag}: unknown metric '${m}'${hint ? ` (did you mean '${hint}'?)` : ''}; supported: ${SUPPORTED_METRICS.join(', ')}`);
    }
  }
  return [...names];
}

/** Scenario names (`all` or a comma list already split); an empty list is an error. */
export function checkScenarios(where: string, values: readonly string[] | 'all', flag = '--scenarios'): Scenario[] {
  if (values === 'all') return [...SCENARIOS];
  if (values.length === 0) throw usageError(where, `${flag} is empty; use ${SCENARIOS.join(', ')} or all`);
  for (const s of values) {
    if (!(SCENARIOS as readonly string[]).includes(s)) {
      const hint = closestName(s, SCENARIOS);
      throw usageError(where, `${flag}: unknown scenario '${s}'${hint ? ` (did you mean '${hint}'?)` : ''}; use ${SCENARIOS.join(', ')} or all`);
    }
  }
  return values as Scenario[];
}

/** Languages, each one of `allowed` (when given); an empty list is an error. */
export function checkLangs(where: string, values: readonly string[], allowed?: readonly string[], flag = '--langs'): string[] {
  if (values.length === 0) throw usageError(where, `${flag} is empty${allowed ? `; use ${allowed.join(', ')} or all` : ''}`);
  if (allowed) {
    for (const l of values) {
      if (!allowed.includes(l)) {
        const hint = closestName(l, allowed);
        throw usageError(where, `${flag}: '${l}' is not a language of this dataset${hint ? ` (did you mean '${hint}'?)` : ''}; use ${allowed.join(', ')} or all`);
      }
    }
  }
  return [...values];
}

/**
 * An evaluation must have at least one pool: `cross` and the `mixed*` scenarios need a query
 * language other than the pivot (`--langs en --scenarios cross` has none).
 */
export function checkSomethingToEvaluate(where: string, scenarios: readonly Scenario[], langs: readonly string[], pivot: string): void {
  const pools = scenarios.flatMap((s) => langs.filter((l) => !((s === 'cross' || s.startsWith('mixed')) && l === pivot)).map((l) => `${s}.${l}`));
  if (pools.length === 0) {
    throw usageError(where, `nothing to evaluate: --scenarios ${scenarios.join(',')} with --langs ${langs.join(',')} gives no pool (cross and mixed* need a query language other than the pivot '${pivot}')`);
  }
}

/** Linux magic numbers of pseudo file systems (statfs f_type): proc, sysfs, devpts, debugfs, tracefs, securityfs, cgroup, cgroup2, bpf, pstore, configfs, efivarfs. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0xcafe4a11, 0x6165676c, 0x62656570, 0xde5e81e4]);
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

/**
 * An output folder that can be created and written, checked without creating anything:
 * not an existing file, not under a file, not on a pseudo file system (`/proc`, `/sys`,
 * `/dev`: Node's recursive mkdir loops forever under `/proc`), and its nearest existing
 * ancestor writable. Returns the absolute path.
 * @example const out = checkOutputDir('xlalign eval', '--out', opts.out);
 */
export function checkOutputDir(where: string, flag: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw usageError(where, `${flag} must name a folder`);
  const abs = resolve(value);
  const shm = abs === '/dev/shm' || abs.startsWith('/dev/shm/'); // a real (tmpfs) file system under /dev
  if (!shm && PSEUDO_ROOTS.some((r) => abs === r || abs.startsWith(r + sep))) throw usageError(where, `${flag} ${abs} is on a pseudo file system (${abs.split(sep).slice(0, 2).join(sep)}); choose a normal folder`);
  let dir = abs;
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const st = statSync(dir);
  if (!st.isDirectory()) {
    throw usageError(where, dir === abs ? `${flag} ${abs} is an existing file, not a folder` : `${flag} ${abs} is under ${dir}, which is a file, not a folder`);
  }
  try {
    const fsType = statfsSync(dir).type;
    if (PSEUDO_FS.has(fsType)) throw usageError(where, `${flag} ${abs} is on a pseudo file system (type 0x${fsType.toString(16)}); choose a normal folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw usageError(where, `${flag} ${abs}: ${dir} is not writable${dir === abs ? '' : ' (the folder would be created there)'}`);
  }
  return abs;
}

/** An input folder or file that must exist. */
export function checkExists(where: string, flag: string, value: unknown, kind: 'file' | 'folder'): string {
  if (typeof value !== 'string' || value.trim() === '') throw usageError(where, `${flag} must name a ${kind}`);
  const abs = resolve(value);
  if (!existsSync(abs)) throw usageError(where, `${flag} ${abs} does not exist`);
  const isDir = statSync(abs).isDirectory();
  if (kind === 'folder' && !isDir) throw usageError(where, `${flag} ${abs} is a file; expected a folder`);
  if (kind === 'file' && isDir) throw usageError(where, `${flag} ${abs} is a folder; expected a file`);
  return abs;
}

/** The special retriever names. */
export const RETRIEVER_NAMES = ['bm25', 'default'] as const;
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/**
 * A retriever name: `bm25`, `default`, an existing model folder, or a hub id of the form
 * `owner/name`. Anything else (`BM25`, a folder that does not exist) is an error that says
 * which it is and suggests the closest name.
 * @example checkRetriever('xlalign eval', '--retriever', 'BM25') // UsageError: ... did you mean 'bm25'?
 */
export function checkRetriever(where: string, flag: string, name: string, allowed: readonly string[] = RETRIEVER_NAMES): 'special' | 'folder' | 'hub' {
  if (allowed.includes(name)) return 'special';
  const abs = resolve(name);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw usageError(where, `${flag} '${name}': ${abs} is a file; pass a model folder (config.json, tokenizer.json, onnx/model.onnx)`);
    if (!existsSync(resolve(abs, 'config.json'))) throw usageError(where, `${flag} '${name}': the folder ${abs} has no config.json; a model folder holds config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx`);
    return 'folder';
  }
  const pathLike = /^[.~/\\]/.test(name) || name.split('/').length > 2 || name.includes('\\');
  if (!pathLike && HUB_ID.test(name)) return 'hub';
  const hint = closestName(name, allowed);
  throw usageError(
    where,
    `${flag} '${name}' is neither ${allowed.map((a) => `'${a}'`).join(', ')}, an existing model folder (${abs} does not exist) nor a hub id of the form owner/name` +
      (hint ? `; did you mean '${hint}'?` : ''),
  );
}

/**
 * `config.json` of a results folder: the one owner of its format (zod schema, reader,
 * writers). Top-level fields describe the latest command that wrote into the folder (what
 * `xlalign eval` or `train` was asked: retrievers, languages, scenarios, ...); beside them:
 *
 * - `format`: `xlalign-results/1`;
 * - `settings`: id -> settings record ({@link EvalSettings}); every row of `metrics.json`
 *   points to one with its `settings` field;
 * - `evaluations`: one record per evaluation that ever wrote into the folder, oldest first
 *   (command, date, argv, the settings ids it wrote, rows, pools that were not built and
 *   why). A `config.json` written before these fields existed is kept as the first record.
 *
 * Writers take a lock file (`config.lock`), so evaluations writing into one folder at once
 * both keep their records. A new evaluation whose settings differ from the folder's in a
 * setting that changes numbers is refused ({@link checkFolderSettings}): a results folder
 * is one comparable set of rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { withFileLock } from '../util/file-lock.js';
import { writeFileAtomic } from '../util/fs.js';
import { readMetricRows } from './metric-rows.js';
import { EvalSettingsSchema, settingsConflict, type EvalSettings } from './settings.js';

/** The format tag of `config.json`. */
export const RESULTS_CONFIG_FORMAT = 'xlalign-results/1';

/** A pool of a requested (scenario, language) that was not built, and why. */
export const MissingPoolSchema = z.object({ scenario: z.string(), lang: z.string(), queryLang: z.string().optional(), reason: z.string() });

/** zod schema of one evaluation record. */
export const EvaluationRecordSchema = z.looseObject({
  /** `eval`, `train`, `score`, or `legacy` for a config.json written before records existed. */
  command: z.string().min(1),
  date: z.string(),
  /** The command line (after the program name), when known. */
  argv: z.array(z.string()).optional(),
  /** The settings ids of the rows it wrote. */
  settings: z.array(z.string()),
  /** Rows it wrote into `metrics.json`. */
  rows: z.number().int().nonnegative().nullable(),
  /** Requested pools that were not built (only with `--allow-partial`). */
  missing: z.array(MissingPoolSchema).optional(),
  /** Warnings given (training-data overlap, ...). */
  warnings: z.array(z.string()).optional(),
});
export type EvaluationRecord = z.infer<typeof EvaluationRecordSchema>;

/** zod schema of `config.json` (the latest command's own fields pass through). */
export const ResultsConfigSchema = z.looseObject({
  format: z.literal(RESULTS_CONFIG_FORMAT),
  settings: z.record(z.string(), EvalSettingsSchema),
  evaluations: z.array(EvaluationRecordSchema),
});
export type ResultsConfig = z.infer<typeof ResultsConfigSchema>;

/**
 * Read `<dir>/config.json`; an absent file gives an empty record, a file written before
 * `format` existed is kept whole as a `legacy` evaluation record.
 * @throws XlalignError naming the file and field of a malformed file.
 * @example readResultsConfig('out').evaluations.length
 */
export function readResultsConfig(dir: string): ResultsConfig {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return { format: RESULTS_CONFIG_FORMAT, settings: {}, evaluations: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw xlError('readResultsConfig', `${file}: not valid JSON (${(e as Error).message}); it records how the rows of ${dir} were made: restore it, or use another folder`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw xlError('readResultsConfig', `${file}: expected an object`);
  const o = json as Record<string, unknown>;
  if (o.format === undefined) {
    return { ...o, format: RESULTS_CONFIG_FORMAT, settings: {}, evaluations: [{ command: 'legacy', date: typeof o.date === 'string' ? o.date : '', settings: [], rows: null, record: o }] };
  }
  const r = ResultsConfigSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw xlError('readResultsConfig', `${file}: ${issue.path.map(String).join('.') || '(top)'}: ${issue.message}`);
  }
  return r.data;
}

function writeResultsConfig(dir: string, config: ResultsConfig): void {
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
}

/**
 * Refuse an evaluation whose settings cannot share `dir` with the rows already there: the
 * first differing setting is named with both values (see `settingsConflict`). Rows without
 * a settings id (written before settings were recorded) of the same dataset and retriever
 * are refused too: nothing says how they were made.
 * @throws XlalignError `<dir> holds rows of dataset 'xquad' made with pivot "en"; this evaluation uses "es" ...`.
 */
export function checkFolderSettings(
  dir: string,
  fresh: Omit<EvalSettings, 'retriever'> & { retriever?: Partial<EvalSettings['retriever']> & { name: string } },
  where = 'xlalign eval',
  options: { retrieverFields?: readonly string[] } = {},
): void {
  const config = readResultsConfig(dir);
  for (const [id, s] of Object.entries(config.settings)) {
    const d = settingsConflict(s, fresh, options);
    if (!d) continue;
    const retrieverSetting = d.setting.startsWith('retriever.') || ['runDepth', 'ties', 'version'].includes(d.setting);
    const who = retrieverSetting ? `retriever '${s.retriever.name}' on dataset '${s.dataset.name}'` : `dataset '${s.dataset.name}'`;
    throw xlError(where, `${dir} holds rows of ${who} made with ${d.setting} ${d.existing} (settings ${id}); this evaluation has ${d.setting} ${d.fresh}. Their rows and run/qrels files would mix: use another --out`);
  }
  const unrecorded = readMetricRows(dir).filter((r) => r.settings === undefined && r.dataset === fresh.dataset.name);
  if (!unrecorded.length) return;
  const same = fresh.retriever && unrecorded.find((r) => r.retriever === fresh.retriever!.name);
  if (same) {
    throw xlError(where, `${dir} holds rows of retriever '${same.retriever}' on dataset '${same.dataset}' without a settings record (written by an older xlalign or by score); whether they were made with the same pivot, doc unit and model cannot be checked: use another --out`);
  }
  // rows of other retrievers share qrels/ with this evaluation: an older config.json says which pivot and doc unit made them
  const legacy = config.evaluations.filter((e) => e.command === 'legacy').map((e) => e.record as { pivot?: unknown; docUnit?: unknown } | undefined);
  const made = legacy.at(-1);
  const pivot = made?.pivot;
  const docUnit = made?.docUnit ?? 'paragraph';
  if (pivot !== fresh.pivot || docUnit !== fresh.docUnit) {
    const what = typeof pivot !== 'string' ? 'an unrecorded pivot' : pivot !== fresh.pivot ? `pivot "${pivot}"` : `docUnit "${String(docUnit)}"`;
    const now = typeof pivot !== 'string' || pivot !== fresh.pivot ? `pivot "${fresh.pivot}"` : `docUnit "${fresh.docUnit}"`;
    throw xlError(where, `${dir} holds rows of dataset '${fresh.dataset.name}' without a settings record, made with ${what}; this evaluation has ${now}. Their rows and qrels files would mix: use another --out`);
  }
}

/**
 * Record a settings record under its id (under the lock, after {@link checkFolderSettings}):
 * a new id is added; the languages' content hashes of an existing one are merged.
 * @example await recordSettings('out', settingsId(s), s);
 */
export async function recordSettings(dir: string, id: string, settings: EvalSettings, where = 'xlalign eval'): Promise<void> {
  await withFileLock(join(dir, 'config.lock'), () => {
    checkFolderSettings(dir, settings, where);
    const config = readResultsConfig(dir);
    const old = config.settings[id];
    config.settings[id] = old ? { ...old, dataset: { ...old.dataset, langHashes: { ...old.dataset.langHashes, ...settings.dataset.langHashes } } } : settings;
    writeResultsConfig(dir, config);
  });
}

/**
 * Append an evaluation record, register its settings and set the top-level fields to
 * `latest` (the command's own description; `undefined` keeps them), under the lock.
 * @example await recordEvaluation('out', { command: 'eval', ... }, { record, settings: { [id]: s } });
 */
export async function recordEvaluation(dir: string, latest: Record<string, unknown> | undefined, entry: { record: EvaluationRecord; settings?: Record<string, EvalSettings> }): Promise<void> {
  await withFileLock(join(dir, 'config.lock'), () => {
    const config = readResultsConfig(dir);
    for (const [id, s] of Object.entries(entry.settings ?? {})) {
      const old = config.settings[id];
      config.settings[id] = old ? { ...old, dataset: { ...old.dataset, langHashes: { ...old.dataset.langHashes, ...s.dataset.langHashes } } } : s;
    }
    const { format: _f, settings: _s, evaluations: _e, ...own } = latest ?? config;
    writeResultsConfig(dir, { ...own, format: RESULTS_CONFIG_FORMAT, settings: config.settings, evaluations: [...config.evaluations, entry.record] });
  });
}

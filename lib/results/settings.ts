/**
 * The settings record of an evaluation: every setting that changes a number of a metric row
 * beyond the row's own identity (dataset, retriever, scenario, lang, queryLang, metric).
 * Each row of `metrics.json` carries `settings: <id>`; `config.json` maps the id to its
 * record ({@link EvalSettings}). The id is a hash of the record, so two evaluations made
 * under the same settings share it, and rows made under other settings never share a key.
 *
 * A results folder holds, per dataset, one pool setting (content, pivot, doc unit, split:
 * these decide `qrels/`) and, per retriever name, one retriever setting (model content,
 * pooling, prefixes, token limit, adapter, run depth, tie policy, package version: these
 * decide `runs/<retriever>/`): {@link settingsConflict} names the first setting in which a
 * new evaluation differs, and the writers refuse it (see `config.ts`).
 */
import { z } from 'zod';
import { sha256 } from '../util/fs.js';

/** zod schema of the dataset part: name, where it came from, and a content hash per language. */
export const DatasetSettingsSchema = z.object({
  name: z.string().min(1),
  /** A registered name (`xquad`) or the absolute folder. */
  source: z.string().min(1),
  /** sha256 of each language's documents and queries (ids, texts, relevant ids) as loaded. */
  langHashes: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});

/** Which part of the dataset was evaluated. */
export const SplitSettingsSchema = z.object({
  /** `all` (every group) or `held-out` (the groups a trained retriever was not trained on). */
  part: z.enum(['all', 'held-out']),
  /** Why: e.g. `held-out part of the training split recorded in /x/adapter.safetensors`, or that `--include-train` was given. */
  note: z.string().optional(),
  /** The groups evaluated (held-out) as recorded by the training, when `part` is `held-out`. */
  groups: z.array(z.string()).optional(),
});

/** zod schema of the retriever part. */
export const RetrieverSettingsSchema = z.object({
  name: z.string().min(1),
  /** As given: `bm25`, `default`, a folder, a hub id. */
  model: z.string().min(1),
  /** The retriever's identity (model content hash, pooling, prefixes, token limit, adapter; BM25's parameters and tokenizer). */
  identity: z.string().nullable(),
  /** The model's content id (a folder's content hash or hub id + revision), when dense. */
  modelId: z.string().nullable(),
  pooling: z.string().nullable(),
  queryPrefix: z.string().nullable(),
  passagePrefix: z.string().nullable(),
  /** The effective token limit texts are cut at (dense); null for BM25. */
  maxLength: z.number().int().nullable(),
  /** The adapter applied: its path and content hash. */
  adapter: z.object({ path: z.string(), sha256: z.string() }).nullable(),
});

/** zod schema of one settings record. */
export const EvalSettingsSchema = z.object({
  dataset: DatasetSettingsSchema,
  pivot: z.string().min(1),
  docUnit: z.string().min(1),
  split: SplitSettingsSchema,
  retriever: RetrieverSettingsSchema,
  /** Documents per query in the run files (`all` = whole pool minus exclusions). */
  runDepth: z.union([z.number().int().positive(), z.literal('all')]),
  /** The tie order of the metrics (`lib/runs/ranking.ts`). */
  ties: z.string().min(1),
  /** xlalign's package version. */
  version: z.string().min(1),
});

/** One settings record (see the module comment). */
export type EvalSettings = z.infer<typeof EvalSettingsSchema>;

/**
 * The id of a settings record: 12 hex digits of the sha256 of its canonical JSON without the
 * dataset's source and per-language hashes (evaluations of other languages of the same
 * dataset, or of a copy of its folder elsewhere, share the id; {@link settingsConflict}
 * compares the content of the languages they have in common).
 * @example settingsId(s) // 'a3f09c21b7e4'
 */
export function settingsId(settings: EvalSettings): string {
  const { dataset, retriever, ...rest } = settings;
  return sha256(canonicalJson({ ...rest, dataset: { name: dataset.name }, retriever: retrieverForId(retriever) })).slice(0, 12);
}

/**
 * The retriever settings an id is made of: a model with a content id (a folder's content
 * hash, a hub id + revision) is named by it, not by where its folder lies (a copy, or the
 * same model trained in another results folder, shares the id); the path stays recorded.
 */
function retrieverForId(retriever: EvalSettings['retriever']): Omit<EvalSettings['retriever'], 'model'> & { model?: string } {
  if (retriever.modelId === null) return retriever;
  const { model: _path, ...rest } = retriever;
  return rest;
}

/** JSON with object keys sorted (a stable hash input). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

/** The settings that decide a dataset's pools and qrels (compared when two records share a dataset name). */
const POOL_FIELDS = ['pivot', 'docUnit', 'split.part', 'split.groups'] as const;
/** The settings that decide a retriever's run files (compared when two records also share the retriever name). */
const RETRIEVER_FIELDS = [
  'retriever.model', 'retriever.modelId', 'retriever.pooling', 'retriever.queryPrefix', 'retriever.passagePrefix', 'retriever.maxLength',
  'retriever.adapter', 'runDepth', 'ties', 'version', 'retriever.identity', // the identity last: it sums up the others (and BM25's parameters)
] as const;

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** A setting in which two records differ: its name and both values (as JSON). */
export interface SettingsDifference {
  setting: string;
  existing: string;
  fresh: string;
}

/**
 * The first setting in which a new record differs from one already in a folder, when the two
 * cannot share the folder: the same dataset name with another pivot, doc unit, split or
 * content of a language both loaded (where the folder lies does not matter); or, for the same dataset and retriever name, another
 * model content, pooling, prefix, token limit, adapter, run depth, tie policy or package
 * version. `undefined` when they can share it. `fresh.retriever` may be absent (the pool
 * settings are checked before any retriever is loaded) or partial, with
 * `options.retrieverFields` naming the settings known (checked before the model is loaded).
 * @example settingsConflict(a, { ...a, pivot: 'es' }) // { setting: 'pivot', existing: '"en"', fresh: '"es"' }
 */
export function settingsConflict(
  existing: EvalSettings,
  fresh: Omit<EvalSettings, 'retriever'> & { retriever?: Partial<EvalSettings['retriever']> & { name: string } },
  options: { retrieverFields?: readonly string[] } = {},
): SettingsDifference | undefined {
  if (existing.dataset.name !== fresh.dataset.name) return undefined;
  const diff = (setting: string): SettingsDifference | undefined => {
    const a = canonicalJson(at(existing, setting) ?? null);
    const b = canonicalJson(at(fresh, setting) ?? null);
    return a === b ? undefined : { setting, existing: a, fresh: b };
  };
  for (const f of POOL_FIELDS) {
    const d = diff(f);
    if (d) return d;
  }
  for (const [lang, hash] of Object.entries(fresh.dataset.langHashes)) {
    const old = existing.dataset.langHashes[lang];
    if (old !== undefined && old !== hash) return { setting: `dataset content (${lang})`, existing: `sha256 ${old.slice(0, 12)}`, fresh: `sha256 ${hash.slice(0, 12)}` };
  }
  if (!fresh.retriever || existing.retriever.name !== fresh.retriever.name) return undefined;
  const contentIds = existing.retriever.modelId !== null && fresh.retriever.modelId !== undefined && fresh.retriever.modelId !== null;
  for (const f of options.retrieverFields ?? RETRIEVER_FIELDS) {
    // two models with content ids are compared by content, wherever their folders lie
    if (f === 'retriever.model' && contentIds) continue;
    const d = diff(f);
    if (d) return d;
  }
  return undefined;
}

/**
 * `retrievers.json` of a results folder: which retriever each name in the folder stands for
 * (name -> key and settings), so that a later evaluation never gives another retriever a
 * name whose rows and `runs/<name>/` are already there. The one owner of its format.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { xlError } from '../util/errors.js';
import { withFileLock } from '../util/file-lock.js';
import { writeFileAtomic } from '../util/fs.js';

/** zod schema of one entry (extra fields pass through). */
export const RetrieverEntrySchema = z.looseObject({
  /** The retriever's key (`retrieverKey`: model path or name, + adapter path). */
  key: z.string(),
  model: z.string(),
  adapter: z.string().optional(),
  dataset: z.string(),
});
export type RetrieverEntry = z.infer<typeof RetrieverEntrySchema>;
/** zod schema of the file: name -> entry. */
export const RetrieverRegistrySchema = z.record(z.string(), RetrieverEntrySchema);
export type RetrieverRegistry = z.infer<typeof RetrieverRegistrySchema>;

/**
 * Read `<dir>/retrievers.json`; an absent file gives `{}`.
 * @throws XlalignError when the file is not a registry.
 */
export function readRetrieverRegistry(dir: string): RetrieverRegistry {
  const file = join(dir, 'retrievers.json');
  if (!existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    json = undefined;
  }
  const r = RetrieverRegistrySchema.safeParse(json);
  if (!r.success) throw xlError('xlalign eval', `${file}: not a retriever registry ({name: {key, model, dataset, ...}}); it records which retriever each name in ${dir} stands for: restore it, or use another --out`);
  return r.data;
}

/** Write `<dir>/retrievers.json` atomically. */
export function writeRetrieverRegistry(dir: string, registry: RetrieverRegistry): void {
  writeFileAtomic(join(dir, 'retrievers.json'), JSON.stringify(registry, null, 2) + '\n');
}

/**
 * Name new retrievers in `dir` under its lock (`retrievers.lock`): `name(taken)` gets the
 * names in use (name -> key) and returns the fresh entries by name; they are added and the
 * file written. Returns the names in the order given.
 * @example await registerRetrievers('out', (taken) => ({ bm25: { key: 'bm25', model: 'bm25', dataset: 'xquad' } }))
 */
export async function registerRetrievers(dir: string, name: (taken: ReadonlyMap<string, string>) => [string, RetrieverEntry][]): Promise<string[]> {
  return withFileLock(join(dir, 'retrievers.lock'), () => {
    const registry = readRetrieverRegistry(dir);
    const fresh = name(new Map(Object.entries(registry).map(([n, r]) => [n, r.key])));
    for (const [n, e] of fresh) registry[n] = e;
    writeRetrieverRegistry(dir, registry);
    return fresh.map(([n]) => n);
  });
}

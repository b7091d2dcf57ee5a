/**
 * The weights of a model folder in every form the Hugging Face hub ships, one reader:
 *
 * | form (first found wins)                                  | read by |
 * |----------------------------------------------------------|---------|
 * | `model.safetensors`                                      | {@link readSafetensors} |
 * | `model.safetensors.index.json` + its shards              | each shard, merged in the index's order |
 * | `pytorch_model.bin` (torch.save zip format)              | {@link readPytorchBin} (restricted unpickler, no code run) |
 * | `pytorch_model.bin.index.json` + its shards              | each shard, merged |
 *
 * Float tensors come back as float32 with their stored dtype (F32, F16, BF16, F64) kept, so a
 * writer can store them as read; xlalign always writes `model.safetensors`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { xlError } from '../util/errors.js';
import { readPytorchBin } from './pytorch-bin.js';
import { readSafetensors, type SafeTensorsFile } from './safetensors.js';

/** Which files of a folder hold its weights. */
export interface CheckpointFiles {
  format: 'safetensors' | 'safetensors-sharded' | 'pytorch-bin' | 'pytorch-bin-sharded';
  /** The weight files (shards in index order), absolute. */
  files: string[];
  /** The index file of a sharded checkpoint. */
  index?: string;
}

/** The weight file names of each form, with the stem (`model` / `pytorch_model`) of sentence-transformers' module folders too. */
const FORMS = [
  { file: 'model.safetensors', format: 'safetensors' },
  { file: 'model.safetensors.index.json', format: 'safetensors-sharded' },
  { file: 'pytorch_model.bin', format: 'pytorch-bin' },
  { file: 'pytorch_model.bin.index.json', format: 'pytorch-bin-sharded' },
] as const;

/** Every file name that is part of a checkpoint in `dir` (for copying a folder without its weights). */
export function isWeightFile(name: string): boolean {
  return FORMS.some((f) => f.file === name) || /^(model|pytorch_model)-\d+-of-\d+\.(safetensors|bin)$/.test(name);
}

/**
 * Find the weights of a folder (see the table in the file comment), or `undefined` when it has
 * none of the four forms. Shard files named by an index must exist.
 * @throws XlalignError for an index that is not valid JSON, has no `weight_map`, or names a missing shard.
 * @example findCheckpoint('models/e5') // { format: 'safetensors-sharded', files: [...], index: '.../model.safetensors.index.json' }
 */
export function findCheckpoint(dir: string): CheckpointFiles | undefined {
  const root = resolve(dir);
  for (const f of FORMS) {
    const path = join(root, f.file);
    if (!existsSync(path)) continue;
    if (!f.file.endsWith('.index.json')) return { format: f.format, files: [path] };
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(readFileSync(path, 'utf8')) as typeof index;
    } catch (e) {
      throw xlError('readCheckpoint', `${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') throw xlError('readCheckpoint', `${path}: field 'weight_map' is missing (tensor name -> shard file)`);
    const shards = [...new Set(Object.values(index.weight_map))];
    for (const s of shards) {
      if (typeof s !== 'string' || s.includes('..') || s.startsWith('/')) throw xlError('readCheckpoint', `${path}: weight_map names the shard '${String(s)}', not a file of this folder`);
      if (!existsSync(join(root, s))) throw xlError('readCheckpoint', `${path} names the shard ${s}, which is missing from ${root}`);
    }
    return { format: f.format, files: shards.map((s) => join(root, s)), index: path };
  }
  return undefined;
}

/**
 * Read the weights of `files` (from {@link findCheckpoint}) as one name -> tensor map.
 * @throws XlalignError as the readers, or when two shards hold the same tensor.
 * @example const st = readCheckpoint(findCheckpoint('models/e5')!);
 */
export function readCheckpoint(files: CheckpointFiles): SafeTensorsFile {
  const read = files.format.startsWith('safetensors') ? readSafetensors : readPytorchBin;
  if (files.files.length === 1) return read(files.files[0]);
  const out: SafeTensorsFile = { tensors: new Map() };
  for (const f of files.files) {
    const part = read(f);
    if (part.metadata && !out.metadata) out.metadata = part.metadata;
    for (const [name, t] of part.tensors) {
      if (out.tensors.has(name)) throw xlError('readCheckpoint', `${f}: tensor '${name}' is also in an earlier shard`);
      out.tensors.set(name, t);
    }
  }
  return out;
}

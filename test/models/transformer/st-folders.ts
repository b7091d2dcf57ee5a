/**
 * sentence-transformers model folders built by the tests: a tiny random BERT/XLM-R
 * (tiny-encoders.ts) plus the files sentence-transformers writes (modules.json, a Pooling
 * config, Dense modules with random weights in model.safetensors or pytorch_model.bin,
 * config_sentence_transformers.json with prompts, sentence_bert_config.json). Offline.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, type SafeTensor } from '../../../lib/nn/safetensors.js';
import { createRng } from '../../../lib/util/rng.js';
import { writeTinyEncoder } from './tiny-encoders.js';

export const PYTHON = process.env.XLALIGN_TORCH_PYTHON ?? '/usr/bin/python3';

/** One Dense module of a spec. */
export interface DenseSpecForTest {
  out: number;
  activation: 'Identity' | 'Tanh' | 'ReLU';
  bias?: boolean;
  /** Write the weights as pytorch_model.bin (torch.save, as older sentence-transformers). */
  bin?: boolean;
}

/** What to put in the folder. */
export interface StFolderSpec {
  family?: 'bert' | 'xlm-roberta';
  /** The Pooling config as written (legacy booleans or v5's `pooling_mode`). */
  pooling: Record<string, unknown>;
  dense?: DenseSpecForTest[];
  normalize?: boolean;
  /** config_sentence_transformers.json (omitted when undefined). */
  stConfig?: Record<string, unknown>;
  maxSeqLength?: number;
  /** sentence_bert_config.json `do_lower_case`. */
  lowercase?: boolean;
  /** The folder's name (to test that a preset name does not win over the folder). */
  name?: string;
  seed?: number;
}

/** Write a sentence-transformers folder; returns its path and the pooled width (hidden x modes). */
export function writeStFolder(spec: StFolderSpec): string {
  const { dir: base } = writeTinyEncoder(spec.family ?? 'bert');
  const dir = join(mkdtempSync(join(tmpdir(), 'xlalign-st-')), spec.name ?? 'st-model');
  cpSync(base, dir, { recursive: true });
  rmSync(base, { recursive: true, force: true });
  const modules: { idx: number; name: string; path: string; type: string }[] = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  mkdirSync(join(dir, '1_Pooling'));
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 32, ...spec.pooling }, null, 2));
  const modes = Array.isArray(spec.pooling.pooling_mode) ? spec.pooling.pooling_mode.length : typeof spec.pooling.pooling_mode === 'string' ? 1 : Object.entries(spec.pooling).filter(([k, v]) => k.startsWith('pooling_mode_') && v === true).length || 1;
  let width = 32 * modes;
  const rng = createRng(spec.seed ?? 77);
  for (const [i, d] of (spec.dense ?? []).entries()) {
    const path = `${i + 2}_Dense`;
    mkdirSync(join(dir, path));
    const bias = d.bias !== false;
    writeFileSync(join(dir, path, 'config.json'), JSON.stringify({ in_features: width, out_features: d.out, bias, activation_function: d.activation === 'Identity' ? 'torch.nn.modules.linear.Identity' : `torch.nn.modules.activation.${d.activation}` }, null, 2));
    const w = Float32Array.from({ length: d.out * width }, () => rng.normal() * 0.3);
    const b = Float32Array.from({ length: d.out }, () => rng.normal() * 0.1);
    const tensors = new Map<string, SafeTensor>([['linear.weight', { dtype: 'F32', shape: [d.out, width], data: w }]]);
    if (bias) tensors.set('linear.bias', { dtype: 'F32', shape: [d.out], data: b });
    writeSafetensors(join(dir, path, 'model.safetensors'), { tensors });
    if (d.bin) {
      // the same weights as torch.save writes them (older sentence-transformers' Dense)
      const py = `import sys, torch, json, numpy as np\nsys.path.insert(0, 'scripts')\nimport importlib.util\nspec = importlib.util.spec_from_file_location('ref', 'scripts/encoder-torch-reference.py'); ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)\nraw = ref.read_safetensors(sys.argv[1] + '/model.safetensors')\nfrom collections import OrderedDict\ntorch.save(OrderedDict((n, torch.from_numpy(np.array(a))) for n, a in raw.items()), sys.argv[1] + '/pytorch_model.bin')\nimport os; os.remove(sys.argv[1] + '/model.safetensors')\n`;
      const r = spawnSync(PYTHON, ['-c', py, join(dir, path)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
    }
    modules.push({ idx: modules.length, name: String(modules.length), path, type: 'sentence_transformers.models.Dense' });
    width = d.out;
  }
  if (spec.normalize) modules.push({ idx: modules.length, name: String(modules.length), path: `${modules.length}_Normalize`, type: 'sentence_transformers.models.Normalize' });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules, null, 2));
  if (spec.stConfig) writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ __version__: { sentence_transformers: '3.0.1' }, ...spec.stConfig }, null, 2));
  if (spec.maxSeqLength || spec.lowercase) writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: spec.maxSeqLength ?? 64, do_lower_case: spec.lowercase === true }));
  return dir;
}

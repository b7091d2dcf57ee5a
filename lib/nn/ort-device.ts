/**
 * Where ONNX Runtime runs: `cpu` (default) or `cuda` (ONNX Runtime's CUDA execution provider),
 * and the session options of the training graphs.
 *
 * onnxruntime-node 1.30 on linux x64 lists `cuda` among its backends but does not bundle it:
 * the provider libraries (`libonnxruntime_providers_cuda.so`, `..._shared.so`) are fetched by
 * its install script from NuGet when asked for (`--onnxruntime-node-install=cuda12`, or the
 * environment variable `ONNXRUNTIME_NODE_INSTALL=cuda12`), and need CUDA 12 and cuDNN 9 on
 * the machine. {@link checkDevice} looks for those files beside the binding before any long
 * work, so a missing CUDA provider is a one-line error that says how to install it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { checkOneOf, xlError } from '../util/errors.js';

export const ORT_DEVICES = ['cpu', 'cuda'] as const;
export type OrtDevice = (typeof ORT_DEVICES)[number];

/** How to get the CUDA provider (printed in the error). */
export const CUDA_INSTALL_HINT =
  'install onnxruntime-node with its CUDA 12 provider: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` ' +
  '(or `npm install onnxruntime-node --onnxruntime-node-install=cuda12`; this project\'s .npmrc sets onnxruntime-node-install=skip, which that flag overrides), ' +
  'on linux x64 with CUDA 12 and cuDNN 9 installed; or use --device cpu';

/** The folders holding onnxruntime-node's native binding for this platform (`bin/napi-v*\/<platform>/<arch>`). */
function bindingDirs(): string[] {
  let root: string;
  try {
    root = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  } catch {
    return [];
  }
  const bin = join(root, 'bin');
  if (!existsSync(bin)) return [];
  return readdirSync(bin)
    .filter((d) => d.startsWith('napi-v'))
    .map((d) => join(bin, d, process.platform, process.arch))
    .filter((d) => existsSync(d));
}

/**
 * Whether ONNX Runtime can run on `device` here: `cpu` always; `cuda` when onnxruntime-node
 * lists the backend and its provider library is installed beside the binding.
 */
export function deviceAvailable(device: OrtDevice): boolean {
  if (device === 'cpu') return true;
  const listed = ort.listSupportedBackends?.().some((b) => b.name === device) ?? false;
  return listed && bindingDirs().some((d) => existsSync(join(d, 'libonnxruntime_providers_cuda.so')) && existsSync(join(d, 'libonnxruntime_providers_shared.so')));
}

/**
 * Check `device` before any long work.
 * @throws XlalignError for an unknown device, or `cuda` without the CUDA provider (saying how to install it).
 * @example checkDevice('loadEmbedder', 'cuda'); // throws on a machine without the CUDA provider
 */
export function checkDevice(where: string, device: string): OrtDevice {
  const d = checkOneOf(where, 'device', device, ORT_DEVICES);
  if (!deviceAvailable(d)) throw xlError(where, `device 'cuda' needs ONNX Runtime's CUDA execution provider, which this onnxruntime-node lacks; ${CUDA_INSTALL_HINT}`);
  return d;
}

/**
 * Session options of the training graphs. `enableCpuMemArena: false` returns every
 * activation buffer to the system when the run ends (the arena keeps its high-water mark,
 * and grows in power-of-two chunks); `enableMemPattern: false` stops ORT from planning one
 * block for all intermediate values of a run (it allocates each when needed and frees it
 * after its last use). Measured in `lib/models/transformer/README.md` (Benchmark).
 */
export function trainingSessionOptions(threads: number, device: OrtDevice): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableCpuMemArena: false,
    enableMemPattern: false,
    executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
  };
}

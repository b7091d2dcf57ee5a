// The notebooks: committed .ipynb files match their sources in notebooks/src, name the tslab
// kernel, carry outputs without errors; and the environment-check notebook really executes
// headless through scripts/run-notebooks.sh (the others take minutes: run them with
// `scripts/run-notebooks.sh`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Cell { cell_type: string; source: string[] | string; outputs?: { output_type: string; ename?: string; evalue?: string }[] }
const dir = 'notebooks';
const sources = readdirSync(join(dir, 'src')).filter((f) => f.endsWith('.ts')).sort();
const load = (name: string) => JSON.parse(readFileSync(join(dir, `${name}.ipynb`), 'utf8')) as { cells: Cell[]; metadata: { kernelspec: { name: string } } };

test('every notebook source has its .ipynb, built from it (cell for cell)', () => {
  assert.ok(sources.length >= 4, `notebooks/src has ${sources.length} sources`);
  const out = mkdtempSync(join(tmpdir(), 'xlalign-nb-'));
  try {
    for (const src of sources) {
      const name = src.slice(0, -3);
      const nb = load(name);
      assert.equal(nb.metadata.kernelspec.name, 'tslab', `${name}: kernel`);
      // Rebuild from the source into a temp copy of the tree and compare the cell sources.
      execFileSync('mkdir', ['-p', join(out, 'notebooks', 'src')]);
      execFileSync('cp', [join(dir, 'src', src), join(out, 'notebooks', 'src', src)]);
      execFileSync(process.execPath, [join(process.cwd(), 'scripts', 'build-notebooks.mjs'), join('notebooks', 'src', src)], { cwd: out, stdio: 'ignore' });
      const rebuilt = JSON.parse(readFileSync(join(out, 'notebooks', `${name}.ipynb`), 'utf8')) as { cells: Cell[] };
      const text = (c: Cell) => `${c.cell_type}:${([] as string[]).concat(c.source).join('')}`;
      assert.deepEqual(nb.cells.map(text), rebuilt.cells.map(text), `${name}.ipynb is out of date: run node scripts/build-notebooks.mjs`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('executed notebooks carry no error outputs', () => {
  for (const src of sources) {
    const name = src.slice(0, -3);
    for (const [i, c] of load(name).cells.entries()) {
      for (const o of c.outputs ?? []) {
        assert.notEqual(o.output_type, 'error', `${name}.ipynb cell ${i}: ${o.ename}: ${o.evalue}`);
      }
    }
  }
});

const noJupyter = !existsSync('/usr/bin/jupyter-nbconvert') || !existsSync('/usr/bin/chromium')
  ? 'Jupyter or Chromium missing (run scripts/setup.sh); skipping notebook execution'
  : false;
if (noJupyter) console.log(`# ${noJupyter}`);

test('00-environment-check executes headless and shows a PNG figure', { skip: noJupyter, timeout: 240_000 }, () => {
  const kernels = spawnSync('/usr/bin/python3', ['-c', 'from jupyter_client.kernelspec import KernelSpecManager as K; print(" ".join(K().find_kernel_specs()))'], { encoding: 'utf8' });
  if (!kernels.stdout.split(/\s+/).includes('tslab')) {
    assert.fail(`the tslab kernel is not registered (kernels: ${kernels.stdout.trim()}); run scripts/setup.sh`);
  }
  const out = mkdtempSync(join(tmpdir(), 'xlalign-nbrun-'));
  try {
    const r = spawnSync('bash', ['scripts/run-notebooks.sh', '--out', out, 'notebooks/00-environment-check.ipynb'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `run-notebooks failed:\n${r.stdout}\n${r.stderr}`);
    const nb = JSON.parse(readFileSync(join(out, '00-environment-check.ipynb'), 'utf8')) as { cells: (Cell & { outputs?: { data?: Record<string, string> }[] })[] };
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
    assert.ok(outputs.some((o) => (o as { data?: Record<string, string> }).data?.['image/png']), 'a PNG output');
    const png = Buffer.from(outputs.find((o) => (o as { data?: Record<string, string> }).data?.['image/png'])!.data!['image/png']!, 'base64');
    assert.equal(png.readUInt32BE(16), 600); // IHDR width of the 600 x 300 figure
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('run-notebooks.sh fails on a cell error', { skip: noJupyter, timeout: 240_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'xlalign-nbfail-'));
  try {
    execFileSync('mkdir', ['-p', join(out, 'notebooks', 'src')]);
    const nb = join(out, 'notebooks', 'broken.ipynb');
    execFileSync('sh', ['-c', `printf '// %%%%\\nconsole.log(1);\\n// %%%%\\nthrow new Error("boom");\\n' > ${join(out, 'notebooks', 'src', 'broken.ts')}`]);
    execFileSync(process.execPath, [join(process.cwd(), 'scripts', 'build-notebooks.mjs'), join('notebooks', 'src', 'broken.ts')], { cwd: out, stdio: 'ignore' });
    const r = spawnSync('bash', ['scripts/run-notebooks.sh', '--no-build', '--out', join(out, 'executed'), nb], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAILED: .*broken\.ipynb/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve('.');
const TSX = resolve('node_modules/.bin/tsx');
const README = readFileSync('README.md', 'utf8');
const run = (cmd: string, args: string[], cwd = ROOT, env: Record<string, string> = {}) => spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });

/** dist/ is usable when it is at least as new as every lib/ source (bin/xlalign.js's rule). */
function distFresh(): boolean {
  if (!existsSync('dist/index.js')) return false;
  const walk = (dir: string, ext: string, pick: (a: number, b: number) => number, init: number): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return e.isDirectory() ? pick(m, walk(p, ext, pick, init)) : e.name.endsWith(ext) ? pick(m, statSync(p).mtimeMs) : m;
    }, init);
  return walk('dist', '.js', Math.min, Infinity) >= walk('lib', '.ts', Math.max, 0);
}

test('the README script is examples/quickstart.mjs, and it runs as written (sources, and dist when built)', () => {
  const file = readFileSync('examples/quickstart.mjs', 'utf8');
  assert.ok(README.includes('```js\n' + file + '```'), 'README shows examples/quickstart.mjs verbatim');
  const r = run(TSX, ['--conditions=xlalign-source', 'examples/quickstart.mjs']);
  assert.equal(r.status, 0, r.stderr);
  const pi = /mixed-target de pivot_inclination: (\d\.\d{3})/.exec(r.stdout);
  assert.ok(pi && Number(pi[1]) > 0 && Number(pi[1]) < 1, r.stdout);
  if (distFresh()) {
    const d = run(process.execPath, ['examples/quickstart.mjs']);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(d.stdout, r.stdout, 'dist/ and the sources give the same numbers');
  } else process.stderr.write('package-surface: dist/ absent or older than lib/: the dist run of quickstart.mjs is checked after npm run build\n');
});

test("import * as xl from 'xlalign' works in a project that installs it (a folder install: node_modules/xlalign -> the checkout)", () => {
  const proj = mkdtempSync(join(tmpdir(), 'xl-project-'));
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'p', type: 'module', private: true }));
  mkdirSync(join(proj, 'node_modules'));
  symlinkSync(ROOT, join(proj, 'node_modules', 'xlalign'), 'dir');
  writeFileSync(join(proj, 'main.mjs'), "import * as xl from 'xlalign';\nimport { trainAdapter } from 'xlalign/train';\nconsole.log(import.meta.resolve('xlalign'), typeof xl.loadJsonlDataset, xl.xquadCorpus(['de']).docs.de.length, typeof trainAdapter);\n");
  const r = run(TSX, ['--conditions=xlalign-source', 'main.mjs'], proj);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\/lib\/index\.ts function 240 function/);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.equal(pkg.exports['.'].default, './dist/index.js');
  for (const f of ['dist', 'lib', 'bin', 'data']) assert.ok(pkg.files.includes(f), `package.json files has ${f}`);
  if (distFresh()) {
    const d = run(process.execPath, ['main.mjs'], proj);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /\/dist\/index\.js function 240 function/);
  }
});

test('bin/xlalign.js runs dist/ only when it is not older than lib/, else the sources', () => {
  const pkg = mkdtempSync(join(tmpdir(), 'xl-bin-'));
  cpSync('bin/xlalign.js', join(pkg, 'bin', 'xlalign.js'));
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'xlalign', type: 'module' }));
  symlinkSync(resolve('node_modules'), join(pkg, 'node_modules'), 'dir');
  mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(pkg, 'lib', 'cli'), { recursive: true });
  writeFileSync(join(pkg, 'dist', 'cli', 'main.js'), "console.log('ran dist');\n");
  writeFileSync(join(pkg, 'lib', 'cli', 'main.ts'), "const where: string = 'ran lib';\nconsole.log(where);\n");
  const at = (p: string, s: number) => utimesSync(join(pkg, p), s, s);
  const bin = () => run(process.execPath, [join(pkg, 'bin', 'xlalign.js')], pkg);
  at('lib/cli/main.ts', 1000);
  at('dist/cli/main.js', 2000);
  assert.equal(bin().stdout, 'ran dist\n');
  at('lib/cli/main.ts', 3000); // a source edited after the build
  let r = bin();
  assert.equal(r.stdout, 'ran lib\n');
  assert.match(r.stderr, /dist\/ is older than lib\/; running the sources/);
  at('lib/cli/main.ts', 2000); // equal times (a packed install): dist
  assert.equal(bin().stdout, 'ran dist\n');
  rmSync(join(pkg, 'dist'), { recursive: true });
  r = bin();
  assert.equal(r.stdout, 'ran lib\n');
  assert.equal(r.stderr, '');
});

test("README's own-data example and its score command run as written (bash; npx xlalign = this checkout's CLI)", () => {
  const section = README.slice(README.indexOf('## Your own data'), README.indexOf('## Alignment fine-tuning'));
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 2, 'the dataset example and the score example');
  const cwd = mkdtempSync(join(tmpdir(), 'readme-own-'));
  const prelude = `npx() { if [ "$1" = xlalign ]; then shift; ${JSON.stringify(TSX)} ${JSON.stringify(resolve('lib/cli/main.ts'))} "$@"; else command npx "$@"; fi; }\n`;
  const e = run('bash', ['-euo', 'pipefail', '-c', prelude + blocks[0]], cwd);
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /### rivers · default · mixed-target/);
  const rows = JSON.parse(readFileSync(join(cwd, 'out/rivers/metrics.json'), 'utf8'));
  assert.equal(new Set(rows.map((r: { retriever: string; scenario: string }) => `${r.retriever} ${r.scenario}`)).size, 4);
  const s = run('bash', ['-euo', 'pipefail', '-c', prelude + blocks[1]], cwd);
  assert.equal(s.status, 0, s.stderr);
  const pi = rows.find((r: { retriever: string; scenario: string; metric: string }) => r.retriever === 'bm25' && r.scenario === 'mixed-target' && r.metric === 'pivot_inclination').value;
  assert.match(s.stdout, new RegExp(`\\| pivot_inclination \\| ${pi} \\|`));
});

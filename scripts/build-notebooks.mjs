#!/usr/bin/env node
// Build notebooks/<name>.ipynb from notebooks/src/<name>.ts ("percent" format, as jupytext):
//   // %% [markdown]      starts a markdown cell; its lines are written as '// text'
//   // %%                 starts a code cell
// The .ts sources are the reviewed, diffable form; the .ipynb (with outputs, after
// scripts/run-notebooks.sh) are what Jupyter opens. Outputs of an existing notebook are kept
// for cells whose source did not change, so rebuilding does not wipe results.
// The sources import the library as '../../lib/index.js' so that `npm run typecheck` checks
// them against lib/; in the notebook that import becomes '../dist/index.js' (tslab compiles
// cells to CommonJS and loads the compiled library, with its types from dist/index.d.ts).
// Usage: node scripts/build-notebooks.mjs [notebooks/src/NAME.ts ...]
import { readFileSync, writeFileSync, readdirSync, existsSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createHash } from 'node:crypto';

const srcDir = 'notebooks/src';
const files = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(srcDir).filter((f) => f.endsWith('.ts')).sort().map((f) => join(srcDir, f));

function parse(text, file) {
  const cells = [];
  let cur = null;
  text.split('\n').forEach((line, i) => {
    const m = /^\/\/ %%(?: \[(markdown)\])?\s*$/.exec(line);
    if (m) {
      cur = { type: m[1] ? 'markdown' : 'code', lines: [] };
      cells.push(cur);
    } else if (cur === null) {
      if (line.trim() !== '') throw new Error(`${file}:${i + 1}: text before the first '// %%' cell marker`);
    } else if (cur.type === 'markdown') {
      if (line.trim() !== '' && !line.startsWith('//')) throw new Error(`${file}:${i + 1}: markdown lines must start with '//'`);
      cur.lines.push(line.replace(/^\/\/ ?/, ''));
    } else cur.lines.push(line.replace(/'\.\.\/\.\.\/lib\/index\.js'/, "'../dist/index.js'"));
  });
  for (const c of cells) {
    while (c.lines.length && c.lines.at(-1).trim() === '') c.lines.pop();
    while (c.lines.length && c.lines[0].trim() === '') c.lines.shift();
  }
  return cells.filter((c) => c.lines.length > 0);
}

const source = (lines) => lines.map((l, i) => (i < lines.length - 1 ? l + '\n' : l));

for (const file of files) {
  const name = basename(file, '.ts');
  const out = join('notebooks', `${name}.ipynb`);
  const old = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { cells: [] };
  const oldBySource = new Map(old.cells.filter((c) => c.cell_type === 'code').map((c) => [[].concat(c.source).join(''), c]));
  const cells = parse(readFileSync(file, 'utf8'), file).map((c, i) => {
    const src = source(c.lines);
    const id = createHash('sha1').update(`${name}:${i}:${src.join('')}`).digest('hex').slice(0, 8);
    if (c.type === 'markdown') return { cell_type: 'markdown', id, metadata: {}, source: src };
    const prev = oldBySource.get(src.join(''));
    return { cell_type: 'code', id, metadata: {}, execution_count: prev?.execution_count ?? null, outputs: prev?.outputs ?? [], source: src };
  });
  const nb = {
    cells,
    metadata: {
      kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' },
      language_info: { codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true }, file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript', version: '3.7.2' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(nb, null, 1) + '\n');
  renameSync(tmp, out);
  console.log(`build-notebooks: ${file} -> ${out} (${cells.length} cells)`);
}

/**
 * The folders of lib/ form layers, and data flows one way through them: a module may import
 * from its own folder and from earlier folders only. This test reads every import of lib/
 * with the TypeScript parser (`import ... from`, `import type`, `export ... from`, dynamic
 * `import()`, `import('x').T` types, `import x = require()`; either quote style, any
 * layout), and fails on:
 * - an import that goes to a later layer;
 * - a cycle between folders, or between files (type-only imports included: a cycle of types
 *   is a cycle of design, even when the compiled code drops it);
 * - an import of `lib/index.ts` (the public surface for notebooks and programs) from inside
 *   lib/, or of the package by its own name (`'xlalign'`), which resolves to it;
 * naming the file and the import. The checks run on planted folders too, so each can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** The layers, earliest first (README "Contributing" explains each). `index.ts` at the root may import any. */
export const LAYERS = [
  'util', 'data', 'runs', 'pools', 'results', 'nn', 'embed', 'models', 'retrieve', 'metrics', 'eval', 'train', 'experiments', 'plot', 'cli',
] as const;

/** The package's own name: importing it from lib/ means importing lib/index.ts. */
const PACKAGE_NAME = 'xlalign';

/** One import: the importing file, the specifier as written, the resolved file (relative imports), and whether it is type-only. */
export interface ImportEdge {
  file: string;
  spec: string;
  target?: string;
  typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * The module specifiers of one source text, read by the TypeScript parser: every import and
 * re-export declaration, dynamic `import()` call, `import('x')` type and `import = require()`.
 */
export function importSpecifiers(fileName: string, text: string): { spec: string; typeOnly: boolean }[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { spec: string; typeOnly: boolean }[] = [];
  const literal = (n: ts.Node | undefined): string | undefined => (n && ts.isStringLiteralLike(n) ? n.text : undefined);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const spec = literal(node.moduleSpecifier);
      const c = node.importClause;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (spec !== undefined) out.push({ spec, typeOnly });
    } else if (ts.isExportDeclaration(node)) {
      const spec = literal(node.moduleSpecifier);
      const typeOnly = node.isTypeOnly || (!!node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (spec !== undefined) out.push({ spec, typeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const spec = literal(node.arguments[0]);
      if (spec !== undefined) out.push({ spec, typeOnly: false });
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      const spec = ts.isLiteralTypeNode(arg) ? literal(arg.literal) : undefined;
      if (spec !== undefined) out.push({ spec, typeOnly: true });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const spec = literal(node.moduleReference.expression);
      if (spec !== undefined) out.push({ spec, typeOnly: node.isTypeOnly });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The file a relative specifier names: `./x.js` -> `x.ts`, `./dir` -> `dir/index.ts`. */
function resolveRelative(from: string, spec: string): string {
  const p = resolve(dirname(from), spec);
  if (existsSync(p) && statSync(p).isDirectory()) return join(p, 'index.ts');
  if (p.endsWith('.js')) return p.slice(0, -3) + '.ts';
  return p.endsWith('.ts') ? p : `${p}.ts`;
}

/** Every import of every `.ts` file under `lib`. */
export function libImports(lib: string): ImportEdge[] {
  const out: ImportEdge[] = [];
  for (const file of tsFiles(lib)) {
    for (const { spec, typeOnly } of importSpecifiers(file, readFileSync(file, 'utf8'))) {
      out.push({ file, spec, typeOnly, ...(spec.startsWith('.') ? { target: resolveRelative(file, spec) } : {}) });
    }
  }
  return out;
}

/** The layer (first folder under lib) of a file; `''` for lib's root files. */
function folderOf(lib: string, p: string): string {
  const parts = relative(lib, p).split('/');
  return parts.length === 1 ? '' : parts[0];
}

/** A cycle in a directed graph as a path `a -> b -> a`, or undefined. */
export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) { const c = visit(n); if (c) return c; }
  return undefined;
}

/** Cycles of a graph, each once: find one, drop its closing edge, repeat (at most `max`). */
export function findCycles(graph: Map<string, Set<string>>, max = 20): string[][] {
  const g = new Map([...graph].map(([k, v]) => [k, new Set(v)]));
  const out: string[][] = [];
  for (let c = findCycle(g); c && out.length < max; c = findCycle(g)) {
    out.push(c);
    g.get(c[c.length - 2])!.delete(c[c.length - 1]);
  }
  return out;
}

/** Every problem of the layering rules in `lib`, one line each (empty: all good). */
export function layeringProblems(lib: string, layers: readonly string[] = LAYERS): string[] {
  const edges = libImports(lib);
  const problems: string[] = [];
  const rel = (p: string) => relative(lib, p);
  const rank = (f: string) => layers.indexOf(f);
  for (const f of readdirSync(lib).filter((d) => statSync(join(lib, d)).isDirectory())) {
    if (!layers.includes(f)) problems.push(`lib/${f} is not a declared layer (LAYERS of test/structure/layering.test.ts)`);
  }
  const folders = new Map<string, Set<string>>();
  const files = new Map<string, Set<string>>();
  const index = join(lib, 'index.ts');
  for (const e of edges) {
    const from = folderOf(lib, e.file);
    if (e.spec === PACKAGE_NAME || e.spec.startsWith(`${PACKAGE_NAME}/`)) {
      problems.push(`lib/${rel(e.file)} imports '${e.spec}' (the package's public surface); import the module itself`);
      continue;
    }
    if (!e.target) continue; // another package
    if (e.target === index && e.file !== index) problems.push(`lib/${rel(e.file)} imports '${e.spec}' = lib/index.ts (the public surface); import the module itself`);
    if (!existsSync(e.target)) problems.push(`lib/${rel(e.file)} imports '${e.spec}', which is no file of lib/ (${rel(e.target)})`);
    const to = folderOf(lib, e.target);
    if (from !== '' && from !== to) {
      folders.set(from, (folders.get(from) ?? new Set()).add(to));
      if (rank(to) > rank(from)) problems.push(`lib/${rel(e.file)} imports '${e.spec}' (${from} -> later layer ${to})`);
    }
    files.set(rel(e.file), (files.get(rel(e.file)) ?? new Set()).add(rel(e.target)));
  }
  for (const c of findCycles(folders)) problems.push(`import cycle between folders: ${c.join(' -> ')}`);
  for (const c of findCycles(files)) problems.push(`import cycle between files: ${c.map((f) => `lib/${f}`).join(' -> ')}`);
  return problems;
}

const LIB = resolve('lib');

test('lib/ keeps its layers: declared folders, imports to the same or earlier layers, no cycle between folders or files, no import of lib/index.ts', () => {
  const edges = libImports(LIB);
  assert.ok(edges.length > 300, `${edges.length} imports read`);
  assert.ok(edges.some((e) => e.typeOnly) && edges.some((e) => e.spec.startsWith('../') && !e.typeOnly), 'type-only and value imports both read');
  assert.deepEqual(layeringProblems(LIB), []);
});

test('the import reader sees every form of import, and nothing in comments or strings', () => {
  const src = [
    `import { a } from "./double.js";`,
    `import type { T } from './type-only.js';`,
    `import { type U, type V } from './all-type-names.js';`,
    `import { type W, x } from './mixed.js';`,
    `export * from "./star.js";`,
    `export { y } from './named.js';`,
    `export type { Z } from './export-type.js';`,
    `import './side-effect.js';`,
    `import def, * as ns from './default-ns.js';`,
    `import {`,
    `  m,`,
    `} from`,
    `  './multi-line.js';`,
    `const lazy = await import("./dynamic.js");`,
    `type L = typeof import('./import-type.js');`,
    `import req = require('./require.js');`,
    `// import { no } from './comment.js';`,
    `/* export * from './block-comment.js'; */`,
    `const s = "import { no } from './string.js'";`,
    `const t = \`from './template.js'\`;`,
  ].join('\n');
  assert.deepEqual(importSpecifiers('x.ts', src), [
    { spec: './double.js', typeOnly: false },
    { spec: './type-only.js', typeOnly: true },
    { spec: './all-type-names.js', typeOnly: true },
    { spec: './mixed.js', typeOnly: false },
    { spec: './star.js', typeOnly: false },
    { spec: './named.js', typeOnly: false },
    { spec: './export-type.js', typeOnly: true },
    { spec: './side-effect.js', typeOnly: false },
    { spec: './default-ns.js', typeOnly: false },
    { spec: './multi-line.js', typeOnly: false },
    { spec: './dynamic.js', typeOnly: false },
    { spec: './import-type.js', typeOnly: true },
    { spec: './require.js', typeOnly: false },
  ]);
});

test('planted folders: each rule fails with a line naming the file and the import', () => {
  const root = mkdtempSync(join(tmpdir(), 'layering-'));
  const lib = join(root, 'lib');
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(lib, path)), { recursive: true });
    writeFileSync(join(lib, path), text);
  };
  try {
    put('index.ts', `export * from './util/a.js';\nexport * from './data/b.js';\n`);
    put('util/a.ts', `export const a = 1;\n`);
    put('data/b.ts', `import { a } from "../util/a.js";\nexport const b = a;\n`);
    assert.deepEqual(layeringProblems(lib, ['util', 'data']), [], 'a clean tree passes');

    // an import to a later layer, written with double quotes and as a re-export
    put('util/up.ts', `export { b } from "../data/b.js";\n`);
    assert.deepEqual(layeringProblems(lib, ['util', 'data']), [
      `lib/util/up.ts imports '../data/b.js' (util -> later layer data)`,
      'import cycle between folders: data -> util -> data',
    ]);
    rmSync(join(lib, 'util/up.ts'));

    // a dynamic import to a later layer
    put('util/lazy.ts', `export const f = () => import('../data/b.js');\n`);
    assert.match(layeringProblems(lib, ['util', 'data'])[0], /^lib\/util\/lazy\.ts imports '\.\.\/data\/b\.js' \(util -> later layer data\)$/);
    rmSync(join(lib, 'util/lazy.ts'));

    // lib/index.ts (as '../index.js' and as '..') and the package name, from inside lib/
    put('data/c.ts', `import { a } from '../index.js';\nimport type { b } from '..';\nimport * as xl from 'xlalign';\nexport const c = [a, b, xl];\n`);
    assert.deepEqual(layeringProblems(lib, ['util', 'data']), [
      `lib/data/c.ts imports '../index.js' = lib/index.ts (the public surface); import the module itself`,
      `lib/data/c.ts imports '..' = lib/index.ts (the public surface); import the module itself`,
      `lib/data/c.ts imports 'xlalign' (the package's public surface); import the module itself`,
    ]);
    rmSync(join(lib, 'data/c.ts'));

    // a cycle between two files of one folder, through a type-only import: no folder cycle, a file cycle
    put('data/d.ts', `import type { E } from './e.js';\nexport interface D { e?: E }\n`);
    put('data/e.ts', `import type { D } from './d.js';\nexport interface E { d?: D }\n`);
    assert.deepEqual(layeringProblems(lib, ['util', 'data']), ['import cycle between files: lib/data/d.ts -> lib/data/e.ts -> lib/data/d.ts']);
    rmSync(join(lib, 'data/e.ts'));
    rmSync(join(lib, 'data/d.ts'));

    // an undeclared folder, and an import of a file that does not exist
    put('extra/x.ts', `import { a } from '../util/missing.js';\nexport const x = a;\n`);
    assert.deepEqual(layeringProblems(lib, ['util', 'data']).slice(0, 2), [
      'lib/extra is not a declared layer (LAYERS of test/structure/layering.test.ts)',
      `lib/extra/x.ts imports '../util/missing.js', which is no file of lib/ (util/missing.ts)`,
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the cycle finder finds a planted cycle (the check can fail)', () => {
  const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]);
  assert.deepEqual(findCycle(g), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', new Set(['b'])]])), undefined);
  // two cycles sharing a node are both reported
  const two = new Map([['a', new Set(['b', 'c'])], ['b', new Set(['a'])], ['c', new Set(['a'])]]);
  assert.deepEqual(findCycles(two), [['a', 'b', 'a'], ['a', 'c', 'a']]);
});

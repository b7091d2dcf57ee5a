/**
 * The folders of lib/ form layers, and data flows one way through them: a module may import
 * from its own folder and from earlier folders only. This test reads every import of lib/
 * (static `import`/`export ... from` and dynamic `import()`, type-only imports included),
 * builds the folder-level graph, and fails on any cycle and on any import that goes to a
 * later layer, naming the file and the import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The layers, earliest first (README "Contributing" explains each). `index.ts` at the root may import any. */
export const LAYERS = [
  'util', 'data', 'runs', 'pools', 'results', 'nn', 'embed', 'models', 'retrieve', 'metrics', 'eval', 'train', 'experiments', 'plot', 'cli',
] as const;

const LIB = resolve('lib');

interface Edge { from: string; to: string; file: string; spec: string }

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const folderOf = (p: string): string => {
  const parts = relative(LIB, p).split('/');
  return parts.length === 1 ? '' : parts[0];
};

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of tsFiles(LIB)) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1]);
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) out.push({ from, to, file: relative('.', file), spec: m[1] });
    }
  }
  return out;
}

/** A cycle in the folder graph as a path `a -> b -> a`, or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
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
  for (const n of graph.keys()) if (!state.has(n)) { const c = visit(n); if (c) return c; }
  return undefined;
}

test('every folder of lib/ is a declared layer', () => {
  const folders = readdirSync(LIB).filter((f) => statSync(join(LIB, f)).isDirectory());
  for (const f of folders) assert.ok((LAYERS as readonly string[]).includes(f), `lib/${f} is not in LAYERS of test/structure/layering.test.ts`);
});

test('the folder-level import graph of lib/ has no cycle', () => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges()) if (e.from !== '') graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `import cycle between folders: ${cycle?.join(' -> ')}`);
});

test('imports only go to the same or an earlier layer', () => {
  const rank = (f: string) => (LAYERS as readonly string[]).indexOf(f);
  const bad = edges().filter((e) => e.from !== '' && rank(e.to) > rank(e.from));
  assert.deepEqual(bad.map((e) => `${e.file} imports '${e.spec}' (${e.from} -> later layer ${e.to})`), []);
});

test('the cycle finder finds a planted cycle (the check can fail)', () => {
  const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]);
  assert.deepEqual(findCycle(g), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', new Set(['b'])]])), undefined);
});

#!/usr/bin/env node
// The installed CLI: the compiled command line (dist/, written by `npm run build`), or, in a
// checkout that has not been built, the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../lib/cli/main.ts', import.meta.url).href);
}

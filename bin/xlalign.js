#!/usr/bin/env node
// The installed CLI. Runs the compiled command line (dist/, written by `npm run build`) only
// when it is at least as new as every source file in lib/; otherwise (a checkout edited
// since the last build, or never built) the TypeScript sources through tsx, so `npx xlalign`
// and `npm run xlalign` always run the same code. A packed install ships lib/ and dist/ with
// equal times, so it runs dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/cli/main.js`;
const lib = `${root}lib`;

/** Newest modification time (ms) of the .ts files under `dir`, 0 when there are none. */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The oldest modification time (ms) of the .js files under `dir`. */
function oldestBuilt(dir) {
  let oldest = Infinity;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) oldest = Math.min(oldest, oldestBuilt(p));
    else if (e.name.endsWith('.js')) oldest = Math.min(oldest, statSync(p).mtimeMs);
  }
  return oldest;
}

const hasSources = existsSync(`${lib}/cli/main.ts`);
const fresh = existsSync(dist) && (!hasSources || oldestBuilt(`${root}dist`) >= newestSource(lib));
if (fresh) {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
} else if (hasSources) {
  if (existsSync(dist) && process.env.XLALIGN_QUIET_STALE !== '1') process.stderr.write('xlalign: dist/ is older than lib/; running the sources (npm run build refreshes dist/)\n');
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('xlalign: dist/ is missing or older than lib/ and tsx is not installed: run npm run build\n');
    process.exit(1);
  }
  register();
  await import(new URL('../lib/cli/main.ts', import.meta.url).href);
} else {
  process.stderr.write('xlalign: neither dist/cli/main.js nor lib/cli/main.ts found; reinstall xlalign\n');
  process.exit(1);
}

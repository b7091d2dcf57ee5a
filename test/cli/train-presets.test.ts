/**
 * `xlalign train` applies the model's embedding preset (lib/embed/presets.ts) to the options
 * not given on the command line, as `eval` does, and records it in config.json. The model is
 * the default static model under a folder name that matches the multilingual-e5 preset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve('lib/cli/main.ts');
const TSX = resolve('node_modules/.bin/tsx');

function train(model: string, out: string, extra: string[] = []) {
  const args = [MAIN, 'train', '--retriever', model, '--head', 'adapter', '--samples', '64', '--epochs', '1', '--langs', 'de', '--scenarios', 'mono', '--resamples', '20', '--out', out, ...extra];
  const r = spawnSync(TSX, args, { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(r.status, 0, r.stderr);
  return { config: JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')), stderr: r.stderr };
}

test('train: the e5 preset sets the prefixes left unset, is printed and recorded; a flag overrides it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xl-preset-'));
  const model = join(dir, 'multilingual-e5-small');
  symlinkSync(resolve('data/models/xlalign-static-v1'), model);
  const a = train(model, join(dir, 'a'));
  assert.equal(a.config.preset, 'multilingual-e5');
  assert.deepEqual(a.config.presetApplied, { pooling: 'mean', queryPrefix: 'query: ', passagePrefix: 'passage: ' });
  assert.equal(a.config.embed.queryPrefix, 'query: ');
  assert.match(a.stderr, /preset multilingual-e5/);
  const b = train(model, join(dir, 'b'), ['--query-prefix', 'q: ']);
  assert.equal(b.config.embed.queryPrefix, 'q: ');
  assert.equal(b.config.presetApplied.queryPrefix, undefined);
  assert.equal(b.config.presetApplied.passagePrefix, 'passage: ');
  // the default model has no preset: nothing applied
  const c = train('default', join(dir, 'c'));
  assert.equal(c.config.preset, null);
});

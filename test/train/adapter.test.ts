import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW } from '../../lib/nn/adamw.js';
import { AlignmentAdapter, loadAdapter, saveAdapter } from '../../lib/train/adapter.js';
import { createRng, randomUnitRows } from './grad-check.js';

/** L = Σ c ⊙ e for a fixed random c: dL/de = c. */
function check(adapter: AlignmentAdapter, seed: number) {
  const rng = createRng(seed);
  const x = randomUnitRows(rng, 5, adapter.dim);
  const c = Float64Array.from({ length: 5 * adapter.dim }, () => rng.normal());
  const f = () => {
    const y = adapter.forward(x).output.data;
    let s = 0;
    for (let k = 0; k < y.length; k++) s += y[k] * c[k];
    return s;
  };
  const fwd = adapter.forward(x);
  adapter.backward(fwd, c);
  let worst = 0;
  for (const [name, grad] of Object.entries(adapter.gradients())) {
    const param = (adapter as unknown as Record<string, Float32Array>)[name];
    for (let t = 0; t < 25; t++) {
      const k = rng.int(param.length);
      const old = param[k];
      param[k] = old + 1e-2;
      const hiVal = param[k];
      const up = f();
      param[k] = old - 1e-2;
      const loVal = param[k];
      const down = f();
      param[k] = old;
      const numeric = (up - down) / (hiVal - loVal); // the float32 steps actually taken
      worst = Math.max(worst, Math.abs(numeric - grad[k]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(grad[k])));
    }
  }
  return worst;
}

test('AlignmentAdapter: starts as the identity (then normalises), full and low rank', () => {
  const rng = createRng(1);
  const x = randomUnitRows(rng, 3, 8);
  for (const adapter of [AlignmentAdapter.create(8), AlignmentAdapter.create(8, { rank: 2 })]) {
    const y = adapter.forward(x).output.data;
    for (let k = 0; k < y.length; k++) assert.ok(Math.abs(y[k] - x.data[k]) < 1e-12);
  }
  // scale invariance: apply() on unnormalised vectors equals the forward on normalised ones
  const adapter = AlignmentAdapter.create(8);
  adapter.delta!.forEach((_, k) => (adapter.delta![k] = Math.sin(k)));
  const raw = Float32Array.from(x.data, (v) => v * 3.5);
  const a = adapter.apply(raw, 3, 8);
  const b = adapter.forward({ data: Float32Array.from(x.data), rows: 3, cols: 8 }).output.data;
  for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) < 1e-5);
  assert.throws(() => adapter.apply(raw, 2, 12), /vectors have dim 12, the adapter was trained for 8/);
  assert.throws(() => AlignmentAdapter.create(8, { rank: 9 }), /rank must be an integer in \[1, 8\], got 9/);
});

test('AlignmentAdapter: parameter gradients match finite differences (full and low rank)', () => {
  const full = AlignmentAdapter.create(6);
  full.delta!.forEach((_, k) => (full.delta![k] = 0.3 * Math.cos(3 * k)));
  assert.ok(check(full, 2) < 1e-3, 'full rank');
  const low = AlignmentAdapter.create(6, { rank: 2, seed: 3 });
  low.u!.forEach((_, k) => (low.u![k] = 0.2 * Math.sin(k + 1)));
  assert.ok(check(low, 4) < 1e-3, 'low rank');
});

test('AlignmentAdapter.step moves W and clears gradients; id follows the weights', () => {
  const adapter = AlignmentAdapter.create(4);
  const id0 = adapter.id;
  const rng = createRng(5);
  const x = randomUnitRows(rng, 2, 4);
  adapter.backward(adapter.forward(x), Float64Array.from({ length: 8 }, () => rng.normal()));
  adapter.step(new AdamW({ lr: 0.01 }));
  assert.ok(adapter.delta!.some((v) => v !== 0));
  assert.ok(adapter.gradients().delta.every((v) => v === 0));
  assert.notEqual(adapter.id, id0);
  assert.match(adapter.id, /^adapter@sha256:[0-9a-f]{16}$/);
});

test('saveAdapter / loadAdapter: safetensors round trip with config; errors name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlalign-adapter-'));
  for (const adapter of [AlignmentAdapter.create(5), AlignmentAdapter.create(5, { rank: 2, seed: 9 })]) {
    const params = adapter.delta ?? adapter.u!;
    params.forEach((_, k) => (params[k] = k / 7));
    adapter.training = { lr: 0.001, epochs: 3 };
    const file = join(dir, `a${adapter.rank}.safetensors`);
    saveAdapter(file, adapter);
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
    assert.equal(header.__metadata__.format, 'xlalign-adapter-v1');
    const back = loadAdapter(file);
    assert.deepEqual(back.getConfig(), adapter.getConfig());
    assert.equal(back.id, adapter.id);
    assert.deepEqual(Array.from(back.delta ?? back.v!), Array.from(adapter.delta ?? adapter.v!));
  }
  const bad = join(dir, 'bad.safetensors');
  writeFileSync(bad, Buffer.from([1, 0, 0]));
  assert.throws(() => loadAdapter(bad), /bad\.safetensors: 3 bytes, too short/);
  assert.throws(() => loadAdapter(join(dir, 'none.safetensors')), /cannot read .*none\.safetensors/);
  const full = readFileSync(join(dir, 'anull.safetensors'));
  writeFileSync(bad, full.subarray(0, full.length - 4));
  assert.throws(() => loadAdapter(bad), /tensor 'delta' has/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from '../../../lib/nn/adamw.js';
import { AdamWF32 } from '../../../lib/nn/adamw-f32.js';
import { createRng } from '../../../lib/util/rng.js';

const rng = createRng(4);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

test('AdamWF32 takes the same dense and sparse steps as AdamW (float64 moments) within 1e-6', () => {
  const a = rand(50);
  const b = Float32Array.from(a);
  const ta = rand(40);
  const tb = Float32Array.from(ta);
  const ref = new AdamW({ lr: 1e-2, weightDecay: 0.1 });
  const mine = new AdamWF32({ lr: 1e-2, weightDecay: 0.1 });
  for (let s = 0; s < 20; s++) {
    const g = rand(50);
    ref.step('w', a, g);
    mine.step('w', b, g);
    const rows = s % 2 ? [1, 3] : [0, 3, 7];
    const rg = rand(rows.length * 5);
    ref.stepRows('t', ta, 5, rows, rg);
    mine.stepRows('t', tb, 5, rows, rg);
  }
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `dense [${i}] ${a[i]} vs ${b[i]}`);
  for (let i = 0; i < ta.length; i++) assert.ok(Math.abs(ta[i] - tb[i]) < 1e-6, `sparse [${i}] ${ta[i]} vs ${tb[i]}`);
});

test('AdamWF32: exported then imported state continues bit for bit; weightDecay 0 override leaves a zero-gradient parameter alone', () => {
  const grads = Array.from({ length: 6 }, () => rand(10));
  const p1 = rand(10);
  const p2 = Float32Array.from(p1);
  const one = new AdamWF32({ lr: 1e-2 });
  grads.forEach((g) => one.step('w', p1, g));
  const first = new AdamWF32({ lr: 1e-2 });
  grads.slice(0, 3).forEach((g) => first.step('w', p2, g));
  const second = new AdamWF32({ lr: 1e-2 });
  const st = first.exportState().get('w')!;
  second.importState(new Map([['w', { m: Float32Array.from(st.m), v: Float32Array.from(st.v), t: st.t }]]));
  grads.slice(3).forEach((g) => second.step('w', p2, g));
  assert.deepEqual(p2, p1);
  const bias = rand(4);
  const copy = Float32Array.from(bias);
  one.step('b', bias, new Float32Array(4), 0);
  assert.deepEqual(bias, copy);
  one.step('b2', bias, new Float32Array(4));
  assert.notDeepEqual(bias, copy, 'with the default decay a zero gradient still shrinks the parameter');
});

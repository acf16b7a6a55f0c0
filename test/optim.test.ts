import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '../src/gpu/tensor.js';
import { emaUniforms, emaUpdate, sgdUniforms, sgdUpdate, type SgdOptions } from '../src/kernels/optim.js';
import { emaRef, sgdRef } from '../src/kernels/optim.ref.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const fake = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => new Tensor(null as never, null as never, shape, dtype, 'fake');

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

describe('sgd_update', () => {
  // Primes (scalar entry point; not a multiple of the 64-thread workgroup; 100003 spans many workgroups) and
  // 1012 = 4*253 (the vec4 entry point, 253 vec4s: not a multiple of 64 either).
  for (const n of [1, 1009, 1012, 100003]) {
    it(`n=${n}: steps replayed from one compiled list with new lr / momentum / wd / nesterov each time`, async () => {
      const steps: SgdOptions[] = [
        { lr: 0.03, momentum: 0.9, weightDecay: 5e-4, nesterov: true },   // DASO's setting; first step from a zero buffer
        { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true },
        { lr: 0.05, momentum: 0.5, weightDecay: 1e-2, nesterov: false },
        { lr: 0.01, momentum: 0, weightDecay: 0, nesterov: true },        // plain SGD
        { lr: 0.2, momentum: 0.9, weightDecay: 5e-4, nesterov: true },
      ];
      const w0 = randn(n, n + 1), g = steps.map((_, s) => randn(n, n * 7 + s));
      const out = await runOp('sgd_steps', { n, steps }, { params: w0, momentumBuf: new Float32Array(n), grads: concat(g) });
      const w = Float64Array.from(w0), buf = new Float64Array(n);
      steps.forEach((o, s) => sgdRef(w, g[s], buf, o));
      expectClose(out.params, w, `n=${n} params`, 1e-5, 1e-5);
      expectClose(out.momentumBuf, buf, `n=${n} momentum`, 1e-5, 1e-5);
      expect(out.pipelinesCompiled[0]).toBeLessThanOrEqual(1);
      // The uniforms mattered: replaying the first step's lr for every step gives a different result.
      const w1 = Float64Array.from(w0), b1 = new Float64Array(n);
      steps.forEach((_, s) => sgdRef(w1, g[s], b1, steps[0]));
      expect(Math.max(...Array.from(w1, (v, i) => Math.abs(v - w[i])))).toBeGreaterThan(1e-3);
    });
  }

  it('lr, momentum, wd and nesterov are uniforms: one pipeline key for all of them', () => {
    const [p, g, b] = [fake([7]), fake([7]), fake([7])];
    const a = sgdUpdate(p, g, b, { lr: 0.03, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
    const c = sgdUpdate(p, g, b, { lr: 0.5, momentum: 0.1, weightDecay: 0, nesterov: false });
    expect(a.key).toBe(c.key);
    expect(new Float32Array(c.uniforms!, 0, 3)).toEqual(Float32Array.from([0.5, 0.1, 0]));
    expect(new Uint32Array(sgdUniforms({ lr: 1, momentum: 0, weightDecay: 0, nesterov: true }), 12, 1)[0]).toBe(1);
  });

  it('rejects mismatched buffers naming the kernel, argument and shapes', () => {
    const o = { lr: 0.03, momentum: 0.9, weightDecay: 5e-4, nesterov: true };
    expect(() => sgdUpdate(fake([10]), fake([11]), fake([10]), o)).toThrow("sgd_update: argument 'grads' has shape [11], expected [10]");
    expect(() => sgdUpdate(fake([10]), fake([10]), fake([10], 'i32'), o)).toThrow("sgd_update: argument 'momentumBuf' has dtype i32, expected f32");
    expect(() => sgdUpdate(fake([2, 5]), fake([10]), fake([10]), o)).toThrow("sgd_update: argument 'params' has shape [2, 5], expected rank 1");
    expect(() => sgdUniforms({ ...o, lr: NaN })).toThrow("sgd_update: option 'lr' is NaN");
  });
});

describe('ema_update', () => {
  for (const n of [1, 1009, 1012, 100003]) {
    it(`n=${n}: DASO's warm-up decays min(1 - 1/(t+1), rho), replayed from one compiled list`, async () => {
      // t = 0 gives decay 0 (an exact copy of x); a small rho makes the cap bite within 5 steps.
      const decays = [0, 1, 2, 3, 4].map((t) => Math.min(1 - 1 / (t + 1), 0.7));
      const e0 = randn(n, n + 3), xs = decays.map((_, s) => randn(n, n * 11 + s));
      const out = await runOp('ema_steps', { n, decays }, { ema: e0, xs: concat(xs) });
      const e = Float64Array.from(e0);
      decays.forEach((d, s) => emaRef(e, xs[s], d));
      expectClose(out.ema, e, `n=${n} ema`, 1e-6, 1e-5);
      expect(out.pipelinesCompiled[0]).toBeLessThanOrEqual(1);
    });
  }

  it('decay 0 copies x exactly; decay 1 keeps ema exactly', async () => {
    const n = 260, e0 = randn(n, 1), x = randn(n, 2);
    const copy = await runOp('ema_steps', { n, decays: [0] }, { ema: e0, xs: x });
    expectClose(copy.ema, x, 'decay 0', 0, 0);
    const keep = await runOp('ema_steps', { n, decays: [1] }, { ema: e0, xs: x });
    expectClose(keep.ema, e0, 'decay 1', 0, 0);
  });

  it('rejects mismatched buffers and non-finite decays', () => {
    expect(() => emaUpdate(fake([10]), fake([9]), 0.9)).toThrow("ema_update: argument 'x' has shape [9], expected [10]");
    expect(() => emaUniforms(Infinity)).toThrow("ema_update: option 'decay' is Infinity");
    expect(new Float32Array(emaUpdate(fake([3]), fake([3]), 0.999).uniforms!)[1]).toBeCloseTo(0.001, 9);
  });
});

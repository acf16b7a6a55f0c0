// Adapter limits (issue 15 item 5): a tensor over the device's maxBufferSize or maxStorageBufferBindingSize fails
// with a clear Error when it is allocated — while a step is being recorded, before anything is submitted — naming
// the buffer, its shape and bytes, the limit and its value, the adapter and the fix.
import { afterAll, describe, expect, it } from 'vitest';
import { STEP_BENCH_CASES } from '../src/cli/step-bench.js';
import { MemoryPool, limitError } from '../src/gpu/tensor.js';
import { closeHarness, harnessPage, inPage } from './helpers/harness.js';

afterAll(closeHarness);

const MiB = 2 ** 20;

/** Enough of a GPUDevice for the pool's check (which runs before createBuffer). */
function fakeDevice(maxBufferSize: number, maxStorageBufferBindingSize: number) {
  let created = 0;
  const device = {
    limits: { maxBufferSize, maxStorageBufferBindingSize },
    createBuffer: (d: { size: number }) => { created++; return { size: d.size, destroy() {} }; },
    queue: { writeBuffer() {}, submit() { throw new Error('nothing may be submitted'); } },
  } as unknown as GPUDevice;
  return { device, created: () => created };
}

describe('buffer limits (Node, a stand-in device)', () => {
  (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage ??= { STORAGE: 128, COPY_SRC: 4, COPY_DST: 8 };

  it('names the tensor, shape, bytes, limit, adapter and fix for a binding over maxStorageBufferBindingSize', () => {
    const fake = fakeDevice(256 * MiB, 128 * MiB);
    const pool = new MemoryPool(fake.device, { adapter: 'acme / test' });
    const msg = (() => { try { pool.tensor([1025, 32, 32, 32], 'f32', 'online:block1.conv1 out'); return 'no error'; } catch (e) { return (e as Error).message; } })();
    expect(msg).toContain("tensor 'online:block1.conv1 out' [1025, 32, 32, 32] f32");
    expect(msg).toContain(`needs ${1025 * 32 * 32 * 32 * 4} bytes (128.1 MiB)`);
    expect(msg).toContain(`maxStorageBufferBindingSize of ${128 * MiB} bytes (128.0 MiB`);
    expect(msg).toContain('adapter acme / test');
    expect(msg).toMatch(/smaller batch \(batch_size, or unlabeled_ratio/);
    expect(msg).toContain('an adapter with a larger limit');
    expect(fake.created()).toBe(0);
    // Just under both limits: allocated.
    pool.tensor([1024, 32, 32, 32], 'f32', 'fits');
    expect(fake.created()).toBe(1);
  });

  it('checks maxBufferSize first and applies the tighter of device and given limits', () => {
    const fake = fakeDevice(64 * MiB, 128 * MiB);
    const pool = new MemoryPool(fake.device, { limits: { maxStorageBufferBindingSize: 1 * MiB, maxBufferSize: 512 * MiB } });
    expect(pool.limits).toEqual({ maxBufferSize: 64 * MiB, maxStorageBufferBindingSize: 1 * MiB });
    expect(() => pool.tensor([65 * MiB / 4], 'f32', 'x_joint')).toThrow(/tensor 'x_joint' \[17039360\] f32 needs 68157440 bytes .* maxBufferSize of 67108864 bytes/);
    expect(() => pool.tensor([MiB / 4 + 1], 'i32', 'y')).toThrow(/tensor 'y' \[262145\] i32 .* maxStorageBufferBindingSize of 1048576 bytes/);
    expect(fake.created()).toBe(0);
    expect(limitError('a', [2], 'f32', 8, 'maxBufferSize', 4).message).not.toContain('on adapter');
  });
});

describe('buffer limits (in the page)', () => {
  it('a device requested with default limits: a 129 MiB tensor fails at allocation with the binding limit named', async () => {
    const r = await inPage(async (d) => {
      const adapter = await navigator.gpu.requestAdapter();
      const dev = await adapter!.requestDevice(); // WebGPU's default limits
      const rt = new d.rt.constructor(dev, d.rt.info);
      try {
        const ok = rt.tensor([1024, 32, 32, 32], 'f32', 'fits'); // exactly 128 MiB
        let error = 'no error';
        try { rt.tensor([1032, 32, 32, 32], 'f32', 'online:block1.conv1 out'); } catch (e) { error = (e as Error).message; }
        return { binding: dev.limits.maxStorageBufferBindingSize, fits: ok.byteLength, error };
      } finally {
        rt.dispose();
        dev.destroy();
      }
    }) as { binding: number; fits: number; error: string };
    expect(r.binding).toBe(128 * MiB);
    expect(r.fits).toBe(128 * MiB);
    expect(r.error).toContain("tensor 'online:block1.conv1 out' [1032, 32, 32, 32] f32 needs 135266304 bytes");
    expect(r.error).toContain(`maxStorageBufferBindingSize of ${128 * MiB} bytes`);
    expect(r.error).toMatch(/on adapter google \/ swiftshader|on adapter \S+ \/ /);
  });

  it('a training step over a limit fails while it is built, naming the buffer, and submits nothing', async () => {
    const base = STEP_BENCH_CASES.find((c) => c.name === 'fmnist-fixmatch')!;
    const c = { ...base, name: 'fmnist-fixmatch-1mib', limits: { maxStorageBufferBindingSize: MiB } };
    const page = await harnessPage();
    const r = await page.evaluate(async (cs) => {
      const d = (window as unknown as { daso: { rt: { device: GPUDevice }; benchStep: (o: unknown) => Promise<{ ok: boolean; error?: string }> } }).daso;
      const q = d.rt.device.queue;
      const submit = q.submit;
      let submits = 0;
      q.submit = function (this: GPUQueue, ...a: Parameters<GPUQueue['submit']>) { submits++; return submit.apply(this, a); };
      try {
        const res = await d.benchStep({ case: cs, reps: 1 });
        return { res, submits };
      } finally { q.submit = submit; }
    }, c as never);
    expect(r.res.ok).toBe(false);
    // The joint batch is B + 2*Bu = 80 images; the first tensor over 1 MiB is an activation of the online encoder.
    expect(r.res.error).toMatch(/^tensor '[^']+' \[80, \d+, 28, 28\] f32 needs \d+ bytes \([\d.]+ MiB\), over this device's maxStorageBufferBindingSize of 1048576 bytes/);
    expect(r.res.error).toContain('smaller batch (batch_size, or unlabeled_ratio');
    expect(r.submits).toBe(0);
  });

  it('the same step within the limits builds (reps 0: build only, no step run)', async () => {
    const c = STEP_BENCH_CASES.find((x) => x.name === 'fmnist-fixmatch')!;
    const page = await harnessPage();
    const r = await page.evaluate(async (cs) => {
      const d = (window as unknown as { daso: { benchStep: (o: unknown) => Promise<{ ok: boolean; error?: string; row?: Record<string, unknown> }> } }).daso;
      const res = await d.benchStep({ case: cs, reps: 0 });
      return res.ok ? { ok: true, row: { dispatches: res.row!.dispatches, peak: res.row!.peakAllocatedBytes, buildOnly: res.row!.buildOnly, wall: res.row!.wallMs, gpu: res.row!.gpuMsSum } } : { ok: false, error: res.error };
    }, c as never);
    expect(r.ok, r.error).toBe(true);
    expect(r.row).toMatchObject({ buildOnly: true, wall: [], gpu: null });
    expect(r.row!.dispatches as number).toBeGreaterThan(100);
    expect(r.row!.peak as number).toBeGreaterThan(MiB);
  });
});

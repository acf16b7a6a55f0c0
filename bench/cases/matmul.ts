import { matmul, type MatmulVersion } from '../../src/kernels/matmul.js';
import { random, type BenchCase } from './util.js';

function mm(M: number, N: number, K: number, o: { transA?: boolean; transB?: boolean; bias?: boolean; version?: MatmulVersion } = {}): BenchCase {
  const v = o.version ?? 2;
  return {
    kernel: `matmul_forward.v${v}`,
    shape: `M=${M} N=${N} K=${K}${o.transA ? ' A^T' : ''}${o.transB ? ' B^T' : ''}${o.bias ? ' +bias' : ''}`,
    build(rt) {
      const a = random(rt, o.transA ? [K, M] : [M, K], 'a');
      const b = random(rt, o.transB ? [N, K] : [K, N], 'b');
      const bias = o.bias ? random(rt, [N], 'bias') : undefined;
      return [matmul(a, b, rt.tensor([M, N]), { transA: o.transA, transB: o.transB, bias, version: v })];
    },
  };
}

export const matmulCases: BenchCase[] = [
  // The probe: the best plain matmul on this adapter, the yardstick for the convolutions.
  mm(512, 512, 512, { version: 0 }),
  mm(512, 512, 512, { version: 1 }),
  mm(512, 512, 512),
  mm(512, 512, 512, { version: 3 }),
  mm(1024, 1024, 1024, { version: 3 }),
  // v4, workgroup-memory tiles for GPUs; on SwiftShader (a CPU) timed for the record only.
  mm(512, 512, 512, { version: 4 }),
  // WRN-28-2 classifier at batch 64 (features 128 -> 10 classes): forward, input gradient, weight gradient.
  mm(64, 10, 128, { transB: true, bias: true }),
  mm(64, 128, 10),
  mm(10, 128, 64, { transA: true }),
  // The same at batch 320 (DASO's joint forward of labeled + weak + strong).
  mm(320, 10, 128, { transB: true, bias: true }),
  // v4 on the same classifier shapes.
  mm(64, 10, 128, { transB: true, bias: true, version: 4 }),
  mm(64, 128, 10, { version: 4 }),
  mm(10, 128, 64, { transA: true, version: 4 }),
  mm(320, 10, 128, { transB: true, bias: true, version: 4 }),
];

// Fused SGD (PyTorch 1.13 semantics, Nesterov) and EMA over flat buffers: launchers of shaders/optim.wgsl.
// Hyper-parameters travel as uniforms so a recorded training step can CommandList.setUniforms(i, sgdUniforms(...))
// between replays; only the length N is an override constant.
import source from '../../shaders/optim.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';

/** PyTorch SGD(lr, momentum, weight_decay, nesterov), dampening 0. There is no first-step flag: PyTorch's first
 * step sets buf = clone(d), which equals m*0 + d bit for bit, so the caller ZERO-FILLS the momentum buffer instead
 * (verified against torch 1.13.1: parameters and buffers bitwise equal over 5 steps, nesterov on and off). */
export interface SgdOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

interface FlatParams {
  N: number;
}

const WG = 64;
// vec4 path when N % 4 == 0 (one vec4 per thread), scalar otherwise.
const v4 = (p: FlatParams) => p.N % 4 === 0;

const common = {
  source,
  constants: (p: FlatParams) => ({ N: v4(p) ? p.N / 4 : p.N, WG }),
  dispatch: (p: FlatParams) => grid1d(ceilDiv(v4(p) ? p.N / 4 : p.N, WG)),
};

export const sgdUpdateKernel: KernelDef<FlatParams & { o: SgdOptions }> = {
  ...common,
  name: 'sgd_update',
  entryPoint: (p) => (v4(p) ? 'sgd_v4' : 'sgd'),
  bindings: ['params', 'grads', 'momentumBuf', 'uniforms'],
  uniforms: (p) => sgdUniforms(p.o),
  flops: (p) => 8 * p.N,
  // Reads w, g, buf; writes w, buf.
  bytes: (p) => 20 * p.N,
};

export const emaUpdateKernel: KernelDef<FlatParams & { decay: number }> = {
  ...common,
  name: 'ema_update',
  entryPoint: (p) => (v4(p) ? 'ema_v4' : 'ema'),
  bindings: ['ema', 'x', 'uniforms'],
  uniforms: (p) => emaUniforms(p.decay),
  flops: (p) => 3 * p.N,
  // Reads ema, x; writes ema.
  bytes: (p) => 12 * p.N,
};

function checkNumber(kernel: string, arg: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${kernel}: option '${arg}' is ${v}, expected a finite number`);
}

/** The uniform block of sgd_update: { lr, momentum, weight_decay: f32, nesterov: u32 }. */
export function sgdUniforms(o: SgdOptions): ArrayBuffer {
  const k = 'sgd_update';
  checkNumber(k, 'lr', o.lr);
  checkNumber(k, 'momentum', o.momentum);
  checkNumber(k, 'weightDecay', o.weightDecay);
  const buf = new ArrayBuffer(16);
  new Float32Array(buf, 0, 3).set([o.lr, o.momentum, o.weightDecay]);
  new Uint32Array(buf, 12, 1)[0] = o.nesterov ? 1 : 0;
  return buf;
}

/** The uniform block of ema_update: { decay, 1 - decay } (1 - decay in double, as Python computes it). */
export function emaUniforms(decay: number): ArrayBuffer {
  checkNumber('ema_update', 'decay', decay);
  return new Float32Array([decay, 1 - decay, 0, 0]).buffer;
}

function checkFlat(kernel: string, args: [string, Tensor][]): number {
  const [name0, t0] = args[0];
  expectRank(kernel, name0, t0, 1, 'f32');
  for (const [name, t] of args.slice(1)) expectShape(kernel, name, t, t0.shape, 'f32');
  return t0.shape[0];
}

/** One SGD step in place on params and momentumBuf (flat [N] f32, same layout as grads). */
export function sgdUpdate(params: Tensor, grads: Tensor, momentumBuf: Tensor, o: SgdOptions): Dispatch {
  const N = checkFlat('sgd_update', [['params', params], ['grads', grads], ['momentumBuf', momentumBuf]]);
  return makeDispatch(sgdUpdateKernel, { N, o }, { params, grads, momentumBuf }, `N=${N}`);
}

/** ema = decay*ema + (1-decay)*x in place (flat [N] f32). DASO's decay is min(1 - 1/(t+1), 0.999) at step t. */
export function emaUpdate(ema: Tensor, x: Tensor, decay: number): Dispatch {
  const N = checkFlat('ema_update', [['ema', ema], ['x', x]]);
  return makeDispatch(emaUpdateKernel, { N, decay }, { ema, x }, `N=${N}`);
}

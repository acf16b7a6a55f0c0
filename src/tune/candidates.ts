// The rungs the autotuner may choose for each conv direction: one line per rung. A rung is a name (what the cache
// stores and the step prints) and the launcher options that select it; `applies` limits it to the shapes its kernel
// accepts (a rung that does not apply would silently run another one, so it is not offered there).
// Adding a rung to a kernel ladder = one line here (its name must be what rungOf() reads back from its dispatches:
// test/tune.test.ts checks that for every rung on ragged shapes).
import type { Dispatch } from '../gpu/kernel.js';
import {
  conv2dBackwardInputPacked, conv2dBackwardWeight, conv2dBackwardWeightRule, conv2dForwardPacked, conv2dOutputSize, rowVectorsApply, wgradVectorsApply,
} from '../kernels/conv2d.js';

export type ConvDirection = 'forward' | 'input' | 'weight';

/** A conv's shape as the tuner keys it (the batch N included: a rung's speed depends on it). */
export interface ConvShape {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  R: number;
  stride: number;
  pad: number;
}

type Opts<F extends (...a: never[]) => unknown> = Omit<NonNullable<Parameters<F>[4]>, 'stride' | 'pad' | 'beta' | 'dyT'>;
export type ForwardOpts = Opts<typeof conv2dForwardPacked>;
export type InputOpts = Opts<typeof conv2dBackwardInputPacked>;
export type WeightOpts = Opts<typeof conv2dBackwardWeight>;
export interface RungOpts { forward: ForwardOpts; input: InputOpts; weight: WeightOpts }

export interface Rung<D extends ConvDirection> {
  name: string;
  applies?: (s: ConvShape) => boolean;
  /** Workgroup-memory tile rungs: offered on hardware adapters only. On SwiftShader (a CPU) they measured 0.05-0.44x
   * of the rule on every WRN-28-2 shape (bench/README.md), and their 256-thread pipelines take seconds each to
   * compile, so there they would only spend the tuning budget. */
  gpuOnly?: boolean;
  opts: RungOpts[D];
}

const stride1 = (s: ConvShape) => s.stride === 1 && s.pad <= s.R - 1;
/** The input gradient of a stride-1 conv runs as a forward conv over dy with padding R-1-pad (conv2dBackwardInputPacked). */
const inputRowVectors = (s: ConvShape) => stride1(s) && rowVectorsApply({ R: s.R, stride: 1, pad: s.R - 1 - s.pad, W: s.W });
const slides = (s: ConvShape) => s.R === 3 && s.stride === 1;
const outW = (s: ConvShape) => conv2dOutputSize(s.H, s.W, s.R, s)[1];
/** The weight gradient's 4-pixel-vector rungs (v4; v5 is 3x3 only: its 1x1 runs v4's kernel, so it is not offered). */
const wgradVectors = (s: ConvShape) => wgradVectorsApply({ ...s, OW: outW(s) });

// (v3's '8x8' tile is v2's block: the ForwardTile type lists it, but the shader has no main_v3_8x8.)
export const RUNGS: { [D in ConvDirection]: Rung<D>[] } = {
  forward: [
    { name: 'v2', opts: { version: 2 } },
    { name: 'v3 16x8', opts: { version: 3, tile: '16x8' } },
    { name: 'v3 8x16', opts: { version: 3, tile: '8x16' } },
    { name: 'v4 8x16', applies: rowVectorsApply, opts: { version: 4, rowTile: '8x16' } },
    { name: 'v4 16x16', applies: rowVectorsApply, opts: { version: 4, rowTile: '16x16' } },
    // Workgroup-memory tiles (conv2d-tiled.ts): for GPUs; 0.05-0.44x of v3/v4 on SwiftShader (bench/README.md).
    { name: 'v5', gpuOnly: true, opts: { version: 5 } },
  ],
  input: [
    { name: 'v2', opts: { version: 2 } },
    { name: 'v3 16x8', applies: stride1, opts: { version: 3, tile: '16x8' } },
    { name: 'v3 8x16', applies: stride1, opts: { version: 3, tile: '8x16' } },
    { name: 'v4 8x16', applies: inputRowVectors, opts: { version: 4, rowTile: '8x16' } },
    { name: 'v4 16x16', applies: inputRowVectors, opts: { version: 4, rowTile: '16x16' } },
    { name: 'v5', applies: stride1, gpuOnly: true, opts: { version: 5 } },
  ],
  weight: [
    { name: 'v1', opts: { version: 1 } },
    { name: 'v2', opts: { version: 2 } },
    { name: 'v2 noslide', applies: slides, opts: { version: 2, slide: false } },
    { name: 'v3', opts: { version: 3 } },
    { name: 'v3 noslide', applies: slides, opts: { version: 3, slide: false } },
    { name: 'v4', applies: wgradVectors, opts: { version: 4 } },
    { name: 'v5', applies: (s) => s.R === 3 && wgradVectors(s), opts: { version: 5 } },
  ],
};

/** The launcher options of the fixed rule (what the graph op passes on a miss): the launchers' defaults, and for the
 * weight gradient conv2dBackwardWeightRule's rung made explicit (the graph op allocates a transposed dy for v3 only). */
export function ruleOpts<D extends ConvDirection>(dir: D, s: ConvShape): RungOpts[D] {
  if (dir !== 'weight') return {} as RungOpts[D];
  return { version: conv2dBackwardWeightRule({ R: s.R, stride: s.stride, pad: s.pad, W: s.W, OW: outW(s) }) } as RungOpts[D];
}

/** The rungs offered for one conv (`hardware: false`, a fallback adapter: without the gpuOnly rungs). */
export function rungsFor<D extends ConvDirection>(dir: D, s: ConvShape, o: { hardware?: boolean } = {}): Rung<D>[] {
  return (RUNGS[dir] as Rung<D>[]).filter((r) => (!r.applies || r.applies(s)) && !(r.gpuOnly && o.hardware === false));
}

export function findRung<D extends ConvDirection>(dir: D, s: ConvShape, name: string): Rung<D> | undefined {
  return rungsFor(dir, s).find((r) => r.name === name);
}

/** The cache and choices key: direction and N,C,H,W,K,R,stride,pad. */
export function convKey(dir: ConvDirection, s: ConvShape): string {
  return `${dir}:${s.N},${s.C},${s.H},${s.W},${s.K},${s.R},${s.stride},${s.pad}`;
}

export function parseConvKey(key: string): { dir: ConvDirection; shape: ConvShape } | null {
  const m = /^(forward|input|weight):(\d+),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)$/.exec(key);
  if (!m) return null;
  const [N, C, H, W, K, R, stride, pad] = m.slice(2).map(Number);
  return { dir: m[1] as ConvDirection, shape: { N, C, H, W, K, R, stride, pad } };
}

const CONV_KERNEL: Record<ConvDirection, string> = { forward: 'conv2d_forward', input: 'conv2d_backward_input', weight: 'conv2d_backward_weight' };

/** The rung a launcher's dispatches run, read from the conv dispatch's entry point (main_v4_8x16 -> 'v4 8x16',
 * main_backward_weight_v3 -> 'v3', main / main_backward_* -> 'v1'); a weight gradient of a 3x3 stride-1 conv run
 * without the sliding window adds ' noslide'. This is what the step prints, so it says what was recorded. */
export function rungOf(dir: ConvDirection, ds: readonly Dispatch[]): string {
  const d = ds.find((x) => x.name === CONV_KERNEL[dir]);
  if (!d) throw new Error(`rungOf: no ${CONV_KERNEL[dir]} dispatch among ${ds.map((x) => x.name).join(', ')}`);
  const m = /_v(\d+)(?:_(\w+))?$/.exec(d.entryPoint);
  let name = m ? `v${m[1]}${m[2] ? ` ${m[2]}` : ''}` : 'v1';
  if (dir === 'weight' && d.constants.ROWS === 0 && d.constants.R === 3 && d.constants.STRIDE === 1) name += ' noslide';
  return name;
}

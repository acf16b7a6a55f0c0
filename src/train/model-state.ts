// The whole trainable state on the GPU: online model, EMA model, flat gradients and momentum, the step counter.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { FlatLayout } from '../nn/flat.js';
import { WrnState } from '../nn/wrn.js';
import { wrnSpec, type WrnConfig, type WrnSpec } from '../nn/wrn-spec.js';
import { rngFromSeed, normal } from './random.js';

export class TrainState {
  readonly spec: WrnSpec;
  readonly paramLayout: FlatLayout;
  readonly bufferLayout: FlatLayout;
  readonly model: WrnState;
  readonly ema: WrnState;
  readonly grads: Tensor;
  readonly momentum: Tensor;
  /** Index of the next step (t in the EMA decay min(1 - 1/(t+1), rho)). */
  step = 0;

  constructor(readonly rt: Runtime, config: WrnConfig) {
    this.spec = wrnSpec(config);
    const l = WrnState.layouts(this.spec);
    this.paramLayout = l.params;
    this.bufferLayout = l.buffers;
    this.model = new WrnState(rt, this.spec, l.params, l.buffers, 'model');
    this.ema = new WrnState(rt, this.spec, l.params, l.buffers, 'ema');
    this.grads = rt.tensor([l.params.total], 'f32', 'grads');
    this.momentum = rt.tensor([l.params.total], 'f32', 'momentum');
  }

  /** PyTorch's initialisation (kaiming-normal fan_out convs, BN 1/0, xavier-normal classifier, zero bias) from a
   * seeded generator; the EMA starts as an exact copy, momentum at zero (PyTorch's first step sets buf = d, which
   * equals 0.9*0 + d). Running stats: mean 0, var 1. */
  initialise(seed: number): void {
    const rnd = rngFromSeed(seed);
    const params = this.paramLayout.pack((e) => {
      const spec = this.spec.params.find((p) => p.name === e.name)!;
      const n = e.size;
      switch (spec.kind) {
        case 'conv': {
          const [cout, , r] = spec.shape;
          return normal(rnd, n, Math.sqrt(2 / (cout * r * r)));
        }
        case 'linear_weight': {
          const [fo, fi] = spec.shape;
          return normal(rnd, n, Math.sqrt(2 / (fi + fo)));
        }
        case 'bn_weight':
          return new Float32Array(n).fill(1);
        default:
          return new Float32Array(n);
      }
    });
    const buffers = this.bufferLayout.pack((e) => new Float32Array(e.size).fill(e.name.endsWith('running_var') ? 1 : 0));
    this.rt.pool.write(this.model.params, params);
    this.rt.pool.write(this.ema.params, params);
    this.rt.pool.write(this.model.buffers, buffers);
    this.rt.pool.write(this.ema.buffers, buffers);
    this.rt.pool.write(this.momentum, new Float32Array(this.paramLayout.total));
    this.rt.pool.write(this.grads, new Float32Array(this.paramLayout.total));
    this.model.numBatchesTracked = 0;
    this.ema.numBatchesTracked = 0;
    this.step = 0;
  }

  dispose(): void {
    this.model.dispose();
    this.ema.dispose();
    this.grads.release();
    this.momentum.release();
  }
}

// Plain-TypeScript references for sgd_update and ema_update (float64, in place), written as PyTorch 1.13 does it
// (torch/optim/sgd.py with a zero-initialised buffer; lib/models/ema_model.py of the official DASO code).
import type { SgdOptions } from './optim.js';

export function sgdRef(w: Float64Array, g: ArrayLike<number>, buf: Float64Array, o: SgdOptions): void {
  for (let i = 0; i < w.length; i++) {
    const d = g[i] + o.weightDecay * w[i];
    buf[i] = o.momentum * buf[i] + d;
    w[i] -= o.lr * (o.nesterov ? d + o.momentum * buf[i] : buf[i]);
  }
}

export function emaRef(ema: Float64Array, x: ArrayLike<number>, decay: number): void {
  for (let i = 0; i < ema.length; i++) ema[i] = decay * ema[i] + (1 - decay) * x[i];
}

import { dasoPseudoLabel, type PseudoLabelSwitches } from '../../kernels/daso.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

export const dasoOps: Record<string, OpFn> = {
  async daso_pseudo_label(rt, p: { BU: number; K: number; switches: PseudoLabelSwitches }, inp) {
    const logitsW = input(rt, inp, 'logitsW', [p.BU, p.K]);
    const simW = input(rt, inp, 'simW', [p.BU, p.K]);
    const plHist = input(rt, inp, 'plHist', [p.K], 'i32');
    const out = {
      qHat: rt.tensor([p.BU, p.K], 'f32', 'qHat'),
      pseudoLabel: rt.tensor([p.BU], 'i32', 'pseudoLabel'),
      mask: rt.tensor([p.BU], 'f32', 'mask'),
      blendWeight: rt.tensor([p.BU], 'f32', 'blendWeight'),
      confidence: rt.tensor([p.BU], 'f32', 'confidence'),
    };
    await rt.run(dasoPseudoLabel(logitsW, simW, plHist, out, p.switches));
    const r = await readAll(rt, out);
    releaseAll(logitsW, simW, plHist, ...Object.values(out));
    return r;
  },
};

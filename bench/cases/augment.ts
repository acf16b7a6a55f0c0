// GPU augmentation of a DASO batch at CIFAR shapes: the dataset stays on the GPU (packed uint8), the plan is drawn
// on the CPU (not timed here). images/s = B / ms * 1000 (B is the first number of the shape string).
import { augmentBatch, CIFAR10_NORM, packU8ToU32 } from '../../src/kernels/augment.js';
import { drawAugmentPlan, PLAN_STRIDE } from '../../src/data/augment-plan.js';
import type { BenchCase } from './util.js';

const DATASET = 1000;

function aug(B: number, strong: boolean): BenchCase {
  return {
    kernel: strong ? 'augment_strong' : 'augment_weak',
    shape: `B=${B} images 3x32x32 ${strong ? 'strong (flip+crop+RandAugment+Cutout)' : 'weak (flip+crop)'}`,
    build(rt) {
      let s = 987654321;
      const rnd = (): number => {
        s = (s * 1103515245 + 12345) >>> 0;
        return s / 4294967296;
      };
      const bytes = new Uint8Array(DATASET * 3 * 32 * 32);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
      const packed = packU8ToU32(bytes);
      const images = rt.upload(packed, [packed.length], 'u32', 'images');
      const indices = Int32Array.from({ length: B }, () => Math.floor(rnd() * DATASET));
      const plan = rt.upload(drawAugmentPlan(rnd, indices, { strong, size: 32, channels: 3 }), [B, PLAN_STRIDE], 'i32', 'plan');
      const out = rt.tensor([B, 3, 32, 32], 'f32', 'augmented');
      return augmentBatch(images, plan, out, { n: DATASET, channels: 3, size: 32, strong, norm: CIFAR10_NORM });
    },
  };
}

export const augmentCases: BenchCase[] = [aug(320, true), aug(320, false), aug(128, true), aug(128, false)];

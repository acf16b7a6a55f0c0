// Feeds a recorded step: the training images live on the GPU once (packed uint8); each step the CPU draws the
// sampler indices and the augmentation plans (small i32 records) from seeded generators and writes them with the
// labels; the step's first dispatches turn them into the normalised labeled-weak, unlabeled-weak and
// unlabeled-strong batches on the GPU (no round trip). Sampler and generator states go into checkpoints.
import type { Dispatch } from '../gpu/kernel.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { drawAugmentPlan, PLAN_STRIDE } from '../data/augment-plan.js';
import type { ImageDataset } from '../data/dataset.js';
import { deriveSeed, Rng, type RngState } from '../data/rng.js';
import { EpochSampler, type EpochSamplerState } from '../data/sampler.js';
import { augmentBatch, packU8ToU32, type Normalisation } from '../kernels/augment.js';
import type { StepTensors } from '../ssl/ssl-step.js';

export interface FeedState {
  labeled: EpochSamplerState;
  unlabeled: EpochSamplerState | null;
  augment: RngState;
}

export class DataFeed {
  readonly images: Tensor;
  readonly planLb: Tensor;
  readonly planUw: Tensor | null;
  readonly planUs: Tensor | null;
  private samplerL: EpochSampler;
  private samplerU: EpochSampler | null;
  private rng: Rng;
  /** True labels of the unlabeled batch of the last step (for pseudo-label precision/recall only; never trained on). */
  lastUnlabeledLabels: Int32Array = new Int32Array(0);

  constructor(readonly rt: Runtime, readonly train: ImageDataset, labeled: Int32Array, unlabeled: Int32Array | null,
    readonly B: number, readonly Bu: number, seed: number, readonly norm: Normalisation) {
    if (train.height !== train.width) throw new Error(`${train.name}: images are ${train.height}x${train.width}; only square images are supported`);
    this.images = rt.upload(packU8ToU32(train.images), [Math.ceil(train.images.length / 4)], 'u32', `${train.name} images`);
    this.planLb = rt.tensor([B, PLAN_STRIDE], 'i32', 'plan_lb');
    this.planUw = unlabeled ? rt.tensor([Bu, PLAN_STRIDE], 'i32', 'plan_ulb_w') : null;
    this.planUs = unlabeled ? rt.tensor([Bu, PLAN_STRIDE], 'i32', 'plan_ulb_s') : null;
    this.samplerL = new EpochSampler(labeled, B, deriveSeed(seed, 'sampler/labeled'));
    this.samplerU = unlabeled ? new EpochSampler(unlabeled, Bu, deriveSeed(seed, 'sampler/unlabeled')) : null;
    this.rng = new Rng(deriveSeed(seed, 'augment'));
  }

  /** The augmentation dispatches that start every step (weak labeled; weak and strong unlabeled). */
  prelude(io: StepTensors): Dispatch[] {
    const t = this.train;
    const o = { n: t.n, channels: t.channels, size: t.width, norm: this.norm };
    const ds = augmentBatch(this.images, this.planLb, io.xLb, { ...o, strong: false });
    if (this.planUw && io.xUw && io.xUs) {
      ds.push(...augmentBatch(this.images, this.planUw, io.xUw, { ...o, strong: false }), ...augmentBatch(this.images, this.planUs!, io.xUs, { ...o, strong: true }));
    }
    return ds;
  }

  /** Draws the next step's indices and plans and writes them (with the labels) for the next submit; `truth`: where the
   * unlabeled images' true labels go for the statistics (omitted when they are unknown). */
  next(io: StepTensors, truth?: Tensor): void {
    const t = this.train;
    const rnd = () => this.rng.nextFloat();
    const opts = { size: t.width, channels: t.channels };
    const il = this.samplerL.next();
    this.rt.pool.write(this.planLb, drawAugmentPlan(rnd, il, { ...opts, strong: false }));
    this.rt.pool.write(io.yLb, Int32Array.from(il, (i) => t.labels[i]));
    if (this.samplerU) {
      const iu = this.samplerU.next();
      this.rt.pool.write(this.planUw!, drawAugmentPlan(rnd, iu, { ...opts, strong: false }));
      this.rt.pool.write(this.planUs!, drawAugmentPlan(rnd, iu, { ...opts, strong: true }));
      this.lastUnlabeledLabels = Int32Array.from(iu, (i) => t.labels[i]);
      // For the pseudo-label statistics kernel only (PlCounter.truth); no training kernel binds it.
      if (truth) this.rt.pool.write(truth, this.lastUnlabeledLabels);
    }
  }

  getState(): FeedState {
    return { labeled: this.samplerL.getState(), unlabeled: this.samplerU?.getState() ?? null, augment: this.rng.getState() };
  }

  setState(s: FeedState): void {
    this.samplerL.setState(s.labeled);
    if (this.samplerU && s.unlabeled) this.samplerU.setState(s.unlabeled);
    this.rng.setState(s.augment);
  }

  dispose(): void {
    for (const x of [this.images, this.planLb, this.planUw, this.planUs]) x?.release();
  }
}

// The GPUDevice under a trainer: whether it is usable now (not destroyed, not lost), and GPU waits that end with a
// clear error when it goes away instead of hanging. Device loss is only reported asynchronously (device.lost), so
// the guard listens from the start and a trainer checks it before each call.
import { acquireGpu, type AdapterReport } from '../gpu/device.js';

export class DeviceGuard {
  /** Why the device is gone, once it is. */
  lostReason: string | null = null;
  private readonly lostPromise: Promise<never>;

  private constructor(readonly device: GPUDevice, readonly owned: boolean, readonly info?: AdapterReport) {
    this.lostPromise = device.lost.then((info) => {
      this.lostReason = info.reason === 'destroyed' ? 'it was destroyed (device.destroy())' : `it was lost (${info.reason}: ${info.message})`;
      throw new Error(this.message());
    });
    // Nobody may be waiting on it: an unobserved rejection must not reach the console as an error.
    this.lostPromise.catch(() => undefined);
  }

  /** The caller's device (checked), or one acquired here (then destroyed by `release`). */
  static async create(device: GPUDevice | undefined): Promise<DeviceGuard> {
    if (device === undefined) {
      const ctx = await acquireGpu();
      return new DeviceGuard(ctx.device, true, ctx.info);
    }
    const d = device as Partial<GPUDevice> | null;
    if (typeof d !== 'object' || d === null || typeof d.createBuffer !== 'function' || !(d.lost instanceof Promise) || !d.queue) {
      throw new Error(`createTrainer: options.device is not a GPUDevice (got ${Object.prototype.toString.call(device)}); pass the device from ` +
        `adapter.requestDevice(), or leave it out and the library acquires one`);
    }
    const g = new DeviceGuard(device, false);
    // device.lost of a device destroyed earlier resolves on a later task, not at once: give it one task to show.
    await new Promise((ok) => setTimeout(ok, 0));
    g.check('createTrainer');
    return g;
  }

  message(): string {
    return `the GPUDevice is not usable: ${this.lostReason}. Create a new trainer with a new device (or without one: the library ` +
      `acquires it)`;
  }

  check(call: string): void {
    if (this.lostReason !== null) throw new Error(`${call}: ${this.message()}`);
  }

  /** `p`, or a clear error as soon as the device goes away (its own later failure is then ignored). */
  race<T>(p: Promise<T>, call: string): Promise<T> {
    p.catch(() => undefined);
    return Promise.race([p, this.lostPromise]).catch((e: Error) => {
      throw this.lostReason !== null ? new Error(`${call}: ${this.message()}`) : e;
    });
  }

  release(): void {
    if (this.owned) this.device.destroy();
  }
}

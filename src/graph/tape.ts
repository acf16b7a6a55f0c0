// Autograd-lite: a reverse-mode tape over GPU tensors with static shapes.
//
// Because every shape is known when the step is built, "running" the tape happens once, at build time: each op
// appends its forward dispatches and pushes a closure that, when backward() walks the tape in reverse, appends the
// dispatches of its gradient. The result is two dispatch lists that a CommandList compiles once and replays every
// step with one submission — no per-step JavaScript graph work, no per-op readback.
//
// Gradients accumulate where a value is used twice (the residual shortcut): the first contribution writes the
// gradient buffer, later ones add into it (directly through a kernel's beta=1 epilogue when it has one, else through
// a temporary and axpy). Stop-gradient is explicit: a Var made with `constant()` or `detach()` never gets a gradient.
//
// Memory: buffers are allocated from the runtime's pool while the step is built and released back to it as soon as
// the recorded order no longer needs them (a gradient once its op's backward has consumed it). Dispatches in one
// compute pass execute in order, so a released buffer is safely reused by a later dispatch of the same list: this is
// liveness planning by construction, done once; GPU memory is flat from the first replay on.
import { axpy, fill } from '../kernels/elementwise.js';
import type { Dispatch } from '../gpu/kernel.js';
import type { Runtime } from '../gpu/runtime.js';
import type { DType, Tensor } from '../gpu/tensor.js';

export class Var {
  /** The gradient buffer; allocated on first use in backward (params: a view into the flat gradient buffer). */
  grad: Tensor | null = null;
  /** True once some backward contribution has written `grad` in the recorded order. */
  gradWritten = false;
  constructor(readonly t: Tensor, readonly requiresGrad: boolean, readonly name: string) {}
  get shape(): readonly number[] {
    return this.t.shape;
  }
}

/** Produces a gradient contribution into `out`. With `accumulate` true the kernel must add to `out` (its beta=1
 * epilogue); it is only asked to when the op declared it can. */
export type GradWriter = (out: Tensor, accumulate: boolean) => Dispatch[];

export class Tape {
  readonly forward: Dispatch[] = [];
  readonly backwardList: Dispatch[] = [];
  private backwardFns: (() => void)[] = [];
  /** Tensors the tape allocated (activations, scratch); released by dispose(). */
  private owned: Tensor[] = [];
  private done = false;

  constructor(readonly rt: Runtime, readonly label = 'tape') {}

  /** A tensor owned by the tape for the whole step (activations kept for backward, scratch). */
  alloc(shape: readonly number[], label: string, dtype: DType = 'f32'): Tensor {
    const t = this.rt.tensor(shape, dtype, label);
    this.owned.push(t);
    return t;
  }

  constant(t: Tensor, name = t.label): Var {
    return new Var(t, false, name);
  }

  /** A leaf that receives a gradient into `grad` (a view into the flat gradient buffer for parameters). */
  leaf(t: Tensor, grad: Tensor | null, name = t.label): Var {
    const v = new Var(t, true, name);
    v.grad = grad;
    return v;
  }

  /** A Var over an existing tensor (a view), requiring grad as its source does. */
  leafView(t: Tensor, requiresGrad: boolean, name: string): Var {
    return new Var(t, requiresGrad, name);
  }

  detach(v: Var): Var {
    return new Var(v.t, false, `${v.name}.detach`);
  }

  /** A new op output; requires grad if any input does. */
  output(shape: readonly number[], label: string, inputs: Var[]): Var {
    return new Var(this.alloc(shape, label), inputs.some((i) => i.requiresGrad), label);
  }

  record(forward: Dispatch[], backward?: () => void): void {
    if (this.done) throw new Error(`${this.label}: cannot record after backward()`);
    this.forward.push(...forward);
    if (backward) this.backwardFns.push(backward);
  }

  /** Inside a backward closure: emit dispatches. */
  emit(...ds: Dispatch[]): void {
    this.backwardList.push(...ds);
  }

  /** Inside a backward closure: add a gradient contribution to `v` (no-op when v needs no gradient).
   * `canAccumulate`: the writer's kernel can add into an existing gradient (matmul/conv beta=1). */
  accumulate(v: Var, write: GradWriter, canAccumulate = false): void {
    if (!v.requiresGrad) return;
    if (!v.grad) v.grad = this.rt.tensor(v.shape, 'f32', `d(${v.name})`);
    if (!v.gradWritten) {
      this.emit(...write(v.grad, false));
      v.gradWritten = true;
    } else if (canAccumulate) {
      this.emit(...write(v.grad, true));
    } else {
      // The kernel cannot add in place: write into a temporary, add it, give the temporary back.
      const tmp = this.rt.tensor(v.shape, 'f32', `d(${v.name}).part`);
      this.emit(...write(tmp, false), axpy(tmp, v.grad, 1));
      tmp.release();
    }
  }

  /** Gradient of `v` for a backward closure to read, or null when nothing flowed into it (its grad is zero). */
  gradOf(v: Var): Tensor | null {
    return v.gradWritten ? v.grad : null;
  }

  /** The gradient of an intermediate has been consumed by its producer: its buffer can be reused. */
  releaseGrad(v: Var, isLeaf = false): void {
    if (!isLeaf && v.grad) v.grad.release();
  }

  /** Seeds d(loss)/d(seed) by the caller having written seed.grad (e.g. the fused CE kernel's dlogits), then walks
   * the tape in reverse. Leaves whose gradient nothing wrote get a zero fill so a replayed step never reads stale values. */
  backward(leaves: Var[] = []): Dispatch[] {
    if (this.done) throw new Error(`${this.label}: backward() called twice`);
    this.done = true;
    for (let i = this.backwardFns.length - 1; i >= 0; i--) this.backwardFns[i]();
    for (const l of leaves) {
      if (l.requiresGrad && l.grad && !l.gradWritten) {
        this.emit(fill(l.grad, 0));
        l.gradWritten = true;
      }
    }
    return this.backwardList;
  }

  dispose(): void {
    for (const t of this.owned) t.release();
    this.owned = [];
  }
}

// Checkpoints as safetensors with PyTorch state_dict names, so `model.` and `ema.` load into the official model
// with strict load_state_dict and back:
//   model.<name>, ema.<name>        F32 parameters and BN running stats; <bn>.num_batches_tracked I64 []
//   optim.momentum.<param name>     F32 (Nesterov momentum buffers)
//   step                            I64 [] (index of the next step)
import type { StTensor, TensorSpec } from '../nn/safetensors.js';
import { validateTensors } from '../nn/safetensors.js';
import { modelCheckpointSpec } from './checkpoint-check.js';
import type { WrnState } from '../nn/wrn.js';
import type { TrainState } from './model-state.js';

const NBT = 'num_batches_tracked';

export function checkpointSpec(st: TrainState): Record<string, TensorSpec> {
  return modelCheckpointSpec(st.spec);
}

function scalar(t: StTensor): number {
  const v = t.data[0];
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Validates every name, shape and dtype (errors name the tensor) and uploads the state. `extraPrefixes` lets a
 * file carry other sections (e.g. `daso.` state) that the caller reads itself. */
export function loadCheckpoint(st: TrainState, tensors: Record<string, StTensor>, what: string, extraPrefixes: string[] = []): void {
  validateTensors(tensors, checkpointSpec(st), what, { allowExtraPrefixes: extraPrefixes });
  const f32 = (name: string) => tensors[name].data as Float32Array;
  const load = (m: WrnState, prefix: string) => {
    st.rt.pool.write(m.params, st.paramLayout.pack((e) => f32(`${prefix}.${e.name}`)));
    st.rt.pool.write(m.buffers, st.bufferLayout.pack((e) => f32(`${prefix}.${e.name}`)));
    const counts = st.spec.bnNames.map((bn) => scalar(tensors[`${prefix}.${bn}.${NBT}`]));
    m.numBatchesTracked = counts[0];
  };
  load(st.model, 'model');
  load(st.ema, 'ema');
  st.rt.pool.write(st.momentum, st.paramLayout.pack((e) => f32(`optim.momentum.${e.name}`)));
  st.step = scalar(tensors.step);
  if (!Number.isInteger(st.step) || st.step < 0) throw new Error(`${what}: tensor 'step' = ${st.step} is not a step index`);
}

export async function exportCheckpoint(st: TrainState): Promise<Record<string, StTensor>> {
  const out: Record<string, StTensor> = { step: { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(st.step)) } };
  const save = async (m: WrnState, prefix: string) => {
    const params = await st.rt.read(m.params);
    const buffers = await st.rt.read(m.buffers);
    for (const e of st.paramLayout.entries) out[`${prefix}.${e.name}`] = { dtype: 'F32', shape: e.shape, data: st.paramLayout.unpack(params, e.name) };
    for (const e of st.bufferLayout.entries) out[`${prefix}.${e.name}`] = { dtype: 'F32', shape: e.shape, data: st.bufferLayout.unpack(buffers, e.name) };
    // The EMA's count is a blend (fractional); PyTorch's strict load takes an integer, so it is rounded.
    for (const bn of st.spec.bnNames) {
      out[`${prefix}.${bn}.${NBT}`] = { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(Math.round(m.numBatchesTracked))) };
    }
  };
  await save(st.model, 'model');
  await save(st.ema, 'ema');
  const mom = await st.rt.read(st.momentum);
  for (const e of st.paramLayout.entries) out[`optim.momentum.${e.name}`] = { dtype: 'F32', shape: e.shape, data: st.paramLayout.unpack(mom, e.name) };
  return out;
}

/** Gradients (before weight decay) by parameter name, for `daso step` outputs. */
export async function exportGrads(st: TrainState): Promise<Record<string, StTensor>> {
  const g = await st.rt.read(st.grads);
  const out: Record<string, StTensor> = {};
  for (const e of st.paramLayout.entries) out[`grad.${e.name}`] = { dtype: 'F32', shape: e.shape, data: st.paramLayout.unpack(g, e.name) };
  return out;
}

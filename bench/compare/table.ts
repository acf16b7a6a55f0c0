// The markdown table of `daso bench-compare` (pure: used by the CLI for stdout and the .md file).
import type { CompareRow } from './types.js';

const f = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const range = (lo: number | null, hi: number | null, d = 2) => (lo === null || hi === null ? '' : ` (${f(lo, d)}..${f(hi, d)})`);
const sci = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toExponential(1));
const gflop = (x: number) => (x >= 1e8 ? (x / 1e9).toFixed(2) : (x / 1e9).toPrecision(2));

export function compareTable(rows: CompareRow[]): string {
  const head = '| op | shape | GFLOP | ours GPU ms | ours wall ms (min..max) | tfjs wall ms (min..max) | tfjs GPU ms | ours GFLOP/s | tfjs GFLOP/s | tfjs/ours (wall) | max abs err (max abs ref) | status |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  return [head, ...rows.map((r) => {
    const status = r.status === 'ok' ? 'ok' : r.status === 'mismatch' ? '**mismatch**'
      : `**${r.status}**: ${((r.status === 'ours error' ? r.ours.error : r.tfjs.error) ?? '').replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 160)}`;
    return `| ${r.op} | ${r.shape} | ${gflop(r.flops)} | ${f(r.ours.gpuMsMedian)} | ${f(r.ours.wallMsMedian)}${range(r.ours.wallMsMin, r.ours.wallMsMax)} | ` +
      `${f(r.tfjs.wallMsMedian)}${range(r.tfjs.wallMsMin, r.tfjs.wallMsMax)} | ${f(r.tfjs.gpuMsMedian)} | ${f(r.oursGflops, 3)} | ${f(r.tfjsGflops, 3)} | ` +
      `${f(r.ratio)} | ${sci(r.maxAbsErr)} (${sci(r.maxAbsRef)}) | ${status} |`;
  })].join('\n');
}

export const COMPARE_NOTE =
  'Same page, same browser: ours on our GPUDevice, tfjs-backend-webgpu on the device it requests itself from the same ' +
  'navigator.gpu (same adapter). Each case: the outputs are compared first (same seeded inputs; ours NCHW and ' +
  '[K,C,R,R] filters, tfjs NHWC and [R,R,C,K], transposed on the CPU; tfjs is the reference; tolerance ' +
  '1e-3 * max|ref| + 1e-4), then one warm-up each and `reps` timed runs in alternating order (ours, tfjs, ours, ' +
  'tfjs...); medians, (min..max). Ours wall: one submit -> queue.onSubmittedWorkDone(); ours GPU: CommandList.timed() ' +
  '(timestamp queries, one pass per dispatch, summed). tfjs wall: the tfjs calls + flush of tfjs\'s command encoder ' +
  '(backend.submitQueue()) + onSubmittedWorkDone() on tfjs\'s device; tfjs GPU: tf.time() kernelMs (timestamp ' +
  'queries per program). GFLOP/s and the ratio use wall time for both. WEBGPU_CPU_FORWARD is off so small ops run on ' +
  'tfjs\'s GPU kernels too. On SwiftShader the "GPU" is the CPU.';

/** The evidence that tfjs's timed wait covers its work: the readback right after the wait is short next to the wall
 * time, and an end-to-end run waited with data() takes about as long as the wall time. */
export function completionSummary(rows: CompareRow[]): string {
  const op = rows.filter((r) => r.kind !== 'step' && r.tfjs.wallMsMedian && r.tfjs.readbackAfterDoneMs.length);
  if (!op.length) return 'tfjs completion check: no op row with tfjs times.';
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rb = op.map((r) => med(r.tfjs.readbackAfterDoneMs));
  const share = op.map((r, i) => rb[i] / r.tfjs.wallMsMedian!);
  const dw = op.filter((r) => r.tfjs.dataWallMs !== null).map((r) => r.tfjs.dataWallMs! / r.tfjs.wallMsMedian!);
  return `tfjs completion check (${op.length} op rows): a readback right after flush + onSubmittedWorkDone() took ` +
    `${Math.min(...rb).toFixed(1)}..${Math.max(...rb).toFixed(1)} ms, ${(100 * Math.max(...share)).toFixed(0)}% of that row's tfjs wall time at most ` +
    `(if the wait had returned early it would be about the whole op); one run waited with \`await t.data()\` instead took ` +
    `${dw.length ? `${Math.min(...dw).toFixed(2)}..${Math.max(...dw).toFixed(2)}x` : '-'} the median tfjs wall time.`;
}

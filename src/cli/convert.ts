// `daso convert`: official DASO checkpoints (ytaek-oh/daso, torch.save pickles) <-> daso-webgpu safetensors
// checkpoints. The work is done by scripts/convert_official.py under Debian's PyTorch (/usr/bin/python3): reading a
// .pth needs PyTorch's unpickler, and the layout checks use the model definition of scripts/torch_reference.py, so
// there is one definition of the official model, not a second one in TypeScript.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CONVERT_USAGE = `convert to-project OFFICIAL.pth OUT.safetensors --config C.json [--daso-from IMAGES.safetensors] [--trust-pickle]
       convert to-official IN.safetensors OUT.pth [--config C.json]
      official DASO checkpoint (ytaek-oh/daso) <-> daso-webgpu checkpoint, with Debian's python3-torch. to-project needs
      the run's step config (its model must match the file). The official file has no DASO state: the result is marked
      daso_state=absent and refused for algorithm 'daso', unless --daso-from rebuilds it from images (x_lb, y_lb,
      x_ulb_w as in a step batch file): queues from the EMA's features, pl_hist from the EMA's predictions. .pth files
      are pickles: one holding anything but tensors and plain values is refused unless --trust-pickle (only for files
      you trust). to-official drops daso.* and takes the optimizer settings from --config, else from the file`;

/** The interpreter with Debian's PyTorch; DASO_PYTHON overrides it (tests point it at an interpreter without torch). */
export function pythonPath(): string {
  return process.env.DASO_PYTHON || '/usr/bin/python3';
}

export interface ConvertOptions {
  direction: 'to-project' | 'to-official';
  input: string;
  out: string;
  config?: string;
  trustPickle?: boolean;
  /** Images to rebuild the DASO state from (to-project only). */
  dasoFrom?: string;
}

/** `convert DIRECTION IN OUT [--config C] [--trust-pickle]` (positionals first, then flags, in any order). */
export function parseConvertArgs(args: string[]): ConvertOptions {
  const pos: string[] = [];
  let config: string | undefined;
  let trustPickle = false;
  let dasoFrom: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--config' || a === '--daso-from') {
      if (args[i + 1] === undefined) throw new Error(`flag '${a}' needs a value`);
      if (a === '--config') config = args[++i];
      else dasoFrom = args[++i];
    } else if (a === '--trust-pickle') trustPickle = true;
    else if (a.startsWith('--')) throw new Error(`unknown flag '${a}' (known: --config, --daso-from, --trust-pickle)\nusage: daso ${CONVERT_USAGE}`);
    else pos.push(a);
  }
  const [direction, input, out, ...more] = pos;
  if (direction !== 'to-project' && direction !== 'to-official') {
    throw new Error(`convert: the first argument must be 'to-project' or 'to-official'${direction ? `, got '${direction}'` : ''}\nusage: daso ${CONVERT_USAGE}`);
  }
  if (!input || !out || more.length) throw new Error(`convert ${direction}: expected an input and an output file${more.length ? `, got also '${more.join(' ')}'` : ''}\nusage: daso ${CONVERT_USAGE}`);
  if (direction === 'to-project' && !config) {
    throw new Error(`convert to-project: --config C.json is required (the step config of the run, docs/CONFIG.md: its model must match ${input})`);
  }
  if (direction === 'to-official' && (trustPickle || dasoFrom)) {
    throw new Error(`convert to-official: ${trustPickle ? '--trust-pickle' : '--daso-from'} applies to to-project only`);
  }
  return { direction, input, out, config, trustPickle, dasoFrom };
}

/** Runs the converter; returns its report (stdout). Errors carry the script's message (file, tensor or key, fix). */
export function runConvert(root: string, o: ConvertOptions): string {
  const script = join(root, 'scripts', 'convert_official.py');
  if (!existsSync(script)) {
    throw new Error(`convert: ${script} is missing: reinstall daso-webgpu (the package ships scripts/convert_official.py) or run from a checkout`);
  }
  const py = pythonPath();
  const probe = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    throw new Error(`convert: cannot run ${py} (${code ?? probe.error.message}): the converter needs Debian's Python with PyTorch: apt-get install -y python3-torch`);
  }
  if (probe.status !== 0) {
    const why = (probe.stderr || '').trim().split('\n').pop() ?? '';
    throw new Error(`convert: ${py} cannot import torch and numpy (${why}): apt-get install -y python3-torch`);
  }
  if (resolve(o.input) === resolve(o.out)) throw new Error(`convert: the output '${o.out}' is the input file: choose another output`);
  const args = [script, o.direction, o.input, o.out];
  if (o.config) args.push('--config', o.config);
  if (o.trustPickle) args.push('--trust-pickle');
  if (o.dasoFrom) args.push('--daso-from', o.dasoFrom);
  const r = spawnSync(py, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error) throw new Error(`convert: cannot run ${py} ${script}: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = (r.stderr || '').trim();
    // The script's own errors start with 'convert: '; anything else is a crash, shown whole.
    throw new Error(msg.startsWith('convert: ') ? msg : `convert: ${script} failed (exit ${r.status ?? r.signal}):\n${msg}`);
  }
  return r.stdout;
}

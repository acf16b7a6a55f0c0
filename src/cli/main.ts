// The `daso` command: runs work in headless Chromium (WebGPU) through the harness page (usage: COMMANDS below).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installSignalHandlers, StoppedBySignal, stopSignal, throwIfStopped } from './lifecycle.js';
import { runBench } from './bench.js';
import { parseStepBatches, runCompare } from './compare.js';
import { CONVERT_USAGE, parseConvertArgs, runConvert } from './convert.js';
import { startServer } from './server.js';
import { runStep } from './step.js';
import { runStepBench, STEP_BENCH_CASES } from './step-bench.js';
import { runTrain } from './train.js';
import { parseGpuMode } from './gpu-choice.js';
import { TUNE_HELP, TUNE_USAGE, tuneRequestFromFlags } from './tune-file.js';
import { parseTuneMode } from '../tune/prepare.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');

function parseFlags(args: string[], known: Record<string, 'string' | 'number' | 'bool'>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const name = a.slice(2);
    const kind = known[name];
    if (!kind) throw new Error(`unknown flag '${a}' (known: ${Object.keys(known).map((k) => `--${k}`).join(', ')})`);
    if (kind === 'bool') { out[name] = true; continue; }
    const v = args[++i];
    if (v === undefined) throw new Error(`flag '${a}' needs a value`);
    if (kind === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`flag '${a}' needs a number, got '${v}'`);
      out[name] = n;
    } else out[name] = v;
  }
  return out;
}

const COMMANDS: Record<string, string> = {
  bench: `bench [--filter TEXT] [--reps N] [--out FILE] [--verbose]
      kernel benchmark (GPU time from timestamp queries); TEXT matches 'kernel shape' rows by substring, A|B for either`,
  'bench-step': `bench-step [--config NAME[,NAME...]|all] [--reps N] [--out FILE] [--gpu auto|require|off] [--verbose] ${TUNE_USAGE}
      training-step benchmark + per-kernel GPU profile (configs: ${STEP_BENCH_CASES.map((c) => c.name).join(', ')};
      default: the first two; all: every case without its own limits; --reps 0: build only, dispatches and peak memory;
      --verbose also prints the rung of each conv); ${TUNE_HELP}`,
  'bench-compare': `bench-compare [--filter TEXT] [--reps N] [--batch N] [--step-batches 16,64|none] [--out FILE] [--verbose]
      our kernels vs @tensorflow/tfjs-backend-webgpu in one page: every WRN-28-2 conv (fwd, input and weight grad),
      classifier matmul, batch norm, softmax CE at batch N (default 64), and whole WRN-28-2 training steps at the step
      batches (default 16,64; minutes per tfjs step); reps default 3`,
  'bench-gpu': `bench-gpu [--out-dir DIR] [--dry-run] [--budget-s N] [--verbose] [--tune off|cached|fresh]
      the one command for a machine with a real GPU (bench/README.md): Chromium with Vulkan flags, the adapter named
      (a SwiftShader/fallback adapter is said plainly and scales the work down, as --dry-run does), then the conv
      ladder, a WRN-28-2 B=64 training step and bench-compare's ops, each within a share of N seconds (default 450);
      writes DIR/gpu-<adapter>-<date>.json and .md (DIR default bench/results); --tune (default fresh): the step part
      times the step's conv rungs first and writes the tune cache (off: the fixed rule; cached: the cache's choices)`,
  step: `step --config C.json --checkpoint IN.safetensors --batch B.safetensors --out OUT.safetensors [--outputs FILE] [--gpu MODE] [--verbose]
      one training step from files (see docs/CONFIG.md); everything is validated before the browser starts. --out is
      the new checkpoint (a valid --checkpoint for the next step); --outputs (default OUT.outputs.safetensors) the
      step's losses, logits, pseudo-labels and gradients`,
  train: `train --config PRESET|FILE [--set key=value]... [--out-dir DIR] [--gpu MODE] [--verbose] ${TUNE_USAGE} | --resume DIR [--gpu MODE] [--verbose]
      a training run (presets: fashion-mnist-lt, cifar10-lt-*, cifar100-lt-n150); --set overrides one config key
      (value parsed as JSON, else a string). Ctrl-C / SIGTERM stop it at the next step with a checkpoint.
      --gpu auto (default): a hardware adapter (Chromium's Vulkan flags) when the machine shows a GPU, else Chromium's
      default (SwiftShader on headless Linux, said at start); require: fail without a hardware adapter; off: the default.
      Prints the rung of each conv at the start; a resumed run reuses the rungs its checkpoint stored. ${TUNE_HELP}`,
  convert: CONVERT_USAGE,
  report: `report RUN_DIR [RUN_DIR ...] [--out FILE]
      one self-contained HTML file (inline SVG charts, no scripts, no network) comparing training runs: final table
      (mean ± std over seeds), losses, accuracy, per-class recall, pseudo-label recall / precision, m_hat, DASO's v,
      a UMAP of saved features (default FILE: report.html here); a folder it cannot read is named on stderr and left
      out; exit 2 when no run could be read`,
  serve: `serve [--port N]
      serve the harness page on 127.0.0.1 (default port 8080)`,
};

const USAGE = `usage: daso <command> [flags]     (daso <command> --help, daso --version)
${Object.values(COMMANDS).map((c) => `  ${c}`).join('\n')}
exit codes: 0 done; 1 an error (the message names the file, key or flag); 130 / 143 / 129 stopped by
SIGINT / SIGTERM / SIGHUP (a training run keeps a checkpoint of the last finished step; a second signal exits at once)`;

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`daso-webgpu ${version()}\n`);
    return;
  }
  if (cmd && COMMANDS[cmd] && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`usage: daso ${COMMANDS[cmd]}\n`);
    return;
  }
  switch (cmd) {
    case 'bench': {
      const f = parseFlags(rest, { filter: 'string', reps: 'number', out: 'string', verbose: 'bool' });
      await runBench(ROOT, {
        filter: f.filter as string | undefined,
        reps: (f.reps as number | undefined) ?? 5,
        out: (f.out as string | undefined) ?? resolve(ROOT, 'bench/results/kernels-latest.json'),
        verbose: !!f.verbose,
      });
      return;
    }
    case 'bench-step': {
      const f = parseFlags(rest, { config: 'string', reps: 'number', out: 'string', verbose: 'bool', gpu: 'string', tune: 'string', 'tune-cache': 'string', 'tune-budget-s': 'number' });
      const tune = tuneRequestFromFlags(f);
      const c = (f.config as string | undefined)?.trim();
      await runStepBench(ROOT, {
        configs: !c ? [] : c === 'all' ? STEP_BENCH_CASES.filter((x) => !x.limits).map((x) => x.name) : c.split(',').map((x) => x.trim()).filter(Boolean),
        reps: (f.reps as number | undefined) ?? 2,
        out: (f.out as string | undefined) ?? resolve(ROOT, 'bench/results/step-latest.json'),
        verbose: !!f.verbose,
        gpu: parseGpuMode(f.gpu, 'bench-step'),
        tune,
      });
      return;
    }
    case 'bench-compare': {
      const f = parseFlags(rest, { filter: 'string', reps: 'number', batch: 'number', 'step-batches': 'string', out: 'string', verbose: 'bool' });
      await runCompare(ROOT, {
        filter: f.filter as string | undefined,
        reps: (f.reps as number | undefined) ?? 3,
        batch: (f.batch as number | undefined) ?? 64,
        stepBatches: parseStepBatches((f['step-batches'] as string | undefined) ?? '16,64'),
        out: (f.out as string | undefined) ?? resolve(ROOT, 'bench/results/compare-latest.json'),
        verbose: !!f.verbose,
      });
      return;
    }
    case 'bench-gpu': {
      const f = parseFlags(rest, { 'out-dir': 'string', 'dry-run': 'bool', 'budget-s': 'number', verbose: 'bool', tune: 'string' });
      const tune = f.tune === undefined ? 'fresh' : parseTuneMode(f.tune, '--tune');
      // Imported here, not at the top: it pulls in every bench case, which no other command needs.
      const { runBenchGpu } = await import('./bench-gpu.js');
      await runBenchGpu(ROOT, {
        outDir: resolve((f['out-dir'] as string | undefined) ?? resolve(ROOT, 'bench/results')),
        dryRun: !!f['dry-run'],
        budgetS: (f['budget-s'] as number | undefined) ?? 450,
        verbose: !!f.verbose,
        tune,
        command: ['daso', 'bench-gpu', ...rest].join(' '),
      });
      return;
    }
    case 'step': {
      const f = parseFlags(rest, { config: 'string', checkpoint: 'string', batch: 'string', out: 'string', outputs: 'string', verbose: 'bool', gpu: 'string' });
      for (const k of ['config', 'checkpoint', 'batch', 'out']) if (!f[k]) throw new Error(`step: --${k} FILE is required\n${USAGE}`);
      const r = await runStep(ROOT, {
        config: f.config as string, checkpoint: f.checkpoint as string, batch: f.batch as string, out: f.out as string,
        outputs: f.outputs as string | undefined, verbose: !!f.verbose, gpu: parseGpuMode(f.gpu, 'step'),
      });
      process.stdout.write(`step done: loss ${r.loss}, ${r.dispatches} dispatches in one submission; wrote ${f.out} (checkpoint) and ${r.outputs} (outputs)\n`);
      return;
    }
    case 'train': {
      const sets: string[] = [];
      const rest2: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--set') {
          if (rest[i + 1] === undefined) throw new Error(`flag '--set' needs a value (key=value)`);
          sets.push(rest[++i]);
        }
        else rest2.push(rest[i]);
      }
      const f = parseFlags(rest2, { config: 'string', 'out-dir': 'string', resume: 'string', verbose: 'bool', set: 'string', gpu: 'string', tune: 'string', 'tune-cache': 'string', 'tune-budget-s': 'number' });
      await runTrain(ROOT, {
        config: f.config as string | undefined, set: sets, outDir: f['out-dir'] as string | undefined, resume: f.resume as string | undefined,
        verbose: !!f.verbose, gpu: parseGpuMode(f.gpu, 'train'), tune: f,
      });
      return;
    }
    case 'convert': {
      process.stdout.write(runConvert(ROOT, parseConvertArgs(rest)));
      return;
    }
    case 'report': {
      const dirs = rest.filter((a, i) => !a.startsWith('--') && rest[i - 1] !== '--out');
      let f: Record<string, string | number | boolean>;
      try {
        f = parseFlags(rest.filter((a) => !dirs.includes(a)), { out: 'string' });
      } catch (e) {
        process.stderr.write(`daso report: ${(e as Error).message}\nusage: daso ${COMMANDS.report}\n`);
        process.exitCode = 1;
        return;
      }
      // Imported here: Plot, linkedom and UMAP are only evaluated by this command.
      const { runReport } = await import('./report.js');
      const r = dirs.length ? runReport({ dirs, out: resolve((f.out as string | undefined) ?? 'report.html') }) : null;
      if (!r?.reported) {
        process.stderr.write(dirs.length ? 'daso report: no run could be read; nothing written\n' : `daso report: give at least one RUN_DIR\nusage: daso ${COMMANDS.report}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`wrote ${r.out} (${r.reported} run${r.reported > 1 ? 's' : ''})\n`);
      return;
    }
    case 'serve': {
      const f = parseFlags(rest, { port: 'number' });
      const s = await startServer(ROOT, { port: (f.port as number | undefined) ?? 8080 });
      process.stdout.write(`harness: ${s.url}/harness.html (Ctrl-C to stop)\n`);
      await new Promise((ok) => stopSignal.addEventListener('abort', ok));
      await s.close();
      throwIfStopped('serving');
      return;
    }
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new Error(`unknown command '${cmd}'\n${USAGE}`);
  }
}

installSignalHandlers();
main(process.argv.slice(2)).then(() => {
  // A signal that came while a non-training command finished its work still ends with the signal's code.
  throwIfStopped('');
}).catch((e: Error) => {
  process.stderr.write(`daso: ${e.message}\n`);
  process.exit(e instanceof StoppedBySignal ? e.code : 1);
});

// How the `daso` process reacts to signals. The first SIGINT / SIGTERM / SIGHUP aborts `stopSignal`: a training run
// stops at the next step boundary with a checkpoint (other commands close their browser at once); it then exits with
// 128 + the signal number (130, 143, 129), as shells and `timeout`/`docker stop` expect. A second signal does not
// wait: every browser this process started is killed (process group, profile folder removed) and it exits at once.
import { killAllBrowsers } from './browser.js';

const CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

const controller = new AbortController();
let received: string | null = null;

/** Aborted by the first signal; long-running commands watch it. */
export const stopSignal: AbortSignal = controller.signal;

/** The exit code the received signal asks for, or null when none came. */
export function signalExitCode(): number | null {
  return received ? CODES[received] : null;
}

/** The error a command throws when it stopped because of a signal (main prints it and exits with the code). */
export class StoppedBySignal extends Error {
  constructor(readonly code: number, what: string) {
    super(what);
  }
}

/** Throws StoppedBySignal if a signal has come; commands call it between phases (before launching a browser, ...). */
export function throwIfStopped(what: string): void {
  const code = signalExitCode();
  if (code !== null) throw new StoppedBySignal(code, `${received}: stopped ${what}`);
}

let graceful = false;

/** A command that stops cleanly on its own at `stopSignal` (training: at the next step boundary) calls this; for
 * every other command (benchmarks, serve, step) the first signal closes the browser and exits at once, since there
 * is nothing to save. */
export function handleStopGracefully(): void {
  graceful = true;
}

export function installSignalHandlers(): void {
  for (const sig of Object.keys(CODES) as NodeJS.Signals[]) {
    process.on(sig, () => {
      if (received || !graceful) {
        received ??= sig;
        process.stderr.write(`daso: ${graceful ? 'second ' : ''}${sig}: closing the browser and exiting now\n`);
        killAllBrowsers();
        process.exit(CODES[received]);
      }
      received = sig;
      process.stderr.write(`daso: ${sig} received: stopping at the next step boundary (send it again to exit at once)\n`);
      controller.abort(new Error(sig));
    });
  }
}

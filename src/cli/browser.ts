// Headless Chromium with WebGPU, driven through puppeteer-core (no browser download: it drives the system Chromium).
// The flags are the ones measured to give an adapter on these machines (SwiftShader when there is no GPU); the
// network flags stop Chromium retrying closed connections.
//
// Lifetime: puppeteer starts Chromium in a process group of its own (setsid), so neither kill -9 of node nor a
// signal to node's group reaches it. Three things make sure no browser or profile folder outlives the process:
//  - a watchdog: a detached `sh` loop that polls node's pid and, once node is gone (crash, kill -9), kills
//    Chromium's whole process group and removes the profile folder. It is the only thing that survives kill -9.
//  - an `exit` hook that kills the group synchronously when node exits without closing (uncaught error, exit()).
//  - puppeteer's own signal handlers are off: the CLI's lifecycle (cli/lifecycle.ts) decides what a signal does.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** Prefix of every profile folder we create in the temp directory (tests look for leftovers by it). */
export const PROFILE_PREFIX = 'daso-chromium-';

/** The browser binary: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}. Install it with 'apt-get install -y --no-install-recommends chromium' ` +
        `or set CHROMIUM_PATH to a Chromium/Chrome binary with WebGPU.`,
    );
  }
  return path;
}

export interface LaunchedBrowser {
  browser: Browser;
  /** Chromium's pid (= its process group id); the profile folder. */
  pid: number;
  userDataDir: string;
  /** Closes the browser politely, then makes sure its process group is gone and removes the profile folder. */
  close(): Promise<void>;
  /** Synchronous and immediate: SIGKILL to the process group, profile folder removed (second signal, exit hook). */
  kill(): void;
}

// The watchdog: $1 node's pid, $2 Chromium's process group, $3 the profile folder. `sleep 0.5` keeps it below 1% of
// a core; after node is gone it takes at most half a second to act.
const WATCHDOG = 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; kill -9 -"$2" 2>/dev/null; sleep 0.3; rm -rf "$3"';

function startWatchdog(chromiumPid: number, userDataDir: string): ChildProcess {
  const w = spawn('/bin/sh', ['-c', WATCHDOG, 'daso-chromium-watchdog', String(process.pid), String(chromiumPid), userDataDir], {
    detached: true,
    stdio: 'ignore',
  });
  w.unref();
  return w;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

const live = new Set<LaunchedBrowser>();
let exitHooked = false;

/** Kills every browser this process launched (synchronous; for the second signal and the exit hook). */
export function killAllBrowsers(): void {
  for (const b of [...live]) b.kill();
}

export async function launchChromium(extraFlags: string[] = []): Promise<LaunchedBrowser> {
  const executablePath = chromiumPath();
  const userDataDir = mkdtempSync(join(tmpdir(), PROFILE_PREFIX));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraFlags],
      userDataDir,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      // A CDP call may legitimately take long on SwiftShader (a WRN-28-2 batch-320 step is minutes); training does
      // not hold one call open at all (see cli/train.ts), but benchmarks do.
      protocolTimeout: 24 * 3_600_000,
    });
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`could not start Chromium (${executablePath}): ${(e as Error).message}. ` +
      `Set CHROMIUM_PATH to a Chromium/Chrome binary with WebGPU if this one does not work.`);
  }
  const pid = browser.process()?.pid ?? 0;
  const watchdog = pid ? startWatchdog(pid, userDataDir) : null;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    live.delete(handle);
    if (pid) killGroup(pid);
    // The watchdog has nothing left to do; stop it so it cannot act on a recycled pid later.
    if (watchdog?.pid) try { process.kill(watchdog.pid, 'SIGKILL'); } catch { /* gone */ }
    rmSync(userDataDir, { recursive: true, force: true });
  };
  const handle: LaunchedBrowser = {
    browser,
    pid,
    userDataDir,
    close: async () => {
      if (done) return;
      // A browser that does not close within 5 s (a wedged GPU process) is killed all the same.
      await Promise.race([browser.close().catch(() => undefined), new Promise((ok) => setTimeout(ok, 5000).unref())]);
      finish();
    },
    kill: finish,
  };
  live.add(handle);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', killAllBrowsers);
  }
  return handle;
}

/** Opens the harness page and waits until it has a GPU device (or reports why not). */
export async function openHarness(browser: Browser, url: string, log = false): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(0);
  if (log) page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${String(e)}\n`));
  await page.goto(`${url}/harness.html`, { waitUntil: 'load' });
  const status = await page.evaluate(async () => {
    const w = window as unknown as { dasoReady?: Promise<unknown> };
    if (!w.dasoReady) return { ok: false, error: 'harness.js did not load (run `npm run build`)' };
    try {
      return { ok: true, info: await w.dasoReady };
    } catch (e) {
      return { ok: false, error: String((e as Error).message ?? e) };
    }
  });
  if (!status.ok) throw new Error(`harness page: ${status.error}`);
  return page;
}

/** Resolves with an error result when the browser goes away (killed, crashed) — so nothing waits for a dead page. */
export function browserGone(browser: Browser): Promise<{ ok: false; error: string }> {
  return new Promise((ok) => browser.once('disconnected', () => ok({ ok: false, error: 'the browser went away (killed or crashed)' })));
}

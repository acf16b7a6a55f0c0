// The CLI's side of --tune: where the tune cache file is, reading it (a malformed file is a warning naming it, then
// the rule: never a crash), and merging the page's new entries back into it (atomic write).
// The GPU work runs in the page; the CLI hands it the cache content and takes the measured entries back.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { emptyTuneCache, mergeTuneCache, parseTuneCache, type TuneCache } from '../tune/cache.js';
import { DEFAULT_TUNE_BUDGET_S, parseTuneBudget, parseTuneMode, type TuneOutcome, type TuneRequest } from '../tune/prepare.js';
import { writeAtomic } from './files.js';

/** --tune-cache FILE, else $DASO_TUNE_CACHE, else ~/.cache/daso-webgpu/tune.json. */
export function tuneCachePath(flag?: string): string {
  if (flag) return resolve(flag);
  if (process.env.DASO_TUNE_CACHE) return resolve(process.env.DASO_TUNE_CACHE);
  return join(homedir(), '.cache', 'daso-webgpu', 'tune.json');
}

/** The cache at `path`: empty when there is none; a file that cannot be read or parsed gives a warning on stderr
 * (naming the file and what is wrong) and an empty cache, so the run goes on with the rule. */
export function readTuneCache(path: string, warn: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): TuneCache {
  if (!existsSync(path)) return emptyTuneCache();
  try {
    return parseTuneCache(readFileSync(path, 'utf8'));
  } catch (e) {
    warn(`warning: tune cache ${path}: ${(e as Error).message}; ignoring it (the fixed rule is used where it would ` +
      'have chosen; --tune fresh rewrites the file)');
    return emptyTuneCache();
  }
}

/** Merges a page's measured entries into the file (re-read first: another run may have written it meanwhile). */
export function saveTuneEntries(path: string, outcome: Pick<TuneOutcome, 'adapter' | 'entries'>): number {
  const n = Object.keys(outcome.entries).length;
  if (!n) return 0;
  const cache = mergeTuneCache(readTuneCache(path, () => undefined), outcome.adapter, outcome.entries);
  writeAtomic(path, `${JSON.stringify(cache, null, 1)}\n`);
  return n;
}

export interface TuneFlags {
  tune?: unknown;
  'tune-cache'?: unknown;
  'tune-budget-s'?: unknown;
}

/** The page's request from the command's flags (validated: a bad value names the flag and the allowed values). */
export function tuneRequestFromFlags(f: TuneFlags): { request: TuneRequest; path: string } {
  const mode = f.tune === undefined ? 'cached' : parseTuneMode(f.tune, '--tune');
  const budgetS = f['tune-budget-s'] === undefined ? DEFAULT_TUNE_BUDGET_S : parseTuneBudget(f['tune-budget-s'], '--tune-budget-s');
  const path = tuneCachePath(f['tune-cache'] as string | undefined);
  return { request: { mode, budgetS, cache: mode === 'cached' ? readTuneCache(path) : null }, path };
}

export const TUNE_USAGE = `[--tune off|cached|fresh] [--tune-cache FILE] [--tune-budget-s N]`;
export const TUNE_HELP = `--tune: conv kernel rungs per adapter (off: the fixed rule; cached (default): the cache's choices, the rule where
      it has none; fresh: time the step's convs now, within N s (default ${DEFAULT_TUNE_BUDGET_S}), and write the cache);
      --tune-cache FILE (default $DASO_TUNE_CACHE, else ~/.cache/daso-webgpu/tune.json)`;

// The tune cache in a page (harness "Train live", createTrainer): localStorage under one key, or memory when the
// page has no localStorage (a sandboxed frame, storage turned off). A malformed stored value is a console warning
// and an empty cache (the rule), never an error.
import { emptyTuneCache, mergeTuneCache, parseTuneCache, type TuneCache } from './cache.js';
import { parseTuneMode, type TuneMode, type TuneOutcome, type TuneRequest } from './prepare.js';

export const TUNE_STORAGE_KEY = 'daso-webgpu.tune-cache';
let memory: TuneCache = emptyTuneCache();

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // a SecurityError where storage is blocked
  }
}

export function loadPageTuneCache(): TuneCache {
  const s = storage();
  const text = s?.getItem(TUNE_STORAGE_KEY);
  if (!s || !text) return s ? emptyTuneCache() : memory;
  try {
    return parseTuneCache(text);
  } catch (e) {
    console.warn(`tune cache (localStorage '${TUNE_STORAGE_KEY}'): ${(e as Error).message}; ignoring it (the fixed rule is used)`);
    return emptyTuneCache();
  }
}

/** Stores the entries a fresh tuning measured (merged into what is stored). */
export function savePageTuneEntries(o: Pick<TuneOutcome, 'adapter' | 'entries'>): void {
  if (!Object.keys(o.entries).length) return;
  const next = mergeTuneCache(loadPageTuneCache(), o.adapter, o.entries);
  const s = storage();
  try {
    if (s) s.setItem(TUNE_STORAGE_KEY, JSON.stringify(next));
    else memory = next;
  } catch {
    memory = next; // quota exceeded: keep it for this page's life
  }
}

/** A page's request for `mode` (validated; `where` names the option in the error). */
export function pageTuneRequest(mode: unknown = 'cached', budgetS?: number, where = 'tune'): TuneRequest {
  const m: TuneMode = parseTuneMode(mode, where);
  return { mode: m, budgetS, cache: m === 'cached' ? loadPageTuneCache() : null };
}

// The tune cache: which rung won for each conv key, per adapter. Pure (no I/O): the CLI keeps it in a JSON file
// (src/cli/tune-file.ts), the page in localStorage (src/tune/page-store.ts). An entry is only ever a rung *name*:
// a name the ladder no longer offers is a miss (the rule), so an old cache can never select a kernel that is gone.
import type { AdapterReport } from '../gpu/device.js';
import { parseConvKey } from './candidates.js';

export const TUNE_CACHE_FORMAT = 1;

export interface TuneEntry {
  /** The chosen rung (a name from src/tune/candidates.ts). */
  rung: string;
  /** Median ms of each rung timed (GPU time from timestamp queries, else wall time). */
  ms: Record<string, number>;
  /** ISO date of the measurement. */
  date: string;
}

export interface AdapterId {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface TuneCache {
  format: number;
  adapters: Record<string, { adapter: AdapterId; entries: Record<string, TuneEntry> }>;
}

export const emptyTuneCache = (): TuneCache => ({ format: TUNE_CACHE_FORMAT, adapters: {} });

export function adapterId(info: Pick<AdapterReport, 'vendor' | 'architecture' | 'device' | 'description'> | undefined): AdapterId {
  return { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' };
}

/** The cache key of an adapter: vendor | architecture | device | description (adapter.info). */
export const adapterKey = (a: AdapterId): string => [a.vendor, a.architecture, a.device, a.description].join('|');

/** Parses a cache text; throws an Error saying what is wrong (the callers turn it into a warning and use the rule). */
export function parseTuneCache(text: string): TuneCache {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message})`);
  }
  const o = j as Partial<TuneCache>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not a JSON object');
  if (o.format !== TUNE_CACHE_FORMAT) throw new Error(`format ${JSON.stringify(o.format)} is not ${TUNE_CACHE_FORMAT}`);
  if (typeof o.adapters !== 'object' || o.adapters === null || Array.isArray(o.adapters)) throw new Error("'adapters' is not an object");
  for (const [ak, a] of Object.entries(o.adapters)) {
    if (typeof a !== 'object' || a === null || typeof a.entries !== 'object' || a.entries === null) throw new Error(`adapter '${ak}': no 'entries' object`);
    for (const [k, e] of Object.entries(a.entries)) {
      if (!parseConvKey(k)) throw new Error(`adapter '${ak}': '${k}' is not a conv key (direction:N,C,H,W,K,R,stride,pad)`);
      if (typeof e !== 'object' || e === null || typeof e.rung !== 'string') throw new Error(`adapter '${ak}', '${k}': no rung name`);
    }
  }
  return o as TuneCache;
}

/** key -> rung of one adapter's entries. */
export function cachedChoices(cache: TuneCache, a: AdapterId): Record<string, string> {
  const entries = cache.adapters[adapterKey(a)]?.entries ?? {};
  return Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, e.rung]));
}

/** A new cache with `entries` added (replacing the same keys) under adapter `a`. */
export function mergeTuneCache(cache: TuneCache, a: AdapterId, entries: Record<string, TuneEntry>): TuneCache {
  const k = adapterKey(a);
  const old = cache.adapters[k]?.entries ?? {};
  return { format: TUNE_CACHE_FORMAT, adapters: { ...cache.adapters, [k]: { adapter: a, entries: { ...old, ...entries } } } };
}

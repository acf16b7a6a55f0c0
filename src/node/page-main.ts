// The page of launchWebGpuPage() (dist/node-page.html): loads the library bundle (dist/index.js, not a copy of it)
// and runs functions Node sends as source text, with the library and the decoded argument; typed arrays in the
// argument and the result cross as bytes (transfer.ts).
import * as lib from '../index.js';
import { decodeValue, encodeValue, type CallResult } from './transfer.js';

declare global {
  interface Window {
    dasoNode: {
      ready: Promise<unknown>;
      call(source: string, arg: unknown, ioBase: string, id: number): Promise<CallResult>;
    };
  }
}

async function bytesAt(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

window.dasoNode = {
  // A device is acquired once to prove WebGPU works here (and to report the adapter), then given back.
  ready: lib.acquireGpu().then((ctx) => {
    ctx.device.destroy();
    return ctx.info;
  }),
  async call(source, arg, ioBase, id) {
    try {
      const fn = (0, eval)(`(${source})`) as (l: typeof lib, a: unknown) => unknown;
      if (typeof fn !== 'function') throw new Error('evaluate(): the first argument must be a function');
      const value = await fn(lib, await decodeValue(arg, bytesAt));
      let n = 0;
      return {
        ok: true,
        value: await encodeValue(value, async (bytes) => {
          const name = `call${id}-out${n++}`;
          const r = await fetch(`${ioBase}${name}`, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer> });
          if (!r.ok) throw new Error(`cannot hand ${name} back to Node: HTTP ${r.status}`);
          return name;
        }, 'result'),
      };
    } catch (e) {
      return { ok: false, error: (e as Error)?.message ?? String(e) };
    }
  },
};

// The project's own static server on 127.0.0.1: WebGPU needs a secure context, and http://127.0.0.1 is one
// (data: and file: URLs have no navigator.gpu). It serves an allow-list, nothing else:
//  - the pages and their bundles (SERVED below), read from the package root;
//  - /datasets/<name>/<file>: the dataset folders it was told about (default: Debian's Fashion-MNIST folder);
//  - /io/<token>/<name>: the byte exchange with the page (GET what Node put in `io.files`, PUT into `io.received`),
//    behind a random per-server token and a size limit, so another local process can neither read a run's data nor
//    fill this process's memory.
// A path that resolves (through symlinks too) outside its folder is refused.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css',
};

/** Files under the root that a page may load (everything else, e.g. /.git/config or /node_modules, is 404). */
export const SERVED = [
  'harness.html', 'dist/harness.js', 'dist/harness.js.map',
  'bench/compare/compare.html', 'dist/compare.js', 'dist/compare.js.map',
];

/** Dataset folders served by default under /datasets/<name>/ (read-only). */
export const DEFAULT_DATASETS: Record<string, string> = { 'fashion-mnist': '/usr/share/datasets/fashion-mnist' };

/** Largest PUT /io body accepted (a WRN-28-2 CIFAR-100 DASO checkpoint is about 32 MB). */
export const DEFAULT_MAX_UPLOAD = 256 * 1024 * 1024;

export interface ServerOptions {
  port?: number;
  /** name -> folder, served under /datasets/<name>/. */
  datasets?: Record<string, string>;
  /** Extra files under the root to serve (paths relative to it), e.g. an example page. */
  extraFiles?: string[];
  maxUpload?: number;
}

export interface StaticServer {
  url: string;
  /** Byte exchange with the page: GET `io.url(name)` serves `io.files`, PUT stores into `io.received`.
   * This is how `daso step`/`daso train` move checkpoints and batches in and out (faster than page.evaluate). */
  io: { files: Map<string, Uint8Array>; received: Map<string, Uint8Array>; url(name: string): string; token: string };
  close(): Promise<void>;
}

const IO_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** `file` is inside `dir` once both are resolved through symlinks. */
async function inside(dir: string, file: string): Promise<boolean> {
  try {
    const [d, f] = await Promise.all([realpath(dir), realpath(file)]);
    return f === d || f.startsWith(d + sep);
  } catch {
    return false;
  }
}

/** Serves the allow-listed files of `root` and the given dataset folders on 127.0.0.1 (port 0 = any free port). */
export async function startServer(root: string, opts: ServerOptions = {}): Promise<StaticServer> {
  const rootDir = resolve(root);
  const datasets = opts.datasets ?? DEFAULT_DATASETS;
  const served = new Set([...SERVED, ...(opts.extraFiles ?? [])]);
  const maxUpload = opts.maxUpload ?? DEFAULT_MAX_UPLOAD;
  const token = randomBytes(16).toString('hex');
  const ioPrefix = `/io/${token}/`;
  const io = { files: new Map<string, Uint8Array>(), received: new Map<string, Uint8Array>(), token, url: (name: string) => `${ioPrefix}${name}` };

  const handleIo = async (name: string, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    if (!IO_NAME.test(name)) { res.writeHead(400).end('bad io name'); return; }
    if (req.method === 'PUT') {
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > maxUpload) { res.writeHead(413).end(`upload over ${maxUpload} bytes`); req.destroy(); return; }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > maxUpload) { res.writeHead(413).end(`upload over ${maxUpload} bytes`); req.destroy(); return; }
        chunks.push(c as Buffer);
      }
      io.received.set(name, new Uint8Array(Buffer.concat(chunks)));
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
    // The page's liveness probe: it answers as long as this process (and so the run) is alive.
    if (name === 'alive') { res.writeHead(204).end(); return; }
    const f = io.files.get(name);
    if (!f) { res.writeHead(404).end(`no io file '${name}'`); return; }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }).end(f);
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (path.startsWith('/io/')) {
        if (!path.startsWith(ioPrefix)) { res.writeHead(403).end('io needs this run\'s token'); return; }
        await handleIo(path.slice(ioPrefix.length), req, res);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
      let file: string | null = null, base = rootDir;
      const m = /^\/datasets\/([^/]+)\/(.+)$/.exec(path);
      if (m && Object.prototype.hasOwnProperty.call(datasets, m[1]) && !m[2].split('/').includes('..')) {
        base = resolve(datasets[m[1]]);
        file = join(base, m[2]);
      } else {
        const rel = path === '/' ? 'harness.html' : path.slice(1);
        if (served.has(rel)) file = join(rootDir, rel);
      }
      if (!file || !(await inside(base, file))) { res.writeHead(404).end('not found'); return; }
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      if (!res.headersSent) res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new Error(`server: cannot listen on 127.0.0.1:${opts.port ?? 0}: ${e.code ?? e.message}` +
      (e.code === 'EADDRINUSE' ? ' (the port is taken: pass --port N)' : ''))));
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server: no TCP address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    io,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

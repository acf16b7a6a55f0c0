// The project's own static server on 127.0.0.1: WebGPU needs a secure context, and http://127.0.0.1 is one
// (data: and file: URLs have no navigator.gpu). Serves the repository root (harness.html, dist/) read-only, and
// /datasets/<path> read-only from /usr/share/datasets/ (the machine's dataset folder, e.g. fashion-mnist/*.gz).
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wgsl': 'text/plain; charset=utf-8',
  '.css': 'text/css',
};

/** The one folder outside the root the server exposes, under the URL prefix /datasets/ (read-only). */
export const DATASETS_DIR = '/usr/share/datasets';

export interface StaticServer {
  url: string;
  /** Byte exchange with the page: GET /io/<name> serves `io.files`, PUT /io/<name> stores into `io.received`.
   * This is how `daso step`/`daso train` move checkpoints and batches in and out (faster than page.evaluate). */
  io: { files: Map<string, Uint8Array>; received: Map<string, Uint8Array> };
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 at `port` (0 = any free port), and /datasets/ from `datasetsDir`. Paths outside
 * `root` (or, under /datasets/, outside `datasetsDir`) are refused. */
export async function startServer(root: string, port = 0, datasetsDir = DATASETS_DIR): Promise<StaticServer> {
  const rootDir = resolve(root);
  const dataDir = resolve(datasetsDir);
  const io = { files: new Map<string, Uint8Array>(), received: new Map<string, Uint8Array>() };
  const server: Server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (path.startsWith('/io/')) {
        const name = path.slice(4);
        if (req.method === 'PUT' || req.method === 'POST') {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          io.received.set(name, new Uint8Array(Buffer.concat(chunks)));
          res.writeHead(204).end();
          return;
        }
        const f = io.files.get(name);
        if (!f) { res.writeHead(404).end(`no io file '${name}'`); return; }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }).end(f);
        return;
      }
      const isData = path === '/datasets' || path.startsWith('/datasets/');
      const base = isData ? dataDir : rootDir;
      const rel = isData ? path.slice('/datasets'.length) : path === '/' ? 'harness.html' : path;
      const file = normalize(join(base, rel));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end('outside the served folder');
        return;
      }
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server: no TCP address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    io,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

// The static server serves an allow-list and nothing else: the pages and bundles, the dataset folders it was told
// about (no escape through `..` or symlinks), and /io behind a per-server token with a size limit.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../src/cli/server.js';
import { tempDir } from './helpers/cli.js';

describe('static server', () => {
  let srv: StaticServer;
  const data = tempDir('daso-srv-');
  beforeAll(async () => {
    mkdirSync(join(data, 'toy'));
    writeFileSync(join(data, 'toy', 'a.bin'), new Uint8Array([1, 2, 3]));
    symlinkSync('/etc/passwd', join(data, 'toy', 'passwd'));
    symlinkSync('/etc', join(data, 'toy', 'etc'));
    srv = await startServer(process.cwd(), { datasets: { toy: join(data, 'toy') }, maxUpload: 1024 });
  });
  afterAll(async () => srv.close());
  const get = (p: string, init?: RequestInit) => fetch(`${srv.url}${p}`, init);

  it('serves the harness page and its bundle', async () => {
    expect((await get('/harness.html')).status).toBe(200);
    expect((await get('/')).status).toBe(200);
    expect((await get('/dist/harness.js')).status).toBe(200);
  });

  it('serves nothing else of the repository', async () => {
    for (const p of ['/.git/config', '/package.json', '/node_modules/puppeteer-core/package.json', '/src/index.ts', '/dist/cli.js',
      '/test/fixtures/parity/daso-active/batch.safetensors', '/%2e%2e/%2e%2e/etc/passwd', '/dist/../package.json']) {
      expect((await get(p)).status, p).toBe(404);
    }
  });

  it('serves the datasets it was told about, without symlink or .. escapes', async () => {
    const r = await get('/datasets/toy/a.bin');
    expect(r.status).toBe(200);
    expect([...new Uint8Array(await r.arrayBuffer())]).toEqual([1, 2, 3]);
    for (const p of ['/datasets/toy/passwd', '/datasets/toy/etc/passwd', '/datasets/toy/..%2f..%2fetc%2fpasswd',
      '/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz', '/datasets/toy', '/datasets/other/a.bin']) {
      expect((await get(p)).status, p).toBe(404);
    }
  });

  it('serves the default dataset folder (Fashion-MNIST) when none is given', async () => {
    const labels = '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz';
    if (!existsSync(labels)) return;
    const def = await startServer(process.cwd());
    try {
      const r = await fetch(`${def.url}/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz`);
      expect(r.status).toBe(200);
      const b = new Uint8Array(await r.arrayBuffer());
      expect([b[0], b[1]]).toEqual([0x1f, 0x8b]);
    } finally {
      await def.close();
    }
  });

  it('/io needs the token, takes names it can store, and refuses uploads over the limit', async () => {
    srv.io.files.set('x', new Uint8Array([7]));
    expect((await get('/io/x')).status).toBe(403);
    expect((await get('/io/0123456789abcdef0123456789abcdef/x')).status).toBe(403);
    expect((await get(srv.io.url('x'))).status).toBe(200);
    expect((await get(srv.io.url('missing'))).status).toBe(404);
    expect((await get(srv.io.url('alive'))).status).toBe(204);
    expect((await get(srv.io.url('up'), { method: 'PUT', body: new Uint8Array(1000) })).status).toBe(204);
    expect(srv.io.received.get('up')?.length).toBe(1000);
    expect((await get(srv.io.url('big'), { method: 'PUT', body: new Uint8Array(1025) })).status).toBe(413);
    expect(srv.io.received.has('big')).toBe(false);
    expect((await get('/io/x', { method: 'PUT', body: new Uint8Array(1) })).status).toBe(403);
    expect((await get('/harness.html', { method: 'PUT', body: new Uint8Array(1) })).status).toBe(405);
  });

  it('names the port when it is taken', async () => {
    const port = Number(new URL(srv.url).port);
    await expect(startServer(process.cwd(), { port })).rejects.toThrow(new RegExp(`127.0.0.1:${port}: EADDRINUSE \\(the port is taken`));
  });
});

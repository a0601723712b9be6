/**
 * The demo's static files with their precompressed variants
 * (`server/http/static-files.ts`), on a real express server on 127.0.0.1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import express from 'express';
import { expect } from '../helpers/chai.js';
import { tempDir } from '../helpers/compat.js';
import { acceptedEncodings, staticFiles } from '../../server/http/static-files.js';

/** A raw GET (node's fetch would decompress and drop Content-Encoding from view). */
async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const { request } = await import('node:http');
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
    (resolve, reject) => {
      const req = request(url, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('static files with precompressed variants', () => {
  let server: Server;
  let url: string;
  let cleanup: () => Promise<void>;
  const js = Buffer.from(`console.log(${JSON.stringify('x'.repeat(5000))});\n`);

  before(async () => {
    const d = await tempDir('playmind-static-');
    cleanup = d.cleanup;
    await mkdir(join(d.dir, 'chunks'));
    await mkdir(join(d.dir, '.hidden'));
    await writeFile(join(d.dir, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(d.dir, 'main.js'), js);
    await writeFile(join(d.dir, 'main.js.br'), brotliCompressSync(js));
    await writeFile(join(d.dir, 'main.js.gz'), gzipSync(js));
    await writeFile(join(d.dir, 'plain.wasm'), Buffer.from([0, 97, 115, 109]));
    await writeFile(join(d.dir, 'chunks', 'a-HASH.js'), 'export {};');
    await writeFile(join(d.dir, '.hidden', 'secret.txt'), 'secret');
    const app = express();
    app.use(staticFiles(d.dir));
    app.use((_req, res) => res.status(404).send('not here'));
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await cleanup();
  });

  it('sends the brotli variant to a browser that takes br, with the original type and Vary', async () => {
    const res = await get(`${url}/main.js`, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(res.status).to.equal(200);
    expect(res.headers['content-encoding']).to.equal('br');
    expect(res.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(res.headers.vary).to.equal('Accept-Encoding');
    expect(Number(res.headers['content-length']))
      .to.equal(res.body.length)
      .and.be.below(js.length / 10);
    expect(brotliDecompressSync(res.body).equals(js)).to.equal(true);
  });

  it('sends gzip when br is refused, and the file itself without Accept-Encoding', async () => {
    const gz = await get(`${url}/main.js`, { 'accept-encoding': 'br;q=0, gzip' });
    expect(gz.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(gz.body).equals(js)).to.equal(true);
    const plain = await get(`${url}/main.js`);
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(plain.headers.vary).to.equal('Accept-Encoding');
    expect(plain.body.equals(js)).to.equal(true);
  });

  it('serves index.html at /, WASM as application/wasm, and hashed chunks as immutable', async () => {
    const index = await get(`${url}/`, { 'accept-encoding': 'br' });
    expect(index.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(index.headers['cache-control']).to.equal('no-cache');
    expect((await get(`${url}/plain.wasm`)).headers['content-type']).to.equal('application/wasm');
    expect((await get(`${url}/chunks/a-HASH.js`)).headers['cache-control']).to.contain('immutable');
    const head = await get(`${url}/main.js`, { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.status).to.equal(200);
    expect(head.body.length).to.equal(0);
  });

  it('does not serve dot files, paths out of the folder or other methods', async () => {
    for (const path of ['/.hidden/secret.txt', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/missing.js'])
      expect((await get(`${url}${path}`)).status, path).to.equal(404);
    expect((await get(`${url}/main.js`, {}, 'POST')).status).to.equal(404);
  });

  it('reads Accept-Encoding with q-values and *', () => {
    expect([...acceptedEncodings('gzip, br;q=0')]).to.deep.equal(['gzip']);
    expect([...acceptedEncodings('*')].sort()).to.deep.equal(['br', 'gzip']);
    expect([...acceptedEncodings('*;q=0.5, gzip;q=0')]).to.deep.equal(['br']);
    expect([...acceptedEncodings(undefined)]).to.deep.equal([]);
    expect([...acceptedEncodings('identity')]).to.deep.equal(['identity']);
  });
});

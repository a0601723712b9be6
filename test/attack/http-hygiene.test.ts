/**
 * The attack suite, HTTP hygiene rows (a real server on 127.0.0.1 serving the repository's
 * models; raw sockets where `fetch` cannot lie): any-origin CORS, wrong admin tokens,
 * slow and oversized bodies, non-JSON bodies, KServe edge cases, and model files that are
 * symlinks leading out of the repository.
 */
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { REPO_ROOT, copyOfRepoModels } from './helpers.js';
import { rawRequest } from './http-raw.js';

const TOKEN = 'attack-suite-admin-token';
const GAME = 'https://game.example.com';
const EVIL = 'https://evil.example.net';
const FEATURES = 24;

describe('attack: HTTP hygiene', function () {
  this.timeout(60_000);
  let t: TestServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let outside: string;
  const url = (p: string) => `${t.server.url}${p}`;
  const port = () => t.server.port;
  const infer = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(url('/v2/models/npc-guard/infer'), { method: 'POST', headers, body: JSON.stringify(body) });

  before(async () => {
    ({ dir, cleanup } = await copyOfRepoModels());
    outside = await mkdtemp(join(tmpdir(), 'playmind-outside-'));
    const guard = await readFile(join(REPO_ROOT, 'models', 'npc-guard', 'manifest.json'), 'utf8');
    // A symlinked model file, a symlinked manifest and a symlinked model folder, all leading out.
    await mkdir(join(dir, 'leak', '1'), { recursive: true });
    await cp(join(REPO_ROOT, 'models', 'npc-guard', 'manifest.json'), join(outside, 'manifest.json'));
    await writeFile(join(outside, 'secret.txt'), 'root:x:0:0:root:/root:/bin/bash\n');
    await writeFile(join(dir, 'leak', 'manifest.json'), guard.replace('"name": "npc-guard"', '"name": "leak"'));
    await symlink(join(outside, 'secret.txt'), join(dir, 'leak', '1', 'model.onnx'));
    await mkdir(join(dir, 'badmanifest', '1'), { recursive: true });
    await cp(join(REPO_ROOT, 'models', 'npc-guard', '1', 'model.onnx'), join(dir, 'badmanifest', '1', 'model.onnx'));
    await symlink(join(outside, 'secret.txt'), join(dir, 'badmanifest', 'manifest.json'));
    await mkdir(join(outside, 'elsewhere', '1'), { recursive: true });
    await cp(join(REPO_ROOT, 'models', 'npc-guard', '1', 'model.onnx'), join(outside, 'elsewhere', '1', 'model.onnx'));
    await writeFile(
      join(outside, 'elsewhere', 'manifest.json'),
      guard.replace('"name": "npc-guard"', '"name": "elsewhere"'),
    );
    t = await startTestServer({
      modelsDir: dir,
      watch: false,
      adminToken: TOKEN,
      corsOrigins: [GAME],
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      maxJsonBodyBytes: 64 * 1024,
    });
    // Linked in after the start: only an admin load can reach it.
    await symlink(join(outside, 'elsewhere'), join(dir, 'elsewhere'));
  });

  after(async () => {
    await t?.server.close();
    await cleanup?.();
    await rm(outside, { recursive: true, force: true });
  });

  describe('CORS', () => {
    it('is not granted to any origin: no Access-Control-* header for an unlisted one, preflight included', async () => {
      for (const p of ['/v2/health/ready', '/v2/models/npc-guard', '/metrics', '/models/index.json']) {
        const r = await fetch(url(p), { headers: { origin: EVIL } });
        expect(r.headers.get('access-control-allow-origin'), p).to.equal(null);
        expect(r.headers.get('access-control-allow-credentials'), p).to.equal(null);
      }
      for (const p of ['/v2/models/npc-guard/infer', '/matchmake/create/arena', '/v2/repository/index']) {
        const pre = await fetch(url(p), {
          method: 'OPTIONS',
          headers: { origin: EVIL, 'access-control-request-method': 'POST' },
        });
        expect(pre.headers.get('access-control-allow-origin'), p).to.equal(null);
      }
    });

    it('is granted to the configured origin, never on admin routes or /metrics', async () => {
      const ok = await fetch(url('/v2/health/ready'), { headers: { origin: GAME } });
      expect(ok.headers.get('access-control-allow-origin')).to.equal(GAME);
      const pre = await fetch(url('/v2/models/npc-guard/infer'), {
        method: 'OPTIONS',
        headers: { origin: GAME, 'access-control-request-method': 'POST' },
      });
      expect(pre.status).to.equal(204);
      expect(pre.headers.get('access-control-allow-origin')).to.equal(GAME);
      for (const p of ['/metrics', '/v2/repository/index', '/v2/repository/models/npc-guard/load']) {
        const r = await fetch(url(p), { method: p === '/metrics' ? 'GET' : 'OPTIONS', headers: { origin: GAME } });
        expect(r.headers.get('access-control-allow-origin'), p).to.equal(null);
      }
    });

    it("is granted to the server's own origin (the demo's)", async () => {
      const own = `http://127.0.0.1:${port()}`;
      const r = await fetch(url('/v2/models/npc-guard'), { headers: { origin: own } });
      expect(r.headers.get('access-control-allow-origin')).to.equal(own);
    });
  });

  describe('WebSocket origin', () => {
    /** A seat in an inference room, reserved by matchmaking as a client would. */
    const seat = async () => {
      const r = await fetch(url('/matchmake/joinOrCreate/inference'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(r.status).to.equal(200);
      const { sessionId, roomId, processId } = (await r.json()) as Record<string, string>;
      return `/${processId}/${roomId}?sessionId=${sessionId}`;
    };
    const upgrade = (path: string, origin?: string) =>
      rawRequest(
        port(),
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          (origin ? `Origin: ${origin}\r\n` : '') +
          '\r\n',
        { waitMs: 800 },
      );

    it("refuses a foreign page's WebSocket (403, typed) and lets the configured, own and origin-less ones in", async () => {
      const refused = await upgrade(await seat(), EVIL);
      expect(refused.status).to.equal(403);
      const body = JSON.parse(refused.body) as { code: string; error: string };
      expect(body.code).to.equal('unauthorized');
      expect(body.error).to.contain('--cors-origin');
      for (const origin of [GAME, `http://127.0.0.1:${port()}`, undefined]) {
        const r = await upgrade(await seat(), origin);
        expect(r.status, String(origin)).to.equal(101);
      }
      const metrics = await (await fetch(url('/metrics'))).text();
      expect(metrics).to.match(/playmind_http_requests_total\{route="websocket",status="4xx"\} [1-9]/);
    });
  });

  describe('admin tokens', () => {
    it('throttles wrong guesses per address: 401 for the first few, then 429 with Retry-After, the right token too', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const r = await fetch(url('/v2/repository/index'), {
          method: 'POST',
          headers: { authorization: `Bearer guess-${i}-xxxxxxxx` },
        });
        statuses.push(r.status);
        if (r.status === 429) expect(Number(r.headers.get('retry-after'))).to.be.greaterThan(0);
        await r.arrayBuffer();
      }
      const unauthorized = statuses.filter((s) => s === 401).length;
      expect(unauthorized, statuses.join(',')).to.be.within(10, 12);
      expect(statuses.slice(-15).every((s) => s === 429)).to.equal(true);
      // Throttled, the address learns nothing: the right token gets 429 as well.
      const right = await fetch(url('/v2/repository/index'), {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(right.status).to.equal(429);
      const metrics = await (await fetch(url('/metrics'))).text();
      expect(metrics).to.match(/playmind_admin_auth_failures_total\{outcome="throttled"\} \d+/);
    });
  });

  describe('slow and oversized bodies', () => {
    it('closes a socket that trickles its headers (headersTimeout)', async () => {
      const r = await rawRequest(port(), 'GET /v2/health/live HTTP/1.1\r\nHost: x\r\n', {
        send: (s) => {
          const timer = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 200);
          s.on('close', () => clearInterval(timer));
        },
        waitMs: 8000,
      });
      expect(r.closed).to.equal(true);
      expect(r.ms).to.be.below(6000);
    });

    it('closes a socket that trickles its body (requestTimeout)', async () => {
      const r = await rawRequest(
        port(),
        'POST /v2/models/npc-guard/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n',
        {
          send: (s) => {
            const timer = setInterval(() => s.writable && s.write(' '), 200);
            s.on('close', () => clearInterval(timer));
          },
          waitMs: 9000,
        },
      );
      expect(r.closed).to.equal(true);
      expect(r.ms).to.be.below(7000);
      expect([0, 408]).to.include(r.status);
    });

    it('answers 413 by Content-Length before the body is sent, naming the binary extension, and closes', async () => {
      const r = await rawRequest(
        port(),
        'POST /v2/models/npc-guard/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n',
        { waitMs: 5000 },
      );
      expect(r.status).to.equal(413);
      expect(r.closed).to.equal(true);
      const body = JSON.parse(r.body) as { code: string; error: string };
      expect(body.code).to.equal('payload_too_large');
      expect(body.error).to.match(/Inference-Header-Content-Length/);
      // Any other route has a small limit.
      const other = await rawRequest(
        port(),
        'POST /matchmake/create/arena HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n',
        { waitMs: 5000 },
      );
      expect(other.status).to.equal(413);
    });

    it('cuts a chunked body off at the limit', async () => {
      let sent = 0;
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const r = await rawRequest(
        port(),
        'POST /v2/models/npc-guard/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        {
          send: (s) => {
            const timer = setInterval(() => {
              if (!s.writable || sent > 4 * 1024 * 1024) return;
              s.write(`${chunk.length.toString(16)}\r\n`);
              s.write(chunk);
              s.write('\r\n');
              sent += chunk.length;
            }, 2);
            s.on('close', () => clearInterval(timer));
          },
          waitMs: 8000,
        },
      );
      expect(r.status).to.equal(413);
      expect(r.closed).to.equal(true);
      expect(sent, 'bytes sent before the server closed').to.be.below(2 * 1024 * 1024);
    });

    it('parses JSON only for JSON content types (415 otherwise)', async () => {
      const body = {
        inputs: [{ name: 'obs', shape: [1, FEATURES], datatype: 'FP32', data: new Array(FEATURES).fill(0) }],
      };
      expect((await infer(body)).status).to.equal(200);
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const r = await infer(body, { 'content-type': type });
        expect(r.status, type).to.equal(415);
      }
    });
  });

  describe('KServe edge cases', () => {
    const one = (shape: number[], data: unknown[], datatype = 'FP32') => ({
      inputs: [{ name: 'obs', shape, datatype, data }],
    });
    it('0 next to a huge dimension: 400', async () => {
      for (const shape of [
        [0, 2 ** 40],
        [0, FEATURES, 2 ** 30, 2 ** 30],
        [2 ** 31, 0],
      ]) {
        const r = await infer(one(shape, []));
        expect(r.status, JSON.stringify(shape)).to.equal(400);
      }
    });
    it('FP32 overflow: 400', async () => {
      const r = await infer(one([1, FEATURES], [1e39, ...new Array(FEATURES - 1).fill(0)]));
      expect(r.status).to.equal(400);
      expect(((await r.json()) as { error: string }).error).to.match(/FP32|range/);
    });
    it('datatype names of Object.prototype: 400', async () => {
      for (const datatype of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf']) {
        const r = await infer(one([1, FEATURES], new Array(FEATURES).fill(0), datatype));
        expect(r.status, datatype).to.equal(400);
      }
    });
  });

  describe('model files leading out of the repository', () => {
    it('does not serve a model file that is a symlink to a file outside', async () => {
      const r = await fetch(url('/models/leak/1/model.onnx'));
      expect(r.status).to.equal(404);
      expect(await r.text()).to.not.match(/root:x/);
      const state = (await (await fetch(url('/v2/models/leak'))).json()) as { state: string; lastError: unknown };
      expect(state.state).to.not.equal('READY');
      expect(JSON.stringify(state)).to.not.match(/root:x|\/tmp\/|playmind-outside/);
    });

    it('a symlinked manifest: not read, and lastError shows neither its contents nor absolute paths', async () => {
      const text = await (await fetch(url('/v2/models/badmanifest'))).text();
      expect(text).to.match(/leads outside the model repository/);
      expect(text).to.not.match(/root:x|bin\/bash/);
      expect(text).to.not.include(dir);
      expect(text).to.not.include(outside);
      expect((await fetch(url('/models/badmanifest/manifest.json'))).status).to.equal(404);
    });

    it('admin load does not follow a symlinked folder out of the repository', async () => {
      // From another loopback address: the wrong-token test above throttled 127.0.0.1.
      const viaOtherAddress = await rawRequest(
        port(),
        `POST /v2/repository/models/elsewhere/load HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        { localAddress: '127.0.0.2', waitMs: 10_000 },
      );
      expect(viaOtherAddress.status).to.be.within(400, 499);
      expect(viaOtherAddress.body).to.match(/leads outside the model repository/);
      expect(viaOtherAddress.body).to.not.include(outside);
      expect(t.server.services.repository.state('elsewhere')?.state ?? 'none').to.not.equal('READY');
    });
  });
});

/**
 * The attack suite, HTTP admission row ("2,000 HTTP infer connections": 429 only after the
 * body was read, accepted requests answered past their deadline, /metrics slow), at a
 * bounded size against a real server on 127.0.0.1 with small bounds. Requests are held in
 * flight deterministically by sending an infer request's headers and never its body (the
 * front door admits on the headers, before the body is read); clients are told apart by
 * their source address (127.0.0.N, all routed to loopback). Speed is the benchmark's
 * (`test/bench/overload.ts`); this asserts the refusals and the answers.
 */
import type { Socket } from 'node:net';
import { expect } from '../helpers/chai.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';
import { copyOfRepoModels } from './helpers.js';
import { rawRequest, type RawReply } from './http-raw.js';

const FEATURES = 24;
const DEADLINE_MS = 6000;

describe('attack: HTTP admission', function () {
  this.timeout(60_000);
  let t: TestServer;
  let cleanup: () => Promise<void>;
  const held: Socket[] = [];

  before(async () => {
    let dir: string;
    ({ dir, cleanup } = await copyOfRepoModels());
    t = await startTestServer({
      modelsDir: dir,
      watch: false,
      maxInflight: 4,
      maxInflightPerClient: 2,
      maxDeadlineMs: DEADLINE_MS,
      requestTimeoutMs: 20_000,
    });
  });

  after(async () => {
    for (const s of held) s.destroy();
    await t?.server.close();
    await cleanup?.();
  });

  /** An infer request's head announcing a body of `length` bytes. */
  const head = (length: number) =>
    `POST /v2/models/npc-guard/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

  /** Sends only the head of an infer request from `address` and keeps the socket: the request stays in flight. */
  const hold = (address: string): Promise<RawReply> =>
    rawRequest(t.server.port, head(1000), {
      localAddress: address,
      send: (s) => void held.push(s),
      waitMs: DEADLINE_MS + 5000,
    });

  /** Sends only the head from `address` and reads what comes back without a body ever being sent. */
  const refusedBeforeBody = (address: string) =>
    rawRequest(t.server.port, head(1000), { localAddress: address, waitMs: 3000 });

  const inferBody = JSON.stringify({
    inputs: [{ name: 'obs', shape: [1, FEATURES], datatype: 'FP32', data: new Array(FEATURES).fill(0.25) }],
  });

  /** Every place back (nothing in flight), then an infer answered 200. */
  const servesAgain = async () => {
    await until(async () => (await admitted()) === 0);
    const ok = await fetch(`${t.server.url}/v2/models/npc-guard/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: inferBody,
    });
    expect(ok.status).to.equal(200);
    await ok.arrayBuffer();
  };

  const admitted = async () => {
    const n = metricValue(await (await fetch(`${t.server.url}/metrics`)).text(), 'playmind_inflight_requests', {});
    last = n;
    return n;
  };
  let last = -1;

  it('refuses past the per-client and per-process bounds at once, before the body, with Retry-After; health and /metrics stay prompt; held requests get 504 at their deadline', async () => {
    // Two requests in flight from one client fill its share; a third from it gets 429.
    const a1 = hold('127.0.0.21');
    const a2 = hold('127.0.0.21');
    await until(async () => (await admitted()) === 2);
    const overShare = await refusedBeforeBody('127.0.0.21');
    expect(overShare.status, overShare.body).to.equal(429);
    expect(Number(overShare.headers['retry-after'])).to.be.greaterThan(0);
    expect((JSON.parse(overShare.body) as { code: string }).code).to.equal('rate_limited');

    // Two more from another client fill the process; anyone else gets 503.
    const b1 = hold('127.0.0.22');
    const b2 = hold('127.0.0.22');
    await until(
      async () => (await admitted()) === 4,
      () => `in flight: ${last}`,
    );
    const full = await refusedBeforeBody('127.0.0.23');
    expect(full.status, full.body).to.equal(503);
    expect(Number(full.headers['retry-after'])).to.be.greaterThan(0);
    expect((JSON.parse(full.body) as { code: string }).code).to.equal('overloaded');

    // Health, metadata and /metrics go through no admission.
    for (const p of ['/v2/health/ready', '/v2/models/npc-guard', '/metrics']) {
      const r = await fetch(`${t.server.url}${p}`);
      expect(r.status, p).to.equal(200);
      await r.arrayBuffer();
    }

    // The held requests are answered at their deadline: 504, typed, and their places come back.
    for (const r of await Promise.all([a1, a2, b1, b2])) {
      expect(r.status, r.body).to.equal(504);
      expect((JSON.parse(r.body) as { code: string }).code).to.equal('deadline_exceeded');
    }
    await servesAgain();
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    expect(metricValue(metrics, 'playmind_admission_total', { outcome: 'client_limit' })).to.be.at.least(1);
    expect(metricValue(metrics, 'playmind_admission_total', { outcome: 'server_limit' })).to.be.at.least(1);
    expect(t.errors()).to.deep.equal([]);
  });

  it('answers a bounded burst of 200 infers from 8 clients with 200, 429 or 503 only, and serves again after it', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        rawRequest(
          t.server.port,
          head(Buffer.byteLength(inferBody)).replace('Host: 127.0.0.1', 'Host: 127.0.0.1\r\nConnection: close'),
          {
            localAddress: `127.0.0.${30 + (i % 8)}`,
            send: (s) => s.write(inferBody),
            waitMs: 10_000,
          },
        ).then((r) => r.status),
      ),
    );
    const counts: Record<number, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    expect(Object.keys(counts).map(Number).sort(), JSON.stringify(counts)).to.satisfy((codes: number[]) =>
      codes.every((c) => c === 200 || c === 429 || c === 503),
    );
    expect(counts[200] ?? 0, JSON.stringify(counts)).to.be.greaterThan(0);
    expect((counts[429] ?? 0) + (counts[503] ?? 0), JSON.stringify(counts)).to.be.greaterThan(0);
    await servesAgain();
    expect(t.errors()).to.deep.equal([]);
  });
});

/** Polls an async condition every 20 ms, failing after 10 s. */
async function until(cond: () => Promise<boolean>, what: () => string = () => ''): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for the admission count (${what()})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

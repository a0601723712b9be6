/**
 * The load generator of the overload benchmark (`overload.ts`), run as its own process
 * so the load does not share the server's event loop (nor the bench's):
 *
 *   node --import tsx test/bench/overload-load.ts '<json LoadSpec>'
 *
 * It posts one infer body to the server for `durationMs` and prints one JSON line (a
 * {@link LoadReport}) on stdout. Each simulated client is its own source address
 * (127.0.0.N: Linux routes all of 127.0.0.0/8 to lo) with its own keep-alive agent, so the
 * server's per-client bound sees many clients, as it would on a network.
 * - `closed`: `concurrency` loops (spread over the clients), each sending its next request
 *   when the previous one is answered;
 * - `open`: arrivals at `rate` per second whatever the answers (round robin over the
 *   clients), as the public sends under overload.
 * While it runs, `/metrics` and `/v2/health/ready` are fetched every `probeMs` from one
 * more address, and their latencies reported.
 */
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';

/** What to send. */
export interface LoadSpec {
  /** `http://127.0.0.1:port` */
  url: string;
  /** The infer path, e.g. `/v2/models/heavy/infer`. */
  path: string;
  /** The JSON body of every request. */
  body: string;
  mode: 'closed' | 'open';
  /** Requests answered before this (ms from the start) are not reported. */
  warmupMs: number;
  durationMs: number;
  /** Simulated clients (source addresses 127.0.0.10, .11, ...). */
  clients: number;
  /** closed: requests in flight at any time. */
  concurrency?: number;
  /** open: arrivals per second. */
  rate?: number;
  /** Interval of the `/metrics` and health probes (0: none). */
  probeMs: number;
  /** A request unanswered after this is counted as `timeout` (ms). */
  timeoutMs: number;
}

/** What the generator measured (requests that started after the warm-up). */
export interface LoadReport {
  /**
   * `[status, latency ms, answered at (ms from the start)]` per request; status 0 is a
   * transport error, -1 a client timeout.
   */
  requests: Array<[number, number, number]>;
  /** Seconds over which `requests` were sent. */
  windowS: number;
  metricsMs: number[];
  healthMs: number[];
  /** Transport errors by message. */
  errors: Record<string, number>;
}

const firstAddress = 10;
const address = (i: number) => `127.0.0.${firstAddress + i}`;

/** One request; resolves to its status (0: error, -1: timeout) and latency. */
function send(
  spec: LoadSpec,
  agent: Agent,
  localAddress: string,
  method: 'GET' | 'POST',
  path: string,
  errors: Record<string, number>,
): Promise<[number, number]> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      resolve([status, performance.now() - t0]);
    };
    const u = new URL(path, spec.url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method,
        agent,
        localAddress,
        headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
        timeout: spec.timeoutMs,
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => finish(res.statusCode ?? 0));
        res.on('error', () => finish(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      finish(-1);
    });
    req.on('error', (err) => {
      errors[err.message] = (errors[err.message] ?? 0) + 1;
      finish(0);
    });
    req.end(method === 'POST' ? spec.body : undefined);
  });
}

/** Runs the load a spec describes. */
export async function runLoad(spec: LoadSpec): Promise<LoadReport> {
  const agents = Array.from({ length: spec.clients }, () => new Agent({ keepAlive: true, maxSockets: Infinity }));
  const errors: Record<string, number> = {};
  const requests: Array<[number, number, number]> = [];
  const start = performance.now();
  const end = start + spec.durationMs;
  const measureFrom = start + spec.warmupMs;
  const pending = new Set<Promise<unknown>>();
  const one = (i: number) => {
    const at = performance.now();
    const p = send(spec, agents[i]!, address(i), 'POST', spec.path, errors).then((r) => {
      if (at >= measureFrom) requests.push([r[0], r[1], performance.now() - start]);
      pending.delete(p);
    });
    pending.add(p);
    return p;
  };

  const probeAgent = new Agent({ keepAlive: true });
  const metricsMs: number[] = [];
  const healthMs: number[] = [];
  let probing = spec.probeMs > 0;
  const probes = (async () => {
    const probeAddress = address(spec.clients);
    while (probing && performance.now() < end) {
      await new Promise((r) => setTimeout(r, spec.probeMs));
      const measured = performance.now() >= measureFrom;
      const [m, health] = await Promise.all([
        send(spec, probeAgent, probeAddress, 'GET', '/metrics', errors),
        send(spec, probeAgent, probeAddress, 'GET', '/v2/health/ready', errors),
      ]);
      if (measured) {
        metricsMs.push(m[0] === 200 ? m[1] : Infinity);
        healthMs.push(health[0] === 200 ? health[1] : Infinity);
      }
    }
  })();

  if (spec.mode === 'closed') {
    const loops = Array.from({ length: spec.concurrency ?? spec.clients }, async (_, k) => {
      while (performance.now() < end) await one(k % spec.clients);
    });
    await Promise.all(loops);
  } else {
    const rate = spec.rate ?? 1;
    let sent = 0;
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const t = performance.now();
        if (t >= end) {
          resolve();
          return;
        }
        const due = Math.floor(((t - start) / 1000) * rate);
        while (sent < due) {
          void one(next);
          next = (next + 1) % spec.clients;
          sent++;
        }
        setTimeout(tick, 2);
      };
      tick();
    });
  }
  probing = false;
  await probes;
  await Promise.all(pending);
  for (const a of [...agents, probeAgent]) a.destroy();
  return { requests, windowS: (spec.durationMs - spec.warmupMs) / 1000, metricsMs, healthMs, errors };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  const report = await runLoad(spec);
  // Exit only once the (large) line is flushed to the pipe.
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
}

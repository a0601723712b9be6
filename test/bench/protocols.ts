/**
 * The same single-row inference of the shipped npc-guard (24 floats in, its two
 * outputs back) over each way a client can reach the server: KServe v2 gRPC
 * (`ModelInfer` with raw contents, a generic client from the `.proto`), KServe v2 REST
 * with JSON tensors, REST with the binary tensor data extension, and the `inference`
 * room (`RemoteRoute.run`, WebSocket). Two loads each:
 *
 * - one request in flight: one client, closed loop (the next request when the reply is
 *   in), as Triton's perf_analyzer measures at concurrency 1;
 * - 100 clients, each its own connection, each sending 20 requests/s on its own jittered
 *   schedule (open loop, as `remote.ts`).
 *
 * The server runs in a child process (`--grpc-port 0`) so the clients do not share its
 * event loop. Next to the figures: Triton's published result for one request in flight
 * over HTTP (perf_analyzer quick start, model `simple`: avg 0.71 ms, p99 1.03 ms), from
 * another machine and another model: indicative only.
 *
 *   npm run bench -- protocols
 *
 * Environment: BENCH_PROTOCOLS_MS (length of each load window, default 5000),
 * BENCH_REMOTE_CLIENTS (default 100), BENCH_REMOTE_RATE (requests/s per client, default 20).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PlaymindError } from '../../sdk/protocol.js';
import type { RemoteRoute } from '../../sdk/routes/remote.js';
import {
  closeRoutes,
  connectRoutes,
  observationRows,
  pacedLoad,
  startChildServer,
  within,
  type BenchServer,
  type Call,
  type LoadResult,
} from './remote.js';
import { fmtInt, fmtMs, markdownTable, percentile, type BenchContext, type BenchTable } from './table.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '..', '..');
const MODEL = 'npc-guard';
const FEATURES = 24;
const PROTO = join(root, 'server', 'grpc', 'proto', 'open_inference_grpc.proto');
/** Triton's perf_analyzer quick start (`perf_analyzer -m simple`, HTTP, concurrency 1). */
const TRITON = { avg: 0.71, p99: 1.03 };

const envNum = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const WINDOW_MS = envNum('BENCH_PROTOCOLS_MS', 5000);
const CLIENTS = Math.round(envNum('BENCH_REMOTE_CLIENTS', 100));
const RATE = envNum('BENCH_REMOTE_RATE', 20);
const CALL_TIMEOUT_MS = 2000;
const now = () => performance.now();

/** A way of reaching the server: makes `count` clients (each its own connection). */
interface Protocol {
  label: string;
  connect(server: BenchServer, count: number): Promise<{ calls: Call[]; close(): Promise<void> }>;
}

// ---------------------------------------------------------------------------
// Clients

type InferClient = grpc.Client & {
  ModelInfer(
    req: object,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res: { raw_output_contents: Buffer[] }) => void,
  ): void;
};

const grpcRaw: Protocol = {
  label: 'gRPC `ModelInfer`, raw contents',
  async connect(server, count) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true })) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    // A local subchannel pool per client: its own HTTP/2 connection, as separate processes would have.
    const clients = Array.from(
      { length: count },
      () =>
        new pkg.inference.GRPCInferenceService(server.grpc!, grpc.credentials.createInsecure(), {
          'grpc.use_local_subchannel_pool': 1,
        }) as unknown as InferClient,
    );
    await Promise.all(
      clients.map(
        (c) => new Promise<void>((res, rej) => c.waitForReady(Date.now() + 10_000, (e) => (e ? rej(e) : res()))),
      ),
    );
    const calls: Call[] = clients.map(
      (c) => (row) =>
        new Promise((res, rej) => {
          c.ModelInfer(
            {
              model_name: MODEL,
              inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, FEATURES] }],
              raw_input_contents: [Buffer.from(row.buffer, row.byteOffset, row.byteLength)],
            },
            { deadline: Date.now() + CALL_TIMEOUT_MS },
            (err, r) =>
              err ? rej(err) : res(r.raw_output_contents.map((b) => new Float32Array(new Uint8Array(b).buffer))),
          );
        }),
    );
    return { calls, close: async () => clients.forEach((c) => c.close()) };
  },
};

/** One keep-alive HTTP/1.1 connection per client (node:http, no client library in between). */
function post(
  agent: Agent,
  url: URL,
  headers: Record<string, string | number>,
  body: Buffer,
): Promise<{ body: Buffer; headerLength: number | undefined }> {
  return new Promise((res, rej) => {
    const req = httpRequest(url, { method: 'POST', agent, headers, timeout: CALL_TIMEOUT_MS }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const out = Buffer.concat(chunks);
        const hl = r.headers['inference-header-content-length'];
        if (r.statusCode === 200) res({ body: out, headerLength: hl === undefined ? undefined : Number(hl) });
        else rej(new PlaymindError('internal', `HTTP ${r.statusCode}: ${out.toString().slice(0, 200)}`));
      });
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new PlaymindError('deadline_exceeded', 'no reply in time')));
    req.on('error', rej);
    req.end(body);
  });
}

function restProtocol(
  label: string,
  encode: (row: Float32Array) => { headers: Record<string, string | number>; body: Buffer },
  decode: (b: Buffer, headerLength: number | undefined) => unknown,
): Protocol {
  return {
    label,
    async connect(server, count) {
      const url = new URL(`/v2/models/${MODEL}/infer`, server.url);
      const agents = Array.from({ length: count }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
      const calls: Call[] = agents.map((agent) => async (row) => {
        const { headers, body } = encode(row);
        const r = await post(agent, url, headers, body);
        return decode(r.body, r.headerLength);
      });
      return { calls, close: async () => agents.forEach((a) => a.destroy()) };
    },
  };
}

const restJson = restProtocol(
  'REST `/infer`, JSON',
  (row) => ({
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(
      JSON.stringify({ inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, FEATURES], data: Array.from(row) }] }),
    ),
  }),
  (b) => (JSON.parse(b.toString('utf8')) as { outputs: Array<{ data: number[] }> }).outputs.map((o) => o.data),
);

/** The binary tensor data extension: JSON header, then the row's 96 bytes; the outputs come back as bytes too. */
const restBinary = restProtocol(
  'REST `/infer`, binary tensors',
  (row) => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'obs', datatype: 'FP32', shape: [1, FEATURES], parameters: { binary_data_size: row.byteLength } },
        ],
        parameters: { binary_data_output: true },
      }),
    );
    return {
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': header.byteLength },
      body: Buffer.concat([header, Buffer.from(row.buffer, row.byteOffset, row.byteLength)]),
    };
  },
  (b, headerLength) => {
    const n = headerLength ?? b.byteLength;
    const head = JSON.parse(b.subarray(0, n).toString('utf8')) as {
      outputs: Array<{ parameters: { binary_data_size: number } }>;
    };
    let at = n;
    return head.outputs.map((o) => {
      const size = o.parameters.binary_data_size;
      const out = new Float32Array(new Uint8Array(b.subarray(at, at + size)).buffer);
      at += size;
      return out;
    });
  },
);

const room: Protocol = {
  label: 'inference room, `run` (WebSocket)',
  async connect(server, count) {
    const routes: RemoteRoute[] = await connectRoutes(server.url, count);
    const calls: Call[] = routes.map(
      (r) => (row) => r.run(MODEL, { obs: { type: 'float32', data: row, dims: [1, FEATURES] } }),
    );
    return { calls, close: () => closeRoutes(routes) };
  },
};

// ---------------------------------------------------------------------------
// Loads

/** One client, one request in flight, for `ms`. */
async function serialLoad(call: Call, ms: number, rows: readonly Float32Array[]): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let sent = 0;
  const t0 = now();
  while (now() - t0 < ms) {
    const start = now();
    sent++;
    try {
      await call(rows[sent % rows.length]!);
      latencies.push(now() - start);
    } catch (err) {
      const code = err instanceof PlaymindError ? err.code : ((err as Error)?.name ?? 'unknown');
      errors.set(code, (errors.get(code) ?? 0) + 1);
    }
  }
  const none = { p50: NaN, p99: NaN, max: NaN };
  return { latencies, sendDelays: [], sent, errors, windowMs: now() - t0, clientLag: none, clientCpu: NaN };
}

interface Row {
  protocol: string;
  clients: number;
  load: LoadResult;
}

async function measure(
  ctx: BenchContext,
  server: BenchServer,
  p: Protocol,
  rows: readonly Float32Array[],
): Promise<Row[]> {
  const out: Row[] = [];
  {
    const { calls, close } = await p.connect(server, 1);
    try {
      for (let i = 0; i < 200; i++) await calls[0]!(rows[i % rows.length]!);
      ctx.log(`${p.label}: 1 request in flight for ${(WINDOW_MS / 1000).toFixed(0)} s`);
      out.push({ protocol: p.label, clients: 1, load: await serialLoad(calls[0]!, WINDOW_MS, rows) });
    } finally {
      await close();
    }
  }
  {
    ctx.log(`${p.label}: connecting ${CLIENTS} clients`);
    const { calls, close } = await p.connect(server, CLIENTS);
    try {
      await pacedLoad(calls, RATE, Math.min(1000, WINDOW_MS / 5), rows, 99);
      ctx.log(`${p.label}: ${CLIENTS} × ${RATE} req/s for ${(WINDOW_MS / 1000).toFixed(0)} s`);
      out.push({ protocol: p.label, clients: CLIENTS, load: await pacedLoad(calls, RATE, WINDOW_MS, rows, CLIENTS) });
    } finally {
      await close();
    }
  }
  return out;
}

function table(rows: readonly Row[]): BenchTable {
  const ms = (x: number) => (Number.isFinite(x) ? fmtMs(x) : '—');
  const avg = (l: readonly number[]) => l.reduce((a, b) => a + b, 0) / Math.max(1, l.length);
  const errorText = (l: LoadResult) =>
    l.errors.size === 0 ? '0' : [...l.errors.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
  return {
    title: `One single-row \`${MODEL}\` inference per request: gRPC vs REST vs the inference room`,
    columns: ['protocol', 'load', 'requests', 'achieved req/s', 'errors', 'avg ms', 'p50 ms', 'p99 ms'],
    rows: [
      ...rows.map((r) => [
        r.protocol,
        r.clients === 1 ? '1 in flight' : `${r.clients} clients × ${RATE} req/s`,
        fmtInt(r.load.sent),
        fmtInt((r.load.latencies.length / r.load.windowMs) * 1000),
        errorText(r.load),
        ms(avg(r.load.latencies)),
        ms(percentile(r.load.latencies, 50)),
        ms(percentile(r.load.latencies, 99)),
      ]),
      [
        'Triton, HTTP (published; another machine and model)',
        '1 in flight',
        '—',
        '—',
        '—',
        ms(TRITON.avg),
        '—',
        ms(TRITON.p99),
      ],
    ],
    notes: [
      `Server: \`server/main.ts\` in a child process on 127.0.0.1 with \`--grpc-port 0\`, the shipped \`models/${MODEL}\`; latency from the call to its decoded reply, in the client process. Each client is its own connection (gRPC: its own channel and HTTP/2 connection; REST: a keep-alive \`node:http\` agent with one socket; the room: its own \`RemoteRoute\` WebSocket).`,
      `"1 in flight": one client, closed loop, after 200 warm-up calls. "${CLIENTS} clients": open loop, each on its own schedule (${fmtMs(1000 / RATE)} ms ± 50 %), after a short warm-up at the same pacing. Errors: rejected calls or no reply within ${CALL_TIMEOUT_MS} ms.`,
      `Triton: the perf_analyzer quick start (\`perf_analyzer -m simple\`: two INT32[1,16] inputs, HTTP, concurrency 1), avg ${TRITON.avg} ms, p99 ${TRITON.p99} ms, measured on NVIDIA's machine: a reference point, not a comparison.`,
      `Machine: ${cpus().length} CPUs, load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' / ')} (1 / 5 / 15 min) at the end; clients and server share these cores.`,
    ],
  };
}

/** Entry point of `npm run bench` (test/bench/run.ts). */
export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  const rows = observationRows(256);
  const tmp = await mkdtemp(join(tmpdir(), 'playmind-protocols-bench-'));
  const results: Row[] = [];
  try {
    ctx.log('starting the server in a child process (--grpc-port 0)');
    const server = await startChildServer(join(root, 'models'), join(tmp, 'telemetry.jsonl'), ['--grpc-port', '0']);
    try {
      if (!server.grpc) throw new Error('the server did not report its gRPC address');
      for (const p of [grpcRaw, restJson, restBinary, room]) results.push(...(await measure(ctx, server, p, rows)));
    } finally {
      await within(server.close(), 10_000, undefined);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return [table(results)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tables = await bench({ repetitions: 1, log: (m) => process.stderr.write(`  · ${m}\n`) });
  process.stdout.write(`${tables.map(markdownTable).join('\n\n')}\n`);
  process.exit(0);
}

/**
 * Remote inference benchmark (issue 4, "Benchmark"): the round trip of a
 * single-row `decide` through the server's `inference` room over loopback, with
 * 1 and with 100 concurrent clients at 20 requests/s each, next to the same call
 * in local mode; event-loop lag of the server and of the client process under
 * that load; achieved rate and errors. Goal: p99 < 5 ms.
 *
 * The server runs in a child process (`node --import tsx server/main.ts`) so the
 * load-generating clients do not share its event loop; one extra scenario runs
 * it in-process (`startTestServer`) to show what sharing the loop costs. Every
 * client is its own {@link RemoteRoute} (its own WebSocket). Load is open-loop:
 * each client sends on its own schedule (mean 50 ms apart, uniformly jittered
 * ±50 %), whether or not earlier replies are back. Latency is measured from the
 * `decide` call to its reply; how late the client's timers fired is reported
 * apart ("send delay").
 *
 *   npm run bench -- remote
 *   npx tsx test/bench/remote.ts
 *
 * Environment: BENCH_REMOTE_MS (length of a headline scenario, default 10000; the
 * extra scenarios run half as long), BENCH_REMOTE_CLIENTS (default 100),
 * BENCH_REMOTE_RATE (requests/s per client, default 20),
 * BENCH_REMOTE_QUEUE_DELAY_MS (when set, every scenario serves a copy of the
 * model whose manifest's `batching.maxQueueDelayMs` is this value; the shipped
 * manifest's own value otherwise — it overrides the server's `--batch-delay-ms`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createBrain, silentLogger } from '../../sdk/index.js';
import { PlaymindError } from '../../sdk/protocol.js';
import { RemoteRoute } from '../../sdk/routes/remote.js';
import { metricValue, prng, startTestServer } from '../helpers/server.js';
import { fmtInt, fmtMs, markdownTable, percentile, type BenchContext, type BenchTable } from './table.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '..', '..');
const MODEL = 'npc-guard';
const FEATURES = 24;
const GOAL_P99_MS = 5;

const envNum = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const SCENARIO_MS = envNum('BENCH_REMOTE_MS', 10_000);
const CLIENTS = Math.round(envNum('BENCH_REMOTE_CLIENTS', 100));
const RATE = envNum('BENCH_REMOTE_RATE', 20);
const WARMUP_MS = Math.min(1000, SCENARIO_MS / 10);
/** Idle window over which the server's "before" event-loop lag is read. */
const IDLE_MS = 1000;
/** Bounds on everything that waits for another process or socket. */
const START_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
/** A reply later than this is an error (`deadline_exceeded`) rather than a latency. */
const CALL_TIMEOUT_MS = 2_000;

const now = () => performance.now();

/** Resolves to `fallback` when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((res) => {
    timer = setTimeout(() => res(fallback), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Observation rows of the npc-guard contract (24 features in [0, 1]), fixed seed. */
export function observationRows(count: number): Float32Array[] {
  const rand = prng(7);
  return Array.from({ length: count }, () => Float32Array.from({ length: FEATURES }, () => rand()));
}

// ---------------------------------------------------------------------------
// Load generation

/** One client: sends one single-row decide and resolves with its reply. */
export type Call = (row: Float32Array) => Promise<unknown>;

/** What a paced run measured. */
export interface LoadResult {
  /** Round trips of the calls that succeeded, ms. */
  latencies: number[];
  /** How late each send was against its schedule (client timer lateness), ms. */
  sendDelays: number[];
  sent: number;
  errors: Map<string, number>;
  windowMs: number;
  /** Event-loop delay of this (client) process during the run, ms (resolution 1 ms). */
  clientLag: { p50: number; p99: number; max: number };
  /** CPU time of this process during the run, as a share of one core. */
  clientCpu: number;
}

/**
 * Open-loop, paced load: every caller sends `rate` requests/s on its own jittered
 * schedule for `ms`, never waiting for earlier replies; then waits for the
 * replies still in flight (each bounded by the route's timeout).
 */
export async function pacedLoad(
  calls: readonly Call[],
  rate: number,
  ms: number,
  rows: readonly Float32Array[],
  seed: number,
): Promise<LoadResult> {
  const rand = prng(seed);
  const period = 1000 / rate;
  const latencies: number[] = [];
  const sendDelays: number[] = [];
  const errors = new Map<string, number>();
  const inflight: Promise<void>[] = [];
  let sent = 0;
  const lag = monitorEventLoopDelay({ resolution: 1 });
  const cpu0 = process.cpuUsage();
  lag.enable();
  const t0 = now();
  const end = t0 + ms;
  const callerDone = calls.map(
    (call, c) =>
      new Promise<void>((done) => {
        let due = t0 + rand() * period;
        const fire = () => {
          const start = now();
          sendDelays.push(start - due);
          sent++;
          const row = rows[(sent + c) % rows.length]!;
          let p: Promise<unknown>;
          try {
            p = call(row);
          } catch (err) {
            p = Promise.reject(err);
          }
          inflight.push(
            p.then(
              () => {
                latencies.push(now() - start);
              },
              (err: unknown) => {
                const code = err instanceof PlaymindError ? err.code : ((err as Error)?.name ?? 'unknown');
                errors.set(code, (errors.get(code) ?? 0) + 1);
              },
            ),
          );
          due += period * (0.5 + rand());
          if (due >= end) done();
          else setTimeout(fire, Math.max(0, due - now()));
        };
        setTimeout(fire, Math.max(0, due - now()));
      }),
  );
  await Promise.all(callerDone);
  const windowMs = now() - t0;
  await Promise.all(inflight);
  lag.disable();
  const cpu = process.cpuUsage(cpu0);
  return {
    latencies,
    sendDelays,
    sent,
    errors,
    windowMs,
    clientLag: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    clientCpu: (cpu.user + cpu.system) / 1000 / windowMs,
  };
}

// ---------------------------------------------------------------------------
// Servers

/** A running server the bench talks to. */
export interface BenchServer {
  /** `http://127.0.0.1:port` */
  url: string;
  /** The gRPC service's `host:port`, when the server was started with `--grpc-port`. */
  grpc?: string;
  /** Log records at warn or above (child: counted from its stdout). */
  warnings(): number;
  close(): Promise<void>;
}

/**
 * Starts `server/main.ts` in a child process on 127.0.0.1, port 0; resolves once it logs its port.
 * @param extraArgs - more flags (e.g. `--grpc-port 0`)
 * @param extraEnv - more environment (e.g. `ADMIN_TOKEN`, which is otherwise left out)
 * @param nodeArgs - flags for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not take)
 */
export async function startChildServer(
  modelsDir: string,
  telemetryFile: string,
  extraArgs: readonly string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
  nodeArgs: readonly string[] = [],
): Promise<BenchServer> {
  const args = [
    ...nodeArgs,
    '--import',
    'tsx',
    join(root, 'server', 'main.ts'),
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--models',
    modelsDir,
    '--no-watch',
    '--demo',
    join(tmpdir(), 'playmind-bench-no-demo'),
    '--telemetry',
    telemetryFile,
    '--log-level',
    'info',
    ...extraArgs,
  ];
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.ADMIN_TOKEN;
  Object.assign(env, extraEnv);
  const child: ChildProcess = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let warnings = 0;
  const stderr: string[] = [];
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 20) stderr.shift();
  });
  let grpc: string | undefined;
  const listening = new Promise<string>((res, rej) => {
    // Keep reading stdout for the whole run: a full pipe would block the server.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let rec: { level?: number; msg?: string; url?: string; grpc?: string };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        return;
      }
      if ((rec.level ?? 0) >= 40 && !/demo game is not built/.test(rec.msg ?? '')) warnings++;
      if (rec.msg === 'playmind server listening' && typeof rec.url === 'string') {
        grpc = rec.grpc;
        res(rec.url);
      }
    });
    void exited.then((code) =>
      rej(new Error(`the server exited (code ${code}) before listening:\n${stderr.join('\n')}`)),
    );
  });
  const url = await within(listening, START_TIMEOUT_MS, '');
  const close = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    if ((await within<number | null | 'timeout'>(exited, CLOSE_TIMEOUT_MS, 'timeout')) === 'timeout') {
      child.kill('SIGKILL');
      await within(exited, CLOSE_TIMEOUT_MS, null);
    }
  };
  if (url === '') {
    await close();
    throw new Error(`the server did not log its port within ${START_TIMEOUT_MS} ms:\n${stderr.join('\n')}`);
  }
  return { url, ...(grpc ? { grpc } : {}), warnings: () => warnings, close };
}

/** Starts the server in this process (it shares the clients' event loop). */
async function startInProcessServer(modelsDir: string, telemetryFile: string): Promise<BenchServer> {
  const t = await startTestServer({ modelsDir, watch: false, telemetryFile });
  const counted = () => t.logs.filter((l) => !/demo game is not built/.test(l.msg ?? '')).length;
  return { url: t.server.url, warnings: counted, close: () => t.server.close() };
}

/** Connects `count` routes (each its own WebSocket), a few at a time. */
export async function connectRoutes(url: string, count: number): Promise<RemoteRoute[]> {
  const routes = Array.from({ length: count }, () => new RemoteRoute({ url, timeoutMs: CALL_TIMEOUT_MS }));
  const connectAll = async () => {
    for (let i = 0; i < routes.length; i += 20) await Promise.all(routes.slice(i, i + 20).map((r) => r.connect()));
  };
  try {
    if (
      !(await within(
        connectAll().then(() => true),
        CONNECT_TIMEOUT_MS,
        false,
      ))
    )
      throw new Error(`could not connect ${count} clients within ${CONNECT_TIMEOUT_MS} ms`);
  } catch (err) {
    await closeRoutes(routes);
    throw err;
  }
  return routes;
}

export async function closeRoutes(routes: readonly RemoteRoute[]): Promise<void> {
  await within(Promise.all(routes.map((r) => r.close().catch(() => undefined))), CLOSE_TIMEOUT_MS, []);
}

// ---------------------------------------------------------------------------
// Server metrics

/** A `/metrics` scrape. Scraping also resets prom-client's event-loop histogram, so two scrapes bound a window. */
async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  return res.text();
}

/** Event-loop delay the server saw since the previous scrape, ms (prom-client, resolution 1 ms). */
function serverLag(text: string): { p50: number; p99: number; max: number } {
  return {
    p50: metricValue(text, 'nodejs_eventloop_lag_p50_seconds') * 1000,
    p99: metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    max: metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

/** Cumulative bucket counts of a histogram between two scrapes. */
function bucketDelta(
  before: string,
  after: string,
  name: string,
  labels: Record<string, string>,
): { le: number; count: number }[] {
  const les = new Set<string>();
  for (const m of after.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"`, 'gm'))) les.add(m[1]!);
  return [...les]
    .map((le) => ({
      le: le === '+Inf' ? Infinity : Number(le),
      count:
        metricValue(after, `${name}_bucket`, { ...labels, le }) -
        metricValue(before, `${name}_bucket`, { ...labels, le }),
    }))
    .sort((a, b) => a.le - b.le);
}

/** A quantile from cumulative buckets, interpolated within the bucket (as Prometheus' histogram_quantile). */
function bucketQuantile(buckets: readonly { le: number; count: number }[], q: number): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / Math.max(1, b.count - prevCount));
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** What the server's own metrics say about a load window. */
interface ServerSide {
  lagIdle: { p50: number; p99: number; max: number };
  lagLoad: { p50: number; p99: number; max: number };
  /** Engine time per request (queue + run), ms. */
  engineP50: number;
  engineP99: number;
  queueP99: number;
  /** Mean rows per model run. */
  batchRows: number;
  /** Requests the server answered with an error in the window. */
  errors: number;
  /** Server CPU time as a share of one core. */
  cpu: number;
}

function serverSide(loadStart: string, loadEnd: string, windowMs: number): ServerSide {
  const m = { model: MODEL };
  const delta = (name: string, labels: Record<string, string> = {}) =>
    metricValue(loadEnd, name, labels) - metricValue(loadStart, name, labels);
  const latency = bucketDelta(loadStart, loadEnd, 'playmind_inference_latency_seconds', m);
  const queue = bucketDelta(loadStart, loadEnd, 'playmind_inference_queue_seconds', m);
  const runs = delta('playmind_inference_batch_rows_count', m);
  const okRemote = delta('playmind_requests_total', { frontend: 'remote', model: MODEL, outcome: 'ok' });
  return {
    lagIdle: serverLag(loadStart),
    lagLoad: serverLag(loadEnd),
    engineP50: bucketQuantile(latency, 0.5) * 1000,
    engineP99: bucketQuantile(latency, 0.99) * 1000,
    queueP99: bucketQuantile(queue, 0.99) * 1000,
    batchRows: runs > 0 ? delta('playmind_inference_batch_rows_sum', m) / runs : NaN,
    errors: delta('playmind_requests_total', { frontend: 'remote' }) - okRemote,
    cpu: (delta('process_cpu_seconds_total') * 1000) / windowMs,
  };
}

// ---------------------------------------------------------------------------
// Scenarios

/**
 * The models folder every scenario serves: `./models`, or (BENCH_REMOTE_QUEUE_DELAY_MS)
 * a copy of the policy whose manifest names another batching window.
 */
async function benchModels(tmp: string): Promise<{ dir: string; queueDelayMs: number | string }> {
  const shipped = join(root, 'models');
  const read = async (dir: string) =>
    JSON.parse(await readFile(join(dir, MODEL, 'manifest.json'), 'utf8')) as {
      batching?: { maxQueueDelayMs?: number };
    };
  const override = process.env.BENCH_REMOTE_QUEUE_DELAY_MS;
  if (override === undefined || override === '') {
    return { dir: shipped, queueDelayMs: (await read(shipped)).batching?.maxQueueDelayMs ?? 'the server default' };
  }
  const delay = Number(override);
  if (!Number.isFinite(delay) || delay < 0)
    throw new RangeError(`BENCH_REMOTE_QUEUE_DELAY_MS must be a number >= 0, got "${override}"`);
  const dir = join(tmp, 'models');
  await cp(join(shipped, MODEL), join(dir, MODEL), { recursive: true });
  const manifest = await read(dir);
  manifest.batching = { ...manifest.batching, maxQueueDelayMs: delay };
  await writeFile(join(dir, MODEL, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return { dir, queueDelayMs: delay };
}

/** One measured scenario. */
interface Scenario {
  label: string;
  where: string;
  clients: number;
  load: LoadResult;
  server?: ServerSide;
}

async function warmUp(calls: readonly Call[], rows: readonly Float32Array[]): Promise<void> {
  // A few calls each, then a short paced run: JIT, sockets and the engine queue are warm.
  for (let i = 0; i < 3; i++) await Promise.all(calls.map((c, j) => c(rows[(i + j) % rows.length]!)));
  await pacedLoad(calls, RATE, WARMUP_MS, rows, 99);
}

/** Runs one remote scenario against a server: connect, warm up, idle window, load window. */
async function remoteScenario(
  ctx: BenchContext,
  server: BenchServer,
  label: string,
  where: string,
  clients: number,
  ms: number,
  rows: readonly Float32Array[],
): Promise<Scenario> {
  ctx.log(`${label}: connecting ${clients} client${clients === 1 ? '' : 's'}`);
  const routes = await connectRoutes(server.url, clients);
  try {
    const calls: Call[] = routes.map((r) => (row) => r.decide(MODEL, { rows: row, n: 1 }));
    await warmUp(calls, rows);
    await scrape(server.url); // starts the idle window
    await new Promise<void>((res) => setTimeout(res, IDLE_MS));
    const loadStart = await scrape(server.url);
    ctx.log(`${label}: ${clients} × ${RATE} req/s for ${(ms / 1000).toFixed(0)} s`);
    const load = await pacedLoad(calls, RATE, ms, rows, clients);
    const loadEnd = await scrape(server.url);
    return { label, where, clients, load, server: serverSide(loadStart, loadEnd, load.windowMs) };
  } finally {
    await closeRoutes(routes);
  }
}

/** The same call in local mode: `createBrain({ mode: 'local' })` in this process, same pacing. */
async function localScenario(
  ctx: BenchContext,
  modelsDir: string,
  clients: number,
  ms: number,
  rows: readonly Float32Array[],
): Promise<Scenario> {
  const brain = await createBrain({ mode: 'local', models: modelsDir, logger: silentLogger });
  try {
    const policy = brain.policy(MODEL);
    const calls: Call[] = Array.from({ length: clients }, () => (row) => policy.decide([row]));
    await warmUp(calls, rows);
    ctx.log(`local: ${clients} × ${RATE} req/s for ${(ms / 1000).toFixed(0)} s`);
    const load = await pacedLoad(calls, RATE, ms, rows, clients + 1000);
    return { label: 'local mode', where: "`createBrain({ mode: 'local' })`, this process", clients, load };
  } finally {
    await brain.close();
  }
}

// ---------------------------------------------------------------------------
// Tables

const ms2 = (x: number) => (Number.isFinite(x) ? fmtMs(x) : '—');
const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : '—');

function errorText(s: Scenario): string {
  const client = [...s.load.errors.entries()].map(([k, v]) => `${v} ${k}`);
  return client.length === 0 ? '0' : client.join(', ');
}

function latencyTable(scenarios: readonly Scenario[], queueDelayMs: number | string): BenchTable {
  return {
    title: `Single-row \`decide('${MODEL}')\` round trip, ${RATE} requests/s per client, open-loop`,
    columns: [
      'route',
      'server',
      'clients',
      'target req/s',
      'achieved req/s',
      'requests',
      'errors',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      `p99 < ${GOAL_P99_MS} ms`,
      'send delay p99 ms',
    ],
    rows: scenarios.map((s) => {
      const l = s.load.latencies;
      const p99 = percentile(l, 99);
      return [
        s.label,
        s.where,
        s.clients,
        fmtInt(s.clients * RATE),
        fmtInt((l.length / s.load.windowMs) * 1000),
        fmtInt(s.load.sent),
        errorText(s),
        ms2(percentile(l, 50)),
        ms2(p99),
        ms2(percentile(l, 99.9)),
        ms2(Math.max(...l)),
        p99 < GOAL_P99_MS ? 'yes' : 'NO',
        ms2(percentile(s.load.sendDelays, 99)),
      ];
    }),
    notes: [
      `Model: ${process.env.BENCH_REMOTE_QUEUE_DELAY_MS ? 'a copy of ' : ''}the shipped \`models/${MODEL}\` (${FEATURES} features, 6 actions), whose manifest sets the engine's batching window (\`maxQueueDelayMs\`) to ${typeof queueDelayMs === 'number' ? `${queueDelayMs} ms` : queueDelayMs}: a lone request waits up to that long for company, in local mode and on the server alike. Each remote client is its own \`RemoteRoute\` (one WebSocket, @colyseus/sdk) to 127.0.0.1; local callers share one local brain.`,
      `Each client sends on its own schedule, intervals ${fmtMs(1000 / RATE)} ms ± 50 % (uniform), without waiting for earlier replies; latency is from the \`decide\` call to its reply, in the client process.`,
      `"send delay": how late the client's timer fired against the schedule (client-side, not in the latency). One run per scenario, after a ${fmtMs(WARMUP_MS)} ms warm-up at the same pacing; with few requests, p99.9 and max are single samples.`,
      `Errors: calls that rejected (any code) or got no reply within ${CALL_TIMEOUT_MS} ms; the server's own count of non-ok remote replies is in the next table.`,
      `Machine: ${cpus().length} CPUs, load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          ' / ',
        )} (1 / 5 / 15 min) at the end of the run; clients, server and anything else running share these cores.`,
    ],
  };
}

function lagTable(scenarios: readonly Scenario[], warnings: string): BenchTable {
  const lag = (l?: { p50: number; p99: number; max: number }) =>
    l ? `${ms2(l.p50)} / ${ms2(l.p99)} / ${ms2(l.max)}` : '—';
  return {
    title: 'Event-loop lag and CPU under that load',
    columns: [
      'route',
      'server',
      'clients',
      'server lag idle p50 / p99 / max ms',
      'server lag under load p50 / p99 / max ms',
      'server CPU',
      'client lag p50 / p99 / max ms',
      'client CPU',
      'server error replies',
    ],
    rows: scenarios.map((s) => [
      s.label,
      s.where,
      s.clients,
      lag(s.server?.lagIdle),
      lag(s.server?.lagLoad),
      pct(s.server?.cpu ?? NaN),
      lag(s.load.clientLag),
      pct(s.load.clientCpu),
      s.server ? fmtInt(s.server.errors) : '—',
    ]),
    notes: [
      "Server lag: the server's `/metrics` (`nodejs_eventloop_lag_{p50,p99,max}_seconds`, prom-client's `monitorEventLoopDelay` at 1 ms resolution, reset at every scrape): scraped before a 1 s idle window, after it, and after the load window.",
      'At 1 ms resolution an idle loop reads ≈ 1 ms; the lag proper is the excess over 1 ms. Client lag: `monitorEventLoopDelay` at 1 ms resolution in the bench process during the load.',
      'CPU: share of one core over the load window (server: `process_cpu_seconds_total`; client: `process.cpuUsage()`). With the in-process server, both figures are the same process.',
      warnings,
    ],
  };
}

function serverTable(scenarios: readonly Scenario[]): BenchTable {
  const remote = scenarios.filter((s) => s.server);
  return {
    title: 'Where the round trip goes (server-side metrics over the load window)',
    columns: [
      'server',
      'clients',
      'round trip p50 ms',
      'round trip p99 ms',
      'engine p50 ms',
      'engine p99 ms',
      'queue p99 ms',
      'rows per model run',
      'outside the engine p50 ms',
    ],
    rows: remote.map((s) => {
      const rtt50 = percentile(s.load.latencies, 50);
      return [
        s.where,
        s.clients,
        ms2(rtt50),
        ms2(percentile(s.load.latencies, 99)),
        ms2(s.server!.engineP50),
        ms2(s.server!.engineP99),
        ms2(s.server!.queueP99),
        Number.isFinite(s.server!.batchRows) ? s.server!.batchRows.toFixed(2) : '—',
        ms2(rtt50 - s.server!.engineP50),
      ];
    }),
    notes: [
      'Engine: `playmind_inference_latency_seconds` (queue + run, histogram quantiles interpolated within buckets, so approximate); queue: `playmind_inference_queue_seconds`; rows per run: `playmind_inference_batch_rows` sum / count.',
      '"Outside the engine" = round trip p50 − engine p50: WebSocket frames both ways, Colyseus and msgpack encode/decode, the room\'s checks, and the client\'s own event loop.',
    ],
  };
}

// ---------------------------------------------------------------------------

/** Runs every scenario; returns them in table order and what the servers logged. */
export async function benchRemote(
  ctx: BenchContext,
): Promise<{ scenarios: Scenario[]; warnings: string; queueDelayMs: number | string }> {
  const rows = observationRows(256);
  const tmp = await mkdtemp(join(tmpdir(), 'playmind-remote-bench-'));
  const half = Math.max(1000, SCENARIO_MS / 2);
  const scenarios: Scenario[] = [];
  let warnings = '';
  let queueDelayMs: number | string = '?';
  try {
    const models = await benchModels(tmp);
    queueDelayMs = models.queueDelayMs;
    const modelsDir = models.dir;
    const childLabel = 'child process';
    ctx.log(`starting the server in a child process (${MODEL} batching window ${queueDelayMs} ms)`);
    const child = await startChildServer(modelsDir, join(tmp, 'telemetry-child.jsonl'));
    let childWarnings = 0;
    try {
      scenarios.push(await remoteScenario(ctx, child, 'remote', childLabel, 1, SCENARIO_MS, rows));
      scenarios.push(await remoteScenario(ctx, child, 'remote', childLabel, CLIENTS, SCENARIO_MS, rows));
    } finally {
      childWarnings = child.warnings();
      await child.close();
    }
    scenarios.push(await localScenario(ctx, modelsDir, 1, half, rows));
    scenarios.push(await localScenario(ctx, modelsDir, CLIENTS, half, rows));
    ctx.log('starting the server in this process');
    const inProcess = await startInProcessServer(modelsDir, join(tmp, 'telemetry-in-process.jsonl'));
    let inWarnings = 0;
    try {
      scenarios.push(await remoteScenario(ctx, inProcess, 'remote', 'in this process', CLIENTS, half, rows));
    } finally {
      inWarnings = inProcess.warnings();
      await within(inProcess.close(), CLOSE_TIMEOUT_MS, undefined);
    }
    warnings = `Server warnings and errors logged: child process ${childWarnings}, in-process ${inWarnings} (the "demo game is not built" notice excluded).`;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { scenarios, warnings, queueDelayMs };
}

/** Entry point of `npm run bench` (test/bench/run.ts). */
export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  const { scenarios, warnings, queueDelayMs } = await benchRemote(ctx);
  return [latencyTable(scenarios, queueDelayMs), lagTable(scenarios, warnings), serverTable(scenarios)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tables = await bench({ repetitions: 1, log: (m) => process.stderr.write(`  · ${m}\n`) });
  process.stdout.write(`${tables.map(markdownTable).join('\n\n')}\n`);
  process.exit(0);
}

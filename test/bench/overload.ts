/**
 * HTTP overload benchmark (issue 9, "Admission control for HTTP"): KServe infer requests
 * to an expensive model, at capacity and at 10× capacity, in the same run against one
 * server. Goal: under 10× overload, goodput ≥ 0.9× the measured capacity and p99 of the
 * accepted (200) requests ≤ 2× their p99 at capacity; refusals fast, `/metrics` and
 * health prompt.
 *
 * The server runs in a child process (`node --import tsx server/main.ts`, as in
 * `remote.ts`) with its default admission flags (`--max-inflight 64`,
 * `--max-inflight-per-client 16`, `--max-deadline-ms 10000`); the load comes from another
 * child process (`overload-load.ts`), whose simulated clients each bind their own source
 * address (127.0.0.N), so the per-client bound sees many clients. The model is a tensor
 * model written for the run (a stack of 1024-wide dense layers, ~0.8 G multiply-adds per
 * request of 64 rows), so capacity is bound by the model, not by HTTP.
 *
 * (a) capacity: a closed loop of as many requests in flight as the server admits
 *     (`--max-inflight`, over 8 clients): requests/s answered 200, and their latency;
 * (b) overload: open-loop arrivals at 10× the rate (a) measured, over 64 clients:
 *     goodput (200s answered within the window, per second), its ratio to (a), p99 of the 200s and its ratio to (a)'s p99,
 *     refusals by status and how fast they came back.
 * In both, `/metrics` and `/v2/health/ready` are fetched every 100 ms. Both phases run twice:
 * against the default server (models on a worker thread, `--inference-threads 1`) and
 * against one running them on its event loop (`--inference-threads 0`), to show what that
 * costs (each ratio is to its own server's capacity).
 *
 *   npm run bench -- overload
 *   npx tsx test/bench/overload.ts
 *
 * Environment: BENCH_OVERLOAD_S (seconds per phase, default 12, the first 2 not counted),
 * BENCH_OVERLOAD_FACTOR (overload factor, default 10), BENCH_OVERLOAD_DEBUG (print each phase's
 * statuses by latency bucket and the transport errors to stderr).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import { writeModel } from '../helpers/models.js';
import type { LoadReport, LoadSpec } from './overload-load.js';
import { startChildServer } from './remote.js';
import { fmtInt, fmtMs, fmtRatio, markdownTable, percentile, type BenchContext, type BenchTable } from './table.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '..', '..');

const PHASE_S = Number(process.env.BENCH_OVERLOAD_S ?? 12);
const FACTOR = Number(process.env.BENCH_OVERLOAD_FACTOR ?? 10);
const WARMUP_S = 2;
const MODEL = 'heavy';
const FEATURES = 16;
const HIDDEN = 1024;
const LAYERS = 12;
const ROWS = 64;
/** The server's default admission (server/config.ts). */
const MAX_INFLIGHT = 64;
const PROBE_MS = 100;
const GOAL_GOODPUT = 0.9;
const GOAL_P99 = 2;

/** A tensor model `x [n,16] → y [n,4]` through LAYERS dense+ReLU layers of HIDDEN units. */
function heavyModelBytes(): Uint8Array {
  const g = new GraphBuilder('heavy');
  g.input('x', 'float32', ['n', FEATURES]);
  const weights = (rows: number, cols: number, seed: number) =>
    Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37 + seed) / Math.sqrt(cols));
  let h = g.node('Relu', [g.dense('x', weights(HIDDEN, FEATURES, 1), new Float32Array(HIDDEN), FEATURES, HIDDEN)]);
  for (let l = 0; l < LAYERS; l++)
    h = g.node('Relu', [g.dense(h, weights(HIDDEN, HIDDEN, l + 2), new Float32Array(HIDDEN), HIDDEN, HIDDEN)]);
  g.dense(h, weights(4, HIDDEN, 99), new Float32Array(4), HIDDEN, 4, 'y');
  g.output('y', 'float32', ['n', 4]);
  return g.toBytes();
}

const manifest = {
  name: MODEL,
  kind: 'tensor',
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1, FEATURES] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 4] }],
};

const body = JSON.stringify({
  inputs: [
    {
      name: 'x',
      datatype: 'FP32',
      shape: [ROWS, FEATURES],
      data: Array.from({ length: ROWS * FEATURES }, (_, i) => Math.round(Math.cos(i) * 100) / 100),
    },
  ],
});

/** Runs the load generator in its own process. */
function generate(spec: LoadSpec): Promise<LoadReport> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'overload-load.ts'), JSON.stringify(spec)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      try {
        res(JSON.parse(out) as LoadReport);
      } catch {
        rej(new Error(`the load generator exited (code ${code}) without a report:\n${err.slice(-2000)}`));
      }
    });
  });
}

/** What one phase measured. */
export interface Phase {
  /** Which server (how it runs the models). */
  server: string;
  name: string;
  offered: string;
  goodput: number;
  p50: number;
  p99: number;
  byStatus: Record<string, number>;
  refusalP99: number;
  metricsP99: number;
  healthP99: number;
  load: string;
}

function summarise(server: string, name: string, offered: string, r: LoadReport, load: string): Phase {
  if (process.env.BENCH_OVERLOAD_DEBUG) {
    const hist: Record<string, number> = {};
    for (const [s, ms] of r.requests) {
      const k = `${s}:${ms < 1000 ? '<1s' : ms < 3000 ? '1-3s' : ms < 7000 ? '3-7s' : ms < 15000 ? '7-15s' : '>15s'}`;
      hist[k] = (hist[k] ?? 0) + 1;
    }
    process.stderr.write(`${name} ${JSON.stringify(hist)} errors ${JSON.stringify(r.errors)}\n`);
  }
  const ok = r.requests.filter(([s]) => s === 200).map(([, ms]) => ms);
  // Goodput counts the 200s answered within the window (a request sent in it may be answered long after).
  const endMs = r.windowS * 1000 + WARMUP_S * 1000;
  const okInWindow = r.requests.filter(([s, , at]) => s === 200 && at <= endMs).length;
  const refused = r.requests.filter(([s]) => s === 429 || s === 503).map(([, ms]) => ms);
  const byStatus: Record<string, number> = {};
  for (const [s] of r.requests) {
    const k = s === 0 ? 'error' : s === -1 ? 'timeout' : String(s);
    byStatus[k] = (byStatus[k] ?? 0) + 1;
  }
  return {
    server,
    name,
    offered,
    goodput: okInWindow / r.windowS,
    p50: percentile(ok, 50),
    p99: percentile(ok, 99),
    byStatus,
    refusalP99: percentile(refused, 99),
    metricsP99: percentile(r.metricsMs, 99),
    healthP99: percentile(r.healthMs, 99),
    load,
  };
}

const loadNow = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * Measures capacity, then 10× overload, against one child server.
 * @param label - names the server in the table
 * @param extraArgs - its flags beyond the defaults
 */
export async function benchOverload(ctx: BenchContext, label: string, extraArgs: string[] = []): Promise<Phase[]> {
  const tmp = await mkdtemp(join(tmpdir(), 'playmind-bench-overload-'));
  await writeModel(join(tmp, 'models'), MODEL, 1, heavyModelBytes(), manifest);
  const server = await startChildServer(join(tmp, 'models'), join(tmp, 'telemetry.jsonl'), extraArgs);
  const base = {
    url: server.url,
    path: `/v2/models/${MODEL}/infer`,
    body,
    warmupMs: WARMUP_S * 1000,
    durationMs: PHASE_S * 1000,
    probeMs: PROBE_MS,
    timeoutMs: 30_000,
  };
  const phases: Phase[] = [];
  try {
    ctx.log(`${label}: capacity: closed loop, ${MAX_INFLIGHT} in flight over 8 clients (${PHASE_S} s)`);
    let load = loadNow();
    const cap = summarise(
      label,
      'capacity',
      `closed loop, ${MAX_INFLIGHT} in flight, 8 clients`,
      await generate({ ...base, mode: 'closed', clients: 8, concurrency: MAX_INFLIGHT }),
      load,
    );
    phases.push(cap);
    const rate = Math.round(cap.goodput * FACTOR);
    ctx.log(`${label}: overload: open loop, ${rate} req/s over 64 clients (${PHASE_S} s)`);
    load = loadNow();
    phases.push(
      summarise(
        label,
        `${FACTOR}× overload`,
        `open loop, ${fmtInt(rate)} req/s, 64 clients`,
        await generate({ ...base, mode: 'open', clients: 64, rate }),
        load,
      ),
    );
  } finally {
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
  return phases;
}

const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

/** Entry point of `npm run bench` (test/bench/run.ts). */
export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  const served = await benchOverload(ctx, 'default (models on 1 worker thread)');
  const onLoop = await benchOverload(ctx, 'models on the event loop (--inference-threads 0)', [
    '--inference-threads',
    '0',
  ]);
  const phases = [...served, ...onLoop];
  const capOf = (p: Phase) => phases.find((c) => c.server === p.server && c.name === 'capacity')!;
  const ratios = (ps: Phase[]) => ({ goodput: ps[1]!.goodput / ps[0]!.goodput, p99: ps[1]!.p99 / ps[0]!.p99 });
  const goal = (ps: Phase[]) => {
    const r = ratios(ps);
    return (
      `goodput ≥ ${GOAL_GOODPUT}× capacity — ${fmtRatio(r.goodput)}, ${verdict(r.goodput >= GOAL_GOODPUT)}; ` +
      `p99 of accepted requests ≤ ${GOAL_P99}× their p99 at capacity — ${fmtRatio(r.p99)}, ${verdict(r.p99 <= GOAL_P99)}`
    );
  };
  const statuses = ['200', '429', '503', '504', 'error', 'timeout'].filter((s) =>
    phases.some((p) => (p.byStatus[s] ?? 0) > 0),
  );
  return [
    {
      title: `HTTP overload: KServe infer of an expensive model (${ROWS} rows × ${LAYERS + 2} dense layers of ${HIDDEN}) at capacity and at ${FACTOR}× capacity`,
      columns: [
        'server',
        'phase',
        'offered',
        'goodput (200/s)',
        '× capacity',
        '200 p50 ms',
        '200 p99 ms',
        '× capacity p99',
        ...statuses.map((s) => `${s}s`),
        'refusal p99 ms',
        '/metrics p99 ms',
        'health p99 ms',
      ],
      rows: phases.map((p) => [
        p.server,
        p.name,
        p.offered,
        fmtInt(p.goodput),
        fmtRatio(p.goodput / capOf(p).goodput),
        fmtMs(p.p50),
        fmtMs(p.p99),
        fmtRatio(p.p99 / capOf(p).p99),
        ...statuses.map((s) => fmtInt(p.byStatus[s] ?? 0)),
        Number.isFinite(p.refusalP99) ? fmtMs(p.refusalP99) : '–',
        fmtMs(p.metricsP99),
        fmtMs(p.healthP99),
      ]),
      notes: [
        `Goal (default server): ${goal(served)}. With the models on the event loop: ${goal(onLoop)}.`,
        `Ratios are to the same server's capacity row, measured in the same run.`,
        `Server: child process, default admission (--max-inflight ${MAX_INFLIGHT}, --max-inflight-per-client 16, --max-deadline-ms 10000). ` +
          `Load: another child process, each client its own source address 127.0.0.N with a keep-alive agent; ${PHASE_S} s per phase, the first ${WARMUP_S} s not counted; ` +
          `/metrics and /v2/health/ready fetched every ${PROBE_MS} ms during each phase. Generator and server share the machine's cores.`,
        `Load average (1, 5, 15 min) at the start of each phase: ${phases.map((p) => `${p.server}, ${p.name}: ${p.load}`).join('; ')}.`,
      ],
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tables = await bench({ repetitions: 1, log: (m) => process.stderr.write(`  · ${m}\n`) });
  process.stdout.write(`${tables.map(markdownTable).join('\n\n')}\n`);
  process.exit(0);
}

/**
 * Engine benchmarks (issue 2, "Benchmark"):
 *  (a) the engine vs raw `session.run` on the same model, at batch 1, 64 and 1024;
 *  (b) 1000 concurrent single-row `decide()` calls with micro-batching vs one run each;
 *  (c) event-loop lag while the engine is saturated, inference on the main thread
 *      (onnxruntime-node) vs on a worker thread (`workerBackend`);
 *  (d) decide() per-call overhead, measured on the compiled `dist/` (what a user runs):
 *      SDK time per single-row call minus raw `session.run` time per row at the same batch.
 *
 * Every measurement warms up first, is repeated, and the median is reported;
 * the variants of one measurement are interleaved so that drift hits them alike.
 */
import { existsSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GraphBuilder } from '../../sdk/onnx/graph-builder.js';
import { tensor, type Backend, type BackendSession } from '../../sdk/engine/backend.js';
import { nodeBackend } from '../../sdk/engine/backend-node.js';
import { workerBackend } from '../../sdk/engine/backend-worker.js';
import { InferenceEngine, type BatchingOptions, type RunnableVersion } from '../../sdk/engine/inference-engine.js';
import { createBrain, silentLogger } from '../../sdk/index.js';
import { linearPolicyManifest, writeModel } from '../helpers/models.js';
import { tempDir } from '../helpers/compat.js';
import { fmtInt, fmtMs, fmtRatio, median, type BenchContext, type BenchTable } from './table.js';

/** Observation width and action count of the benchmark policy. */
export const FEATURES = 64;
export const ACTIONS = 8;

/**
 * An MLP policy `obs[batch, features] → Gemm/Relu → … → logits[batch, actions]`
 * with fixed pseudo-random weights, e.g. `mlpPolicyBytes([64, 256, 256, 8])`.
 */
export function mlpPolicyBytes(layers: readonly number[]): Uint8Array {
  const g = new GraphBuilder('mlp-policy');
  g.input('obs', 'float32', ['batch', layers[0]!]);
  let x = 'obs';
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (let i = 1; i < layers.length; i++) {
    const [inDim, outDim] = [layers[i - 1]!, layers[i]!];
    const scale = 1 / Math.sqrt(inDim);
    const w = Array.from({ length: inDim * outDim }, () => rand() * scale);
    const b = Array.from({ length: outDim }, () => rand() * 0.1);
    const last = i === layers.length - 1;
    x = g.dense(x, w, b, inDim, outDim, last ? 'logits' : undefined);
    if (!last) x = g.node('Relu', [x]);
  }
  g.output('logits', 'float32', ['batch', layers[layers.length - 1]!]);
  return g.toBytes();
}

const MODEL_LAYERS = [FEATURES, 256, 256, ACTIONS];
const HEAVY_LAYERS = [FEATURES, 1024, 1024, ACTIONS];

const now = () => performance.now();
const envMs = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
/** Time per repetition of a throughput measurement (BENCH_REP_MS shortens it). */
const REP_MS = envMs('BENCH_REP_MS', 300);
/** Length of one saturation run of (c) (BENCH_SAT_MS). */
const SAT_MS = envMs('BENCH_SAT_MS', 1500);

function rows(n: number, offset = 0): Float32Array {
  const a = new Float32Array(n * FEATURES);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37 + offset);
  return a;
}

/** Runs `step` (which handles `rowsPerStep` rows) repeatedly for `ms`; returns rows/s. */
async function rate(step: () => Promise<unknown>, rowsPerStep: number, ms: number): Promise<number> {
  let done = 0;
  const t0 = now();
  let t = t0;
  while (t - t0 < ms) {
    await step();
    done += rowsPerStep;
    t = now();
  }
  return (done / (t - t0)) * 1000;
}

/** Interleaves the variants: one warm-up round, then `reps` measured rounds; medians per variant. */
async function interleaved(
  variants: Record<string, { step: () => Promise<unknown>; rows: number }>,
  reps: number,
  ms = REP_MS,
): Promise<Record<string, number>> {
  const results: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(variants)) {
    await rate(v.step, v.rows, ms);
    results[k] = [];
  }
  for (let r = 0; r < reps; r++) {
    for (const [k, v] of Object.entries(variants)) results[k]!.push(await rate(v.step, v.rows, ms));
  }
  return Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, median(xs)]));
}

function version(session: BackendSession, batching: Partial<BatchingOptions>): RunnableVersion {
  return { id: 'mlp@1', name: 'mlp', version: 1, session, batching };
}

/** (a) Engine vs raw session.run at batch 1, 64, 1024. */
async function engineVsRaw(ctx: BenchContext, backend: Backend, bytes: Uint8Array): Promise<BenchTable> {
  const session = await backend.createSession(bytes);
  const table: BenchTable = {
    title: 'Engine vs raw `session.run` (onnxruntime-node, main thread)',
    columns: ['batch', 'raw rows/s', 'engine, 1 request of N rows', 'ratio', 'engine, N requests of 1 row', 'ratio'],
    rows: [],
    notes: [
      `Model: MLP ${MODEL_LAYERS.join('→')} (Gemm+Relu), float32, intra-op threads 1. Rows/s, median of ${ctx.repetitions} runs of ${REP_MS} ms after a warm-up, variants interleaved.`,
      '"N requests of 1 row": N concurrent `engine.run` calls merged by the micro-batcher into one run (maxBatchSize = N) and split back. Goal: ≥ 0.9× raw at batch ≥ 64.',
    ],
  };
  for (const n of [1, 64, 1024]) {
    ctx.log(`engine vs raw, batch ${n}`);
    const engine = new InferenceEngine({ batching: { maxBatchSize: n, maxQueueDelayMs: 0, maxQueueSize: 1 << 20 } });
    const v = version(session, {});
    const whole = rows(n);
    const singles = Array.from({ length: n }, (_, i) => rows(1, i));
    const r = await interleaved(
      {
        raw: { rows: n, step: () => session.run({ obs: tensor('float32', whole, [n, FEATURES]) }) },
        one: { rows: n, step: () => engine.run(v, { obs: tensor('float32', whole, [n, FEATURES]) }) },
        many: {
          rows: n,
          step: () => Promise.all(singles.map((s) => engine.run(v, { obs: tensor('float32', s, [1, FEATURES]) }))),
        },
      },
      ctx.repetitions,
    );
    table.rows.push([
      n,
      fmtInt(r.raw!),
      fmtInt(r.one!),
      fmtRatio(r.one! / r.raw!),
      fmtInt(r.many!),
      fmtRatio(r.many! / r.raw!),
    ]);
    engine.close();
  }
  await session.release();
  return table;
}

/** (b) 1000 concurrent single-row decide() calls, batched vs one run each. */
async function concurrentDecides(ctx: BenchContext, dir: string, bytes: Uint8Array): Promise<BenchTable> {
  const CALLS = 1000;
  const obs = Array.from({ length: CALLS }, (_, i) => rows(1, i));
  const brains = {
    batched: await createBrain({ mode: 'local', models: dir, logger: silentLogger }),
    unbatched: await createBrain({ mode: 'local', models: dir, logger: silentLogger, batching: { maxBatchSize: 1 } }),
    workerBatched: await createBrain({ mode: 'local', models: dir, logger: silentLogger, backend: workerBackend() }),
    workerUnbatched: await createBrain({
      mode: 'local',
      models: dir,
      logger: silentLogger,
      backend: workerBackend(),
      batching: { maxBatchSize: 1 },
    }),
  };
  const raw = await nodeBackend().createSession(bytes);
  const decideAll = (b: (typeof brains)[keyof typeof brains]) => {
    const policy = b.policy('mlp');
    return () => Promise.all(obs.map((o) => policy.decide([o])));
  };
  ctx.log(`${CALLS} concurrent decide() calls`);
  const r = await interleaved(
    {
      batched: { rows: CALLS, step: decideAll(brains.batched) },
      unbatched: { rows: CALLS, step: decideAll(brains.unbatched) },
      raw: {
        rows: CALLS,
        step: () => Promise.all(obs.map((o) => raw.run({ obs: tensor('float32', o, [1, FEATURES]) }))),
      },
      workerBatched: { rows: CALLS, step: decideAll(brains.workerBatched) },
      workerUnbatched: { rows: CALLS, step: decideAll(brains.workerUnbatched) },
    },
    ctx.repetitions,
    Math.max(REP_MS, 500),
  );
  const line = (label: string, v: number, base: number) => [
    label,
    fmtInt(v),
    fmtMs((CALLS / v) * 1000),
    fmtRatio(v / base),
  ];
  const table: BenchTable = {
    title: `${CALLS} concurrent single-row \`decide()\` calls through the SDK`,
    columns: ['how', 'calls/s', `ms per ${CALLS} calls`, 'vs one run per call'],
    rows: [
      line('SDK, micro-batching (defaults: maxBatchSize 256, maxQueueDelayMs 0)', r.batched!, r.unbatched!),
      line('SDK, one `session.run` per call (maxBatchSize 1)', r.unbatched!, r.unbatched!),
      line(`raw \`session.run\` × ${CALLS}, no SDK`, r.raw!, r.unbatched!),
      line('SDK + workerBackend, micro-batching', r.workerBatched!, r.workerUnbatched!),
      line('SDK + workerBackend, one run per call', r.workerUnbatched!, r.workerUnbatched!),
    ],
    notes: [
      `Same MLP policy, Float32Array observations, decoded to decisions. Median of ${ctx.repetitions} runs after a warm-up. Goal: micro-batching ≥ 10× one run per call.`,
      'The worker rows compare against the worker backend without batching.',
    ],
  };
  await raw.release();
  await Promise.all(Object.values(brains).map((b) => b.close()));
  return table;
}

/** The compiled SDK (`npm run build`), as a user imports it. */
type Sdk = typeof import('../../sdk/index.js');
/** `BENCH_DIST` points at another build (e.g. an older commit's dist/) to compare. */
const DIST_SDK = resolve(
  process.env.BENCH_DIST ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist'),
  'sdk',
  'index.js',
);

/**
 * (d) decide() per-call overhead on the compiled dist/: N concurrent single-row `decide()`
 * calls (merged into one run of N rows, maxBatchSize = N) against one raw `session.run` of
 * the same N rows; the overhead is the SDK's time per call minus the raw time per row.
 */
export async function perCallOverhead(ctx: BenchContext, dir: string, bytes: Uint8Array): Promise<BenchTable> {
  if (!existsSync(DIST_SDK)) throw new Error(`${DIST_SDK} is missing: run npm run build first`);
  const sdk = (await import(pathToFileURL(DIST_SDK).href)) as Sdk;
  const raw = await sdk.nodeBackend().createSession(bytes);
  const out: string[][] = [];
  for (const n of [64, 256, 1024]) {
    ctx.log(`decide() per-call overhead, ${n} calls per batch (dist/)`);
    const brain = await sdk.createBrain({
      mode: 'local',
      models: dir,
      logger: sdk.silentLogger,
      batching: { maxBatchSize: n },
    });
    const policy = brain.policy('mlp');
    const obs = Array.from({ length: n }, (_, i) => rows(1, i));
    const whole = rows(n);
    const packed = rows(n);
    // An older build (BENCH_DIST) may not take packed rows: then that column stays empty.
    const packs = await policy.decide(packed).then(
      () => true,
      () => false,
    );
    const variants: Record<string, () => Promise<unknown>> = {
      sdk: () => Promise.all(obs.map((o) => policy.decide([o]))),
      raw: () => raw.run({ obs: sdk.tensor('float32', whole, [n, FEATURES]) }),
      ...(packs ? { packed: () => policy.decide(packed) } : {}),
    };
    const r = await cpuInterleaved(variants, n, ctx.repetitions, Math.max(REP_MS, 500));
    await brain.close();
    const overhead = r.sdk!.cpu - r.raw!.cpu;
    out.push([
      String(n),
      r.raw!.cpu.toFixed(2),
      r.sdk!.cpu.toFixed(2),
      overhead.toFixed(2),
      overhead <= 1.5 ? 'yes' : 'NO',
      (r.sdk!.wall - r.raw!.wall).toFixed(2),
      r.packed === undefined ? '—' : (r.packed.cpu - r.raw!.cpu).toFixed(3),
    ]);
  }
  await raw.release();
  return {
    title: '`decide()` per-call overhead (compiled `dist/`, onnxruntime-node, main thread)',
    columns: [
      'calls per batch',
      'raw CPU µs per row',
      'SDK CPU µs per call',
      'overhead CPU µs per call',
      '≤ 1.5 µs',
      'overhead wall µs per call',
      'packed: overhead CPU µs per row',
    ],
    rows: out,
    notes: [
      `Same MLP policy. "SDK": N concurrent \`policy.decide([row])\` calls (Float32Array rows, decoded to decisions with probabilities), merged by the engine into one run (maxBatchSize = N); "raw": one \`session.run\` of the same N rows. Overhead = SDK µs per call − raw µs per row, in this process's CPU time (\`process.cpuUsage\`, so other processes on a shared machine do not count) and in wall time. "packed": one \`decide(rows)\` of N packed rows. Median of ${ctx.repetitions} runs after a warm-up, interleaved. Goal: overhead ≤ 1.5 µs per call.`,
    ],
  };
}

/** Per row: this process's CPU µs and wall µs, medians over interleaved repetitions of each variant. */
export async function cpuInterleaved(
  variants: Record<string, () => Promise<unknown>>,
  rowsPerStep: number,
  reps: number,
  ms: number,
): Promise<Record<string, { cpu: number; wall: number }>> {
  const once = async (step: () => Promise<unknown>) => {
    let steps = 0;
    const c0 = process.cpuUsage();
    const t0 = now();
    while (now() - t0 < ms) {
      await step();
      steps++;
    }
    const wall = now() - t0;
    const c = process.cpuUsage(c0);
    const rowsDone = steps * rowsPerStep;
    return { cpu: (c.user + c.system) / rowsDone, wall: (wall * 1000) / rowsDone };
  };
  const samples: Record<string, { cpu: number[]; wall: number[] }> = {};
  for (const [k, step] of Object.entries(variants)) {
    await once(step);
    samples[k] = { cpu: [], wall: [] };
  }
  for (let r = 0; r < reps; r++) {
    for (const [k, step] of Object.entries(variants)) {
      const x = await once(step);
      samples[k]!.cpu.push(x.cpu);
      samples[k]!.wall.push(x.wall);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { cpu: median(v.cpu), wall: median(v.wall) }]));
}

/** Keeps `concurrency` callers busy, each sending `rowsPerCall`-row decides back to back, for `ms`. */
async function saturate(
  decide: (o: Float32Array[]) => Promise<unknown>,
  concurrency: number,
  rowsPerCall: number,
  ms: number,
): Promise<number> {
  const obs = Array.from({ length: rowsPerCall }, (_, i) => rows(1, i));
  const end = now() + ms;
  let decisions = 0;
  const caller = async () => {
    while (now() < end) {
      await decide(obs);
      decisions += rowsPerCall;
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: concurrency }, caller));
  return (decisions / (now() - t0)) * 1000;
}

/** (c) Event-loop lag p99 while saturated: inference on the main thread vs a worker thread. */
async function eventLoopLag(ctx: BenchContext, dirs: { model: string; dir: string }[]): Promise<BenchTable> {
  const CONCURRENCY = 64;
  const ROWS = 16;
  const table: BenchTable = {
    title: 'Event-loop lag while the engine is saturated',
    columns: ['model', 'inference on', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'decisions/s'],
    rows: [],
    notes: [
      `${CONCURRENCY} callers each send ${ROWS}-row \`decide()\` calls back to back (default batching: up to 256 rows per run) for ${SAT_MS} ms; lag from \`perf_hooks.monitorEventLoopDelay\` (resolution 1 ms, so ~1 ms is an idle loop).`,
      `Median over ${ctx.repetitions} runs after a warm-up. A 60 fps game tick has a 16.7 ms budget.`,
    ],
  };
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise<void>((resolve) => setTimeout(resolve, 300));
  idle.disable();
  table.rows.push([
    '—',
    'idle (no load)',
    fmtMs(idle.percentile(50) / 1e6),
    fmtMs(idle.percentile(99) / 1e6),
    fmtMs(idle.max / 1e6),
    '—',
  ]);
  for (const { model, dir } of dirs) {
    const brains = {
      main: await createBrain({ mode: 'local', models: dir, logger: silentLogger }),
      worker: await createBrain({ mode: 'local', models: dir, logger: silentLogger, backend: workerBackend() }),
    };
    const runs: Record<string, { p50: number[]; p99: number[]; max: number[]; rate: number[] }> = {};
    for (const k of Object.keys(brains)) runs[k] = { p50: [], p99: [], max: [], rate: [] };
    for (let rep = -1; rep < ctx.repetitions; rep++) {
      for (const [k, brain] of Object.entries(brains)) {
        ctx.log(`event-loop lag, ${model}, ${k} thread${rep < 0 ? ' (warm-up)' : ''}`);
        const h = monitorEventLoopDelay({ resolution: 1 });
        h.enable();
        const policy = brain.policy('mlp');
        const r = await saturate((o) => policy.decide(o), CONCURRENCY, ROWS, rep < 0 ? 300 : SAT_MS);
        h.disable();
        if (rep < 0) continue;
        runs[k]!.p50.push(h.percentile(50) / 1e6);
        runs[k]!.p99.push(h.percentile(99) / 1e6);
        runs[k]!.max.push(h.max / 1e6);
        runs[k]!.rate.push(r);
      }
    }
    for (const [k, label] of [
      ['main', 'main thread (onnxruntime-node)'],
      ['worker', 'worker thread (workerBackend)'],
    ] as const) {
      const m = runs[k]!;
      table.rows.push([
        model,
        label,
        fmtMs(median(m.p50)),
        fmtMs(median(m.p99)),
        fmtMs(median(m.max)),
        fmtInt(median(m.rate)),
      ]);
    }
    await Promise.all(Object.values(brains).map((b) => b.close()));
  }
  return table;
}

/** The engine benchmarks. */
export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  const { dir, cleanup } = await tempDir('playmind-bench-');
  const heavy = await tempDir('playmind-bench-heavy-');
  try {
    const bytes = mlpPolicyBytes(MODEL_LAYERS);
    const heavyBytes = mlpPolicyBytes(HEAVY_LAYERS);
    await writeModel(dir, 'mlp', 1, bytes, linearPolicyManifest('mlp', FEATURES, ACTIONS));
    await writeModel(heavy.dir, 'mlp', 1, heavyBytes, linearPolicyManifest('mlp', FEATURES, ACTIONS));
    const tables: BenchTable[] = [];
    tables.push(await engineVsRaw(ctx, nodeBackend(), bytes));
    tables.push(await concurrentDecides(ctx, dir, bytes));
    tables.push(await perCallOverhead(ctx, dir, bytes));
    tables.push(
      await eventLoopLag(ctx, [
        { model: `MLP ${MODEL_LAYERS.join('→')}`, dir },
        { model: `MLP ${HEAVY_LAYERS.join('→')}`, dir: heavy.dir },
      ]),
    );
    return tables;
  } finally {
    await cleanup();
    await heavy.cleanup();
  }
}

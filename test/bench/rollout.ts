/**
 * Rollout benchmark (issue 11): the arena room's tick with a shadow candidate on vs off,
 * and the decision log's bytes per guard decision.
 *
 * The room's session (`ArenaSession`: the one arena game, the server's engine, guard
 * brain, rollouts and match recorder) runs in-process at a fixed pace (one tick every
 * `BENCH_ROLLOUT_PACE_MS`, default 50 ms, the room's 20 Hz), with the match recorded to a decision log
 * in both cases, so the only difference is the shadow candidate (npc-guard with its
 * `patrol` bias shifted, deciding at `normal` priority after each tick's own decision).
 * Tick time = the synchronous tick plus the wait until its own decision is back, as in
 * `arena-tick.ts`. Runs alternate off / on so both see the same machine load.
 *
 *   npx tsx test/bench/rollout.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FsModelSource,
  InferenceEngine,
  ModelRepository,
  createBrain,
  nodeBackend,
  silentLogger,
} from '../../sdk/index.js';
import { DecisionLog } from '../../server/recording/decision-log-writer.js';
import { MatchRecorder } from '../../server/recording/match-recorder.js';
import { RolloutManager } from '../../server/rollout/rollout-manager.js';
import { ArenaSession } from '../../server/rooms/arena-session.js';
import { GUARD_HEURISTICS } from '../../server/sim/index.js';
import { guardRepository, shiftedGuardBytes, shippedGuardBytes } from '../helpers/guard-variants.js';
import { markdownTable, percentile, type BenchContext, type BenchTable } from './table.js';

/** One measured run. */
interface Run {
  p50: number;
  p99: number;
  shadowCompared: number;
  shadowAgreement: number | null;
  shadowP99: number | null;
  bytes: number;
  rawBytes: number;
  guardDecisions: number;
  misses: number;
}

/** One row: a guard count, shadow off and on. */
export interface RolloutBenchRow {
  guards: number;
  /** ms between ticks. */
  paceMs: number;
  ticks: number;
  reps: number;
  off: Run;
  on: Run;
}

const GUARD_COUNTS = [6, 100];

const median = (xs: number[]): number => percentile(xs, 50);

/**
 * Runs the benchmark.
 * @param options - ticks per run, repetitions, progress
 * @returns one row per guard count
 */
export async function benchRollout(
  options: { ticks?: number; reps?: number; paceMs?: number; log?: (m: string) => void } = {},
): Promise<RolloutBenchRow[]> {
  const ticks = options.ticks ?? Number(process.env.BENCH_ROLLOUT_TICKS ?? 300);
  const reps = options.reps ?? Number(process.env.BENCH_ROLLOUT_REPS ?? 2);
  const paceMs = options.paceMs ?? Number(process.env.BENCH_ROLLOUT_PACE_MS ?? 50);
  const dir = await mkdtemp(join(tmpdir(), 'playmind-rollout-bench-'));
  const modelsDir = join(dir, 'models');
  await guardRepository(modelsDir, { 2: shiftedGuardBytes(await shippedGuardBytes(), { patrol: -4 }) });
  const repository = new ModelRepository({
    source: new FsModelSource(modelsDir),
    backend: nodeBackend(),
    logger: silentLogger,
  });
  await repository.loadAll();
  const engine = new InferenceEngine();
  const brain = await createBrain({ engine, models: repository, heuristics: { ...GUARD_HEURISTICS } });
  const rollouts = new RolloutManager({ repository, modelsDir, engine });
  const rows: RolloutBenchRow[] = [];
  let runNo = 0;
  const runOnce = async (guards: number, shadow: boolean): Promise<Run> => {
    if (shadow) await rollouts.start('npc-guard', { candidate: 2, mode: 'shadow', minDecisions: 1_000_000_000 });
    const log = await DecisionLog.open({ dir: join(dir, `log-${runNo++}`) });
    let misses = 0;
    const scale = Math.sqrt(guards / 6);
    const session = new ArenaSession({
      brain,
      guardCount: guards,
      minPlayers: Math.max(4, Math.round(guards / 25)),
      seed: 1,
      arena: {
        width: Math.round(800 * Math.max(1, scale)),
        height: Math.round(600 * Math.max(1, scale)),
        obstacleCount: Math.round(9 * Math.max(1, scale)),
        collectibleCount: Math.round(8 * Math.max(1, scale)),
      },
      metrics: {
        tick() {},
        decision(outcome) {
          if (outcome === 'deadline' || outcome === 'overloaded' || outcome === 'error') misses++;
        },
        recommendation() {},
      },
      rollouts: { manager: rollouts, repository },
      recorder: new MatchRecorder(log),
    });
    await session.settled();
    const total: number[] = [];
    let next = performance.now();
    for (let t = 0; t < 20 + ticks; t++) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      next += paceMs;
      const t0 = performance.now();
      session.tick();
      await session.settled();
      if (t >= 20) total.push(performance.now() - t0);
    }
    await session.end('bench');
    const state = shadow ? rollouts.get('npc-guard') : undefined;
    if (shadow) await rollouts.stop('npc-guard');
    await log.close();
    const stats = log.stats();
    return {
      p50: percentile(total, 50),
      p99: percentile(total, 99),
      shadowCompared: state?.shadow?.compared ?? 0,
      shadowAgreement: state?.shadow?.agreement ?? null,
      shadowP99: state?.shadow?.latencyMs?.p99 ?? null,
      bytes: stats.bytesWritten,
      rawBytes: stats.rawBytes,
      guardDecisions: stats.guardDecisions,
      misses,
    };
  };
  const combine = (runs: Run[]): Run => ({
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    shadowCompared: runs.reduce((s, r) => s + r.shadowCompared, 0),
    shadowAgreement: runs[0]!.shadowAgreement === null ? null : median(runs.map((r) => r.shadowAgreement ?? 0)),
    shadowP99: runs[0]!.shadowP99 === null ? null : median(runs.map((r) => r.shadowP99 ?? 0)),
    bytes: runs.reduce((s, r) => s + r.bytes, 0),
    rawBytes: runs.reduce((s, r) => s + r.rawBytes, 0),
    guardDecisions: runs.reduce((s, r) => s + r.guardDecisions, 0),
    misses: runs.reduce((s, r) => s + r.misses, 0),
  });
  try {
    for (const guards of GUARD_COUNTS) {
      const off: Run[] = [];
      const on: Run[] = [];
      for (let rep = 0; rep < reps; rep++) {
        options.log?.(`rollout: ${guards} guards, repetition ${rep + 1}/${reps}`);
        off.push(await runOnce(guards, false));
        on.push(await runOnce(guards, true));
      }
      rows.push({ guards, paceMs, ticks, reps, off: combine(off), on: combine(on) });
    }
  } finally {
    await rollouts.close();
    await brain.close();
    engine.close();
    await repository.close();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as tables. */
export function rolloutTables(rows: readonly RolloutBenchRow[]): BenchTable[] {
  const paceMs = rows[0]?.paceMs ?? 0;
  const ms = (x: number | null) => (x === null ? '–' : x.toFixed(2));
  const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)} %`;
  return [
    {
      title: 'Arena tick with a shadow candidate off vs on (in-process, decision log on in both)',
      columns: [
        'guards',
        'ticks × reps',
        'p50 off ms',
        'p50 on ms',
        'p99 off ms',
        'p99 on ms',
        'p99 change',
        'shadow rows',
        'shadow agreement',
        'shadow p99 ms',
        'deadline misses off / on',
      ],
      rows: rows.map((r) => [
        r.guards,
        `${r.ticks} × ${r.reps}`,
        ms(r.off.p50),
        ms(r.on.p50),
        ms(r.off.p99),
        ms(r.on.p99),
        pct(r.off.p99, r.on.p99),
        r.on.shadowCompared,
        r.on.shadowAgreement === null ? '–' : r.on.shadowAgreement.toFixed(3),
        ms(r.on.shadowP99),
        `${r.off.misses} / ${r.on.misses}`,
      ]),
      notes: [
        `One tick every ${paceMs} ms (the room ticks every 50 ms); tick = the synchronous tick plus the wait for its own decision;`,
        'medians over repetitions, off and on alternating. Shadow: npc-guard with its patrol bias shifted by −4, at normal priority',
        "after each tick's decision, at most one in flight per room. Goal: p99 with shadow ≤ 10 % above without.",
      ],
    },
    {
      title: 'Decision log size',
      columns: [
        'guards',
        'shadow',
        'guard decisions',
        'bytes written',
        'bytes / guard decision',
        'raw bytes / guard decision',
      ],
      rows: rows.flatMap((r) =>
        (['off', 'on'] as const).map((k) => [
          r.guards,
          k,
          r[k].guardDecisions,
          r[k].bytes,
          (r[k].bytes / r[k].guardDecisions).toFixed(2),
          (r[k].rawBytes / r[k].guardDecisions).toFixed(2),
        ]),
      ),
      notes: [
        'Everything the match wrote (setup, inputs, decisions with 6 probabilities per guard, a hash per tick, shadow records when on),',
        'deflate-raw level 6, divided by the guard decisions recorded (one per guard per tick).',
      ],
    },
  ];
}

/** Entry point of `npm run bench` (test/bench/run.ts). */
export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  return rolloutTables(await benchRollout({ log: ctx.log }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchRollout({ log: (m) => process.stderr.write(`  · ${m}\n`) });
  for (const t of rolloutTables(rows)) process.stdout.write(`${markdownTable(t)}\n\n`);
  process.exit(0);
}

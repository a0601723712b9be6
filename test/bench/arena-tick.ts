/**
 * Arena tick benchmark (issue 4, "Benchmark"): the `arena` room's tick — the one
 * arena game (`server/game`) in the room's session, with the server's engine and
 * guard brain — run in-process (no network) with 10, 100 and 500 guards,
 * inference included: the synchronous tick (apply decisions, step, update the
 * game's view, write the schema state, observe, issue the next decision) plus
 * the time until that decision is back from the engine. Goal: p99 < 5 ms at 500 guards.
 *
 * Uses `./models/npc-guard` when it exists, else a linear policy over the same
 * contract. The world's area grows with the guard count (guard density of the
 * default 6-guard arena), obstacles and pickups linearly; bots fill the arena
 * (one per 25 guards, at least 4).
 *
 *   npx tsx test/bench/arena-tick.ts
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  FsModelSource,
  InferenceEngine,
  ModelRepository,
  createBrain,
  nodeBackend,
  silentLogger,
} from '../../sdk/index.js';
import { ArenaSession, type ArenaMetricsSink } from '../../server/rooms/arena-session.js';
import {
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURES,
  GUARD_FEATURE_COUNT,
  GUARD_HEURISTICS,
} from '../../server/sim/index.js';
import { linearPolicyBytes, writeModel } from '../helpers/models.js';
import { markdownTable, percentile, type BenchContext, type BenchTable } from './table.js';

/** One row of the benchmark. */
export interface ArenaTickRow {
  guards: number;
  players: number;
  ticks: number;
  /** Tick time, inference included (ms). */
  p50Ms: number;
  p99Ms: number;
  /** The synchronous part alone (ms). */
  syncP50Ms: number;
  syncP99Ms: number;
  deadlineMisses: number;
  fallbacks: number;
  model: string;
}

const GUARD_COUNTS = [10, 100, 500];

async function modelsDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const shipped = resolve('models');
  if (existsSync(join(shipped, 'npc-guard', 'manifest.json'))) return { dir: shipped, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'playmind-arena-bench-'));
  await writeModel(dir, 'npc-guard', 1, linearPolicyBytes(GUARD_FEATURE_COUNT, GUARD_ACTION_COUNT, 1.3), {
    name: 'npc-guard',
    kind: 'policy',
    format: 'playmind',
    inputs: [{ name: 'obs', dtype: 'float32', shape: [-1, GUARD_FEATURE_COUNT] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [-1, GUARD_ACTION_COUNT] }],
    policy: {
      observation: { inputs: ['obs'], features: [...GUARD_FEATURES] },
      actions: { discrete: { branches: [[...GUARD_ACTIONS]], output: 'logits', encoding: 'logits' } },
      fallback: { heuristic: 'expert-guard' },
    },
  });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Runs the benchmark.
 *
 * @param options - ticks measured per guard count @default 400 (after 40 warm-up ticks)
 * @returns one row per guard count
 */
export async function benchArenaTick(
  options: { ticks?: number; log?: (m: string) => void } = {},
): Promise<ArenaTickRow[]> {
  const ticks = options.ticks ?? Number(process.env.BENCH_ARENA_TICKS ?? 400);
  const { dir, cleanup } = await modelsDir();
  const repository = new ModelRepository({
    source: new FsModelSource(dir),
    backend: nodeBackend(),
    logger: silentLogger,
  });
  await repository.loadAll();
  const engine = new InferenceEngine();
  const brain = await createBrain({ engine, models: repository, heuristics: { ...GUARD_HEURISTICS } });
  const rows: ArenaTickRow[] = [];
  try {
    for (const guards of GUARD_COUNTS) {
      options.log?.(`arena tick: ${guards} guards`);
      let misses = 0;
      let fallbacks = 0;
      let model = '';
      const metrics: ArenaMetricsSink = {
        tick() {},
        decision(outcome, _ms) {
          if (outcome === 'deadline' || outcome === 'overloaded' || outcome === 'error') misses++;
          if (outcome === 'fallback') fallbacks++;
        },
        recommendation() {},
      };
      const scale = Math.sqrt(guards / 6);
      const players = Math.max(4, Math.round(guards / 25));
      const session = new ArenaSession({
        brain,
        metrics,
        guardCount: guards,
        minPlayers: players,
        seed: 1,
        arena: {
          width: Math.round(800 * Math.max(1, scale)),
          height: Math.round(600 * Math.max(1, scale)),
          obstacleCount: Math.round(9 * Math.max(1, scale)),
          collectibleCount: Math.round(8 * Math.max(1, scale)),
        },
      });
      await session.settled();
      const total: number[] = [];
      const sync: number[] = [];
      for (let t = 0; t < 40 + ticks; t++) {
        const t0 = performance.now();
        session.tick();
        const t1 = performance.now();
        await session.settled();
        const t2 = performance.now();
        if (t >= 40) {
          total.push(t2 - t0);
          sync.push(t1 - t0);
        }
      }
      model = session.state.guards.get('g0')?.model ?? '';
      session.close();
      rows.push({
        guards,
        players,
        ticks,
        p50Ms: percentile(total, 50),
        p99Ms: percentile(total, 99),
        syncP50Ms: percentile(sync, 50),
        syncP99Ms: percentile(sync, 99),
        deadlineMisses: misses,
        fallbacks,
        model,
      });
    }
  } finally {
    engine.close();
    await repository.close();
    await cleanup();
  }
  return rows;
}

/** The rows as a table. */
export function arenaTickTable(rows: readonly ArenaTickRow[]): BenchTable {
  const ms = (x: number) => x.toFixed(2);
  return {
    title: 'Arena tick time, inference included (in-process, no network)',
    columns: [
      'guards',
      'players',
      'ticks',
      'p50 ms',
      'p99 ms',
      'sync p50 ms',
      'sync p99 ms',
      'deadline misses',
      'fallbacks',
      'model',
    ],
    rows: rows.map((r) => [
      r.guards,
      r.players,
      r.ticks,
      ms(r.p50Ms),
      ms(r.p99Ms),
      ms(r.syncP50Ms),
      ms(r.syncP99Ms),
      r.deadlineMisses,
      r.fallbacks,
      r.model,
    ]),
    notes: [
      'Tick = apply the last decision, step the simulation, sync the @colyseus/schema state, observe every guard and issue one batched',
      'decision; "p50/p99" add the wait until that decision is back from the engine (in the room it overlaps the 50 ms between ticks).',
      `Goal: p99 < 5 ms at 500 guards. ${rows.find((r) => r.guards === 500) ? `Measured: ${ms(rows.find((r) => r.guards === 500)!.p99Ms)} ms.` : ''}`,
    ],
  };
}

/** Entry point of `npm run bench` (test/bench/run.ts). */
export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  return [arenaTickTable(await benchArenaTick({ log: ctx.log }))];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchArenaTick({ log: (m) => process.stderr.write(`  · ${m}\n`) });
  process.stdout.write(`${markdownTable(arenaTickTable(rows))}\n`);
}

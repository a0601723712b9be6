/**
 * "The game first" benchmark (issue 9): one real arena player watching its state
 * patches while (a) 30 remote-inference clients flood `decide`, (b) 4 clients send
 * ~1 MB `decide` messages, (c) one connection posts large KServe infer bodies back to
 * back, (d) 16 loops create arena rooms without connecting — each next to a window with no
 * attack, in the same run. Reported per window:
 * patches/s the player received, patches per server tick, guard decisions made by the
 * model or the heuristic in their tick (from the server's /metrics counters), and by the
 * model alone. Goal: >= 17 patches/s and >= 98 % in tick under every attack.
 *
 * The server runs in a child process (`node --import tsx server/main.ts`, as in
 * `remote.ts`) so the attackers do not share its event loop (they share the CPU).
 *
 *   npm run bench -- attack
 *   npx tsx test/bench/attack.ts
 *
 * Environment: BENCH_ATTACK_S (seconds per window, default 10).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { copyOfRepoModels, until, watchingPlayer } from '../attack/helpers.js';
import {
  bigDecides,
  bigInfers,
  createFlood,
  decideFlood,
  holdGame,
  type Attack,
  type HeldGame,
} from '../attack/game-attacks.js';
import { startChildServer } from './remote.js';
import { markdownTable, type BenchContext, type BenchTable } from './table.js';

const WINDOW_S = Number(process.env.BENCH_ATTACK_S ?? 10);

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** The attack's typed refusals, most frequent first: `19,731 × 429, 12 × rate_limited`. */
function refusals(codes: string[]): string {
  const n = new Map<string, number>();
  for (const c of codes) n.set(c, (n.get(c) ?? 0) + 1);
  return [...n]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([c, k]) => `${k.toLocaleString('en-US')} × ${c}`)
    .join(', ');
}

/** Runs every attack window, each after a window with no attack, against one child server. */
export async function benchAttack(ctx: BenchContext): Promise<{ windows: HeldGame[]; load: string[] }> {
  const { dir, cleanup } = await copyOfRepoModels();
  const tmp = await mkdtemp(join(tmpdir(), 'playmind-bench-attack-'));
  const server = await startChildServer(dir, join(tmp, 'telemetry.jsonl'));
  const windows: HeldGame[] = [];
  const load: string[] = [];
  try {
    const player = await watchingPlayer(server.url);
    await until('the player to see the game', () => player.patches > 5, 20_000);
    const attacks: Attack[] = [decideFlood(30), bigDecides(4), bigInfers(400), createFlood(16)];
    for (const attack of attacks) {
      for (const a of [null, attack]) {
        ctx.log(`${a?.name ?? 'no attack'} (${WINDOW_S} s)`);
        load.push(
          loadavg()
            .map((l) => l.toFixed(2))
            .join(' '),
        );
        windows.push(await holdGame(server.url, player, a, WINDOW_S));
      }
    }
    await player.leave();
  } finally {
    await server.close();
    await cleanup();
    await rm(tmp, { recursive: true, force: true });
  }
  return { windows, load };
}

/** Entry point of `npm run bench` (test/bench/run.ts). */
export async function bench(ctx: BenchContext): Promise<BenchTable[]> {
  const { windows, load } = await benchAttack(ctx);
  return [
    {
      title: `The game first: one arena player under attack (${WINDOW_S} s windows, server in a child process)`,
      columns: [
        'window',
        'patches/s',
        'patches per tick',
        'guard decisions',
        'in tick',
        'by the model',
        'attack sent',
        'refused',
        'closed',
        'load (1/5/15 min)',
      ],
      rows: windows.map((w, i) => [
        w.attack,
        w.patchesPerSec.toFixed(1),
        w.patchRatio.toFixed(2),
        w.decisions,
        pct(w.inTick),
        pct(w.byModel),
        w.report.sent,
        refusals(w.report.codes),
        w.report.closes.length > 0 ? `${w.report.closes.length} × ${[...new Set(w.report.closes)].join('/')}` : '',
        load[i] ?? '',
      ]),
      notes: [
        'Goal: >= 17 patches/s and >= 98 % of guard decisions made by the model or the heuristic in their tick under every attack.',
        '"in tick" = (ok + fallback) / all npc-guard decisions of the arena in the window (playmind_requests_total{frontend="arena"}); ' +
          'a tick whose decision was late is decided by the heuristic (a fallback).',
      ],
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tables = await bench({ repetitions: 1, log: (m) => process.stderr.write(`  · ${m}\n`) });
  process.stdout.write(`${tables.map(markdownTable).join('\n\n')}\n`);
  process.exit(0);
}

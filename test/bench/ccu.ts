/**
 * CCU benchmark (issue 9, not in `npm test`): how many concurrent arena players one server
 * process holds at 20 Hz with its guard decisions in budget. The server runs in a child
 * process; players are real `@colyseus/sdk` clients (each its own WebSocket, joining
 * `arena` rooms by matchmaking, sending input and decoding every state patch), spread over
 * load-generator child processes. Clients are added in steps; after each step the server's
 * `/metrics` is read over a window: the share of guard decisions not made in their tick
 * (`deadline_exceeded`, `overloaded`, `internal`, against decisions by the model or the
 * heuristic), the ticks each room made per second, tick p99, event-loop lag, and the
 * patches/s each player received. A step is in budget when at most 2 % of guard decisions
 * missed their tick AND the rooms still tick at >= 17 Hz (a slowed tick makes every decision
 * "in its tick" while players see fewer patches). The ramp stops when a step is out of
 * budget twice in a row (the same CCU measured again); the figure is the largest CCU of a
 * step in budget. Goal: >= 1,500 CCU per process.
 *
 *   npx tsx test/bench/ccu.ts                          # steps of 100 up to 3,000
 *   npx tsx test/bench/ccu.ts --step 20 --max 40 --window-s 3   # smoke run
 *
 * Flags: --step (100), --max (3000), --window-s (10), --workers (2), --input-hz (10),
 * --miss-budget (0.02), --min-hz (17); --thin (players count the state's frames without
 * decoding them: same matchmaking, seat, WebSocket and input, far less generator CPU, so the
 * server's own capacity shows on a machine the generators share); --cpu-prof DIR (the server
 * writes a V8 CPU profile there when it exits). Each step also reports the CPU the server and
 * the load generators used over the window (in cores).
 * (`@colyseus/loadtest` is not a dependency; this is the equivalent on `@colyseus/sdk`.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, registerSerializer, type Room } from '@colyseus/sdk';
import { ArenaMessage, RoomName } from '../../sdk/protocol.js';
import { metricValue, prng } from '../helpers/server.js';
import { startChildServer, within } from './remote.js';
import { flag, increase, quantileBetween, scrape } from './server-metrics.js';
import { fmtInt, fmtMs, markdownTable, type BenchTable } from './table.js';

const here = fileURLToPath(import.meta.url);
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

// ---------------------------------------------------------------- load-generator process

interface WorkerReport {
  joined: number;
  failed: number;
  patches: number;
  /** CPU time of the generator process so far (user + system), µs. */
  cpuUs: number;
}

/** A string flag's value (`--name value`), or undefined. */
function stringFlag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * A stand-in for the SDK's schema serializer that counts the state's frames and bytes without
 * decoding them: what a thin player (`--thin`) receives costs it only the WebSocket's framing.
 */
class CountingSerializer {
  frames = 0;
  bytes = 0;
  setState(data: Uint8Array): void {
    this.frames++;
    this.bytes += data.byteLength;
  }
  getState(): null {
    return null;
  }
  patch(data: Uint8Array): void {
    this.frames++;
    this.bytes += data.byteLength;
  }
  teardown(): void {}
  handshake(): void {}
}

/** A load generator: `add <n>` on stdin joins n more players; reports counts on stdout. */
async function worker(url: string, inputHz: number, seed: number, thin: boolean): Promise<void> {
  // Thin players: same matchmaking, seat, WebSocket and input messages, but the state's frames
  // are counted, not decoded (the SDK's `schema` serializer replaced in this process only).
  if (thin) registerSerializer('schema', CountingSerializer);
  const rand = prng(seed);
  const rooms: Room[] = [];
  let failed = 0;
  let patches = 0;
  const report = () =>
    process.stdout.write(
      `${JSON.stringify({ joined: rooms.length, failed, patches, cpuUs: cpuUs() } satisfies WorkerReport)}\n`,
    );
  setInterval(report, 500);
  const join = async (i: number) => {
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const room = await new Client(url).joinOrCreate(RoomName.ARENA, { name: `ccu-${seed}-${i}` });
        room.onStateChange(() => patches++);
        room.onMessage('*', () => undefined);
        const period = 1000 / inputHz;
        setTimeout(
          () =>
            setInterval(() => {
              room.send(ArenaMessage.INPUT, { dx: rand() * 2 - 1, dy: rand() * 2 - 1, attack: rand() < 0.05 });
            }, period),
          rand() * period,
        );
        rooms.push(room);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500 + rand() * 1000));
      }
    }
    failed++;
  };
  let next = 0;
  createInterface({ input: process.stdin }).on('line', (line) => {
    const m = /^add (\d+)$/.exec(line.trim());
    if (!m) return;
    const n = Number(m[1]);
    void (async () => {
      for (let done = 0; done < n; done += 10) {
        await Promise.all(Array.from({ length: Math.min(10, n - done) }, () => join(next++)));
      }
      report();
    })();
  });
  process.stdin.on('end', () => process.exit(0));
}

// ---------------------------------------------------------------- the ramp

interface Worker {
  child: ChildProcess;
  last: WorkerReport;
}

function startWorker(url: string, inputHz: number, seed: number, thin: boolean): Worker {
  const args = ['--import', 'tsx', here, '--worker', url, String(inputHz), String(seed), thin ? 'thin' : 'full'];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const w: Worker = { child, last: { joined: 0, failed: 0, patches: 0, cpuUs: 0 } };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      w.last = JSON.parse(line) as WorkerReport;
    } catch {
      /* not a report */
    }
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return w;
}

interface Step {
  ccu: number;
  rooms: number;
  decisions: number;
  missedShare: number;
  ticksPerRoom: number;
  inBudget: boolean;
  fallbackShare: number;
  tickP99Ms: number;
  lagP99Ms: number;
  patchesPerSec: number;
  failedJoins: number;
  load: number;
  /** CPU of the server process over the window, in cores (1 = one core busy). */
  serverCores: number;
  /** CPU of all load-generator processes over the window, in cores. */
  generatorCores: number;
}

export async function ccu(log: (m: string) => void): Promise<{ steps: Step[]; table: BenchTable }> {
  const step = Math.round(flag('step', 100));
  const max = Math.round(flag('max', 3000));
  const windowS = flag('window-s', 10);
  const workerCount = Math.round(flag('workers', 2));
  const inputHz = flag('input-hz', 10);
  const budget = flag('miss-budget', 0.02);
  const minHz = flag('min-hz', 17);
  const thin = process.argv.includes('--thin');
  const tmp = await mkdtemp(join(tmpdir(), 'playmind-ccu-'));
  const models = join(tmp, 'models');
  for (const name of ['npc-guard', 'quest-recs']) {
    await cp(join(root, 'models', name, 'manifest.json'), join(models, name, 'manifest.json'));
    await cp(join(root, 'models', name, '1'), join(models, name, '1'), { recursive: true });
  }
  // --cpu-prof DIR: the server writes a V8 CPU profile there when it exits (open it in Chrome DevTools).
  const profDir = stringFlag('cpu-prof');
  const server = await startChildServer(
    models,
    join(tmp, 'telemetry.jsonl'),
    ['--drain-grace-ms', '0'],
    {},
    profDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profDir)}`] : [],
  );
  const workers = Array.from({ length: workerCount }, (_, i) => startWorker(server.url, inputHz, i + 1, thin));
  const steps: Step[] = [];
  const load0 = loadavg();
  try {
    let target = 0;
    let retried = false;
    while (target < max || retried) {
      if (!retried) target = Math.min(max, target + step);
      const per = Math.ceil(target / workerCount);
      workers.forEach((w) => w.child.stdin!.write(`add ${Math.max(0, per - w.last.joined - w.last.failed)}\n`));
      const joinedAll = () => workers.reduce((s, w) => s + w.last.joined + w.last.failed, 0);
      const joinEnd = Date.now() + 120_000;
      while (joinedAll() < per * workerCount && Date.now() < joinEnd) await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 2000)); // settle: rooms created, first patches out
      const before = await scrape(server.url);
      const p0 = workers.reduce((s, w) => s + w.last.patches, 0);
      const c0 = workers.reduce((s, w) => s + w.last.cpuUs, 0);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, windowS * 1000));
      const after = await scrape(server.url);
      const secs = (performance.now() - t0) / 1000;
      const p1 = workers.reduce((s, w) => s + w.last.patches, 0);
      const c1 = workers.reduce((s, w) => s + w.last.cpuUs, 0);
      const joined = workers.reduce((s, w) => s + w.last.joined, 0);
      const failedJoins = workers.reduce((s, w) => s + w.last.failed, 0);
      const guard = { frontend: 'arena', model: 'npc-guard' };
      const ok = increase(before, after, 'playmind_requests_total', { ...guard, outcome: 'ok' });
      const fallback = increase(before, after, 'playmind_requests_total', { ...guard, outcome: 'fallback' });
      const missed = ['deadline_exceeded', 'overloaded', 'internal'].reduce(
        (s, outcome) => s + increase(before, after, 'playmind_requests_total', { ...guard, outcome }),
        0,
      );
      const total = ok + fallback + missed;
      const rooms = metricValue(after, 'playmind_rooms', { room: 'arena' });
      const ticks = increase(before, after, 'playmind_room_tick_seconds_count', { room: 'arena' });
      const missedShare = total > 0 ? missed / total : NaN;
      const ticksPerRoom = rooms > 0 ? ticks / secs / rooms : 0;
      const s: Step = {
        ccu: joined,
        rooms,
        decisions: total / secs,
        missedShare,
        ticksPerRoom,
        inBudget: missedShare <= budget && ticksPerRoom >= minHz,
        fallbackShare: total > 0 ? fallback / total : NaN,
        tickP99Ms: quantileBetween(before, after, 'playmind_room_tick_seconds', 0.99, { room: 'arena' }) * 1000,
        lagP99Ms: metricValue(after, 'nodejs_eventloop_lag_p99_seconds') * 1000,
        patchesPerSec: joined > 0 ? (p1 - p0) / secs / joined : 0,
        failedJoins,
        load: loadavg()[0]!,
        serverCores: increase(before, after, 'process_cpu_seconds_total') / secs,
        generatorCores: (c1 - c0) / 1e6 / secs,
      };
      steps.push(s);
      log(
        `${s.ccu} CCU, ${s.rooms} rooms: missed ${(s.missedShare * 100).toFixed(2)} %, ${s.ticksPerRoom.toFixed(1)} ticks/s per room, tick p99 ${fmtMs(s.tickP99Ms)} ms, ${s.patchesPerSec.toFixed(1)} patches/s, CPU server ${s.serverCores.toFixed(2)} / generators ${s.generatorCores.toFixed(2)} cores, load ${s.load.toFixed(2)}`,
      );
      // Over budget: measure the same CCU once more (a busy neighbour's spike), then stop.
      if (!s.inBudget) {
        if (retried) break;
        retried = true;
      } else retried = false;
    }
  } finally {
    for (const w of workers) w.child.stdin!.end();
    await Promise.all(
      workers.map((w) =>
        within(new Promise((r) => w.child.once('exit', r)), 5000, undefined).then(() => w.child.kill('SIGKILL')),
      ),
    );
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
  const inBudget = steps.filter((s) => s.inBudget);
  const best = inBudget.length > 0 ? Math.max(...inBudget.map((s) => s.ccu)) : 0;
  const table: BenchTable = {
    title: `CCU per process at 20 Hz: ${fmtInt(best)} players in budget (≤ ${(budget * 100).toFixed(0)} % of guard decisions missed their tick, rooms ticking ≥ ${minHz} Hz)`,
    columns: [
      'CCU',
      'arena rooms',
      'ticks/s per room',
      'guard decisions/s',
      'missed tick',
      'by heuristic',
      'tick p99 (ms)',
      'event-loop p99 (ms)',
      'patches/s per player',
      'failed joins',
      'server CPU (cores)',
      'generators CPU (cores)',
      'load (1 min)',
      'in budget',
    ],
    rows: steps.map((s) => [
      fmtInt(s.ccu),
      s.rooms,
      s.ticksPerRoom.toFixed(1),
      s.decisions.toFixed(0),
      `${(s.missedShare * 100).toFixed(2)} %`,
      `${(s.fallbackShare * 100).toFixed(2)} %`,
      fmtMs(s.tickP99Ms),
      fmtMs(s.lagP99Ms),
      s.patchesPerSec.toFixed(1),
      s.failedJoins,
      s.serverCores.toFixed(2),
      s.generatorCores.toFixed(2),
      s.load.toFixed(2),
      s.inBudget ? 'yes' : 'no',
    ]),
    notes: [
      `Server: \`node --import tsx server/main.ts\` in a child process (32 players per arena room, 6 guards, 20 Hz); ${workerCount} load-generator processes of \`@colyseus/sdk\` clients, each sending input at ${inputHz} Hz and ${thin ? 'counting every state frame without decoding it (--thin)' : 'decoding every patch'}; ${windowS} s window per step.`,
      `Load generators and server share the machine; load average (1 min) before the ramp ${load0[0]!.toFixed(2)}. Goal: ≥ 1,500 CCU per process.`,
    ],
  };
  return { steps, table };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--worker');
  if (i >= 0) {
    const [url, hz, seed, mode] = process.argv.slice(i + 1, i + 5);
    await worker(url!, Number(hz), Number(seed), mode === 'thin');
  } else {
    const { table } = await ccu((m) => process.stderr.write(`  · ${m}\n`));
    process.stdout.write(`${markdownTable(table)}\n`);
    process.exit(0);
  }
}

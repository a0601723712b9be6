/**
 * Soak benchmark (issue 9, not in `npm test`): a server in a child process under a steady
 * mixed load for several minutes — arena players (real `@colyseus/sdk` clients sending
 * input) and remote-inference clients (`decide` at 20/s each) — with the server's heap,
 * handles, RSS, engine queue and event-loop lag sampled from its `/metrics`, printed as a
 * table with each one's slope (flat means no leak); then RSS over 100 hot swaps of
 * npc-guard (admin `load`: a new onnxruntime session each time, the old one released).
 *
 *   npx tsx test/bench/soak.ts                 # 3 minutes, 100 swaps
 *   npx tsx test/bench/soak.ts --minutes 0.5 --swaps 20 --players 8 --clients 4
 *
 * Flags: --minutes (default 3), --sample-s (10), --players (24), --clients (16),
 * --swaps (100).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, type Room } from '@colyseus/sdk';
import { ArenaMessage, RoomName } from '../../sdk/protocol.js';
import { metricValue, prng } from '../helpers/server.js';
import { connectRoutes, observationRows, startChildServer, within } from './remote.js';
import { flag, scrape, slope } from './server-metrics.js';
import { fmtMs, markdownTable, type BenchTable } from './table.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const TOKEN = 'soak-bench-admin-token';
const MB = 1024 * 1024;

interface Sample {
  t: number;
  rss: number;
  heap: number;
  handles: number;
  queue: number;
  lagP99: number;
  patchesPerSec: number;
  decidesPerSec: number;
}

function sampleOf(text: string, t: number, patchesPerSec: number, decidesPerSec: number): Sample {
  return {
    t,
    rss: metricValue(text, 'process_resident_memory_bytes'),
    heap: metricValue(text, 'nodejs_heap_size_used_bytes'),
    handles: metricValue(text, 'nodejs_active_handles_total'),
    queue: metricValue(text, 'playmind_inference_queue_rows'),
    lagP99: metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    patchesPerSec,
    decidesPerSec,
  };
}

const mb = (b: number) => (b / MB).toFixed(1);
const signed = (v: number, digits = 2) => (Number.isNaN(v) ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);

export async function soak(log: (m: string) => void): Promise<BenchTable[]> {
  const minutes = flag('minutes', 3);
  const sampleS = flag('sample-s', 10);
  const playerCount = Math.round(flag('players', 24));
  const clientCount = Math.round(flag('clients', 16));
  const swaps = Math.round(flag('swaps', 100));
  const tmp = await mkdtemp(join(tmpdir(), 'playmind-soak-'));
  const models = join(tmp, 'models');
  for (const name of ['npc-guard', 'quest-recs']) {
    await cp(join(root, 'models', name, 'manifest.json'), join(models, name, 'manifest.json'));
    await cp(join(root, 'models', name, '1'), join(models, name, '1'), { recursive: true });
  }
  log(`starting the server (child process): ${playerCount} players, ${clientCount} inference clients, ${minutes} min`);
  const server = await startChildServer(models, join(tmp, 'telemetry.jsonl'), [], { ADMIN_TOKEN: TOKEN });
  const rooms: Room[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  let patches = 0;
  let decides = 0;
  let decideErrors = 0;
  const load0 = loadavg()[0]!;
  try {
    const rand = prng(3);
    for (let i = 0; i < playerCount; i++) {
      const room = await new Client(server.url).joinOrCreate(RoomName.ARENA, { name: `soak-${i}` });
      room.onStateChange(() => patches++);
      room.onMessage('*', () => undefined);
      rooms.push(room);
      timers.push(
        setInterval(() => {
          room.send(ArenaMessage.INPUT, { dx: rand() * 2 - 1, dy: rand() * 2 - 1, attack: rand() < 0.1 });
        }, 100),
      );
    }
    const routes = await connectRoutes(server.url, clientCount);
    const rows = observationRows(64);
    let r = 0;
    for (const route of routes) {
      timers.push(
        setInterval(() => {
          const row = rows[r++ % rows.length]!;
          route.decide('npc-guard', { rows: row, n: 1 }).then(
            () => decides++,
            () => decideErrors++,
          );
        }, 50),
      );
    }
    const samples: Sample[] = [];
    const start = performance.now();
    const end = start + minutes * 60_000;
    let p0 = patches;
    let d0 = decides;
    let last = start;
    while (performance.now() < end) {
      await new Promise((res) => setTimeout(res, Math.min(sampleS * 1000, Math.max(0, end - performance.now()))));
      const now = performance.now();
      const secs = (now - last) / 1000;
      samples.push(
        sampleOf(
          await scrape(server.url),
          (now - start) / 1000,
          (patches - p0) / secs / Math.max(1, playerCount),
          (decides - d0) / secs,
        ),
      );
      log(
        `t=${((now - start) / 1000).toFixed(0)} s rss=${mb(samples.at(-1)!.rss)} MB heap=${mb(samples.at(-1)!.heap)} MB`,
      );
      p0 = patches;
      d0 = decides;
      last = now;
    }
    for (const t of timers.splice(0)) clearInterval(t);
    await Promise.all(
      rooms.splice(0).map((room) =>
        within(
          room.leave(true).catch(() => 0),
          2000,
          0,
        ),
      ),
    );
    await Promise.all(
      routes.map((route) =>
        within(
          route.close().catch(() => undefined),
          2000,
          undefined,
        ),
      ),
    );

    // 100 hot swaps: the admin load makes a new session of npc-guard and releases the old one.
    log(`${swaps} hot swaps of npc-guard`);
    const swapSamples: { swaps: number; rss: number; heap: number; handles: number }[] = [];
    const at = async (n: number) => {
      const text = await scrape(server.url);
      swapSamples.push({
        swaps: n,
        rss: metricValue(text, 'process_resident_memory_bytes'),
        heap: metricValue(text, 'nodejs_heap_size_used_bytes'),
        handles: metricValue(text, 'nodejs_active_handles_total'),
      });
    };
    await at(0);
    let swapFailures = 0;
    for (let i = 1; i <= swaps; i++) {
      const res = await fetch(`${server.url}/v2/repository/models/npc-guard/load`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (res.status !== 200) swapFailures++;
      await res.arrayBuffer();
      if (i % Math.max(1, Math.round(swaps / 10)) === 0 || i === swaps) await at(i);
    }
    const load1 = loadavg()[0]!;
    const mins = samples.map((s) => s.t / 60);
    const soakTable: BenchTable = {
      title: `Soak: ${minutes} min, ${playerCount} arena players, ${clientCount} inference clients (20 decide/s each)`,
      columns: [
        't (s)',
        'RSS (MB)',
        'heap used (MB)',
        'handles',
        'queue rows',
        'event-loop p99 (ms)',
        'patches/s per player',
        'decides/s',
      ],
      rows: [
        ...samples.map((s) => [
          s.t.toFixed(0),
          mb(s.rss),
          mb(s.heap),
          s.handles,
          s.queue,
          fmtMs(s.lagP99),
          s.patchesPerSec.toFixed(1),
          s.decidesPerSec.toFixed(0),
        ]),
        [
          'slope / min',
          signed(
            slope(
              mins,
              samples.map((s) => s.rss / MB),
            ),
          ),
          signed(
            slope(
              mins,
              samples.map((s) => s.heap / MB),
            ),
          ),
          signed(
            slope(
              mins,
              samples.map((s) => s.handles),
            ),
          ),
          signed(
            slope(
              mins,
              samples.map((s) => s.queue),
            ),
          ),
          signed(
            slope(
              mins,
              samples.map((s) => s.lagP99),
            ),
          ),
          '',
          '',
        ],
      ],
      notes: [
        `Server in a child process (\`node --import tsx server/main.ts\`), clients in this process; decide errors: ${decideErrors}; server warnings logged: ${server.warnings()}.`,
        `Load average (1 min) at start ${load0.toFixed(2)}, at end ${load1.toFixed(2)} (a 2-core machine shared with other work). Slopes are least squares over the samples; heap includes garbage not yet collected.`,
      ],
    };
    const swapTable: BenchTable = {
      title: `RSS over ${swaps} hot swaps of npc-guard (admin load: new session, old released)`,
      columns: ['swaps', 'RSS (MB)', 'heap used (MB)', 'handles'],
      rows: [
        ...swapSamples.map((s) => [s.swaps, mb(s.rss), mb(s.heap), s.handles]),
        [
          'slope / 100 swaps',
          signed(
            slope(
              swapSamples.map((s) => s.swaps / 100),
              swapSamples.map((s) => s.rss / MB),
            ),
          ),
          signed(
            slope(
              swapSamples.map((s) => s.swaps / 100),
              swapSamples.map((s) => s.heap / MB),
            ),
          ),
          signed(
            slope(
              swapSamples.map((s) => s.swaps / 100),
              swapSamples.map((s) => s.handles),
            ),
          ),
        ],
      ],
      notes: [
        `Failed swaps: ${swapFailures}. Each swap loads, checks and warms up (zeros and probes) a new session before the old one is released.`,
      ],
    };
    return [soakTable, swapTable];
  } finally {
    for (const t of timers) clearInterval(t);
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tables = await soak((m) => process.stderr.write(`  · ${m}\n`));
  process.stdout.write(`${tables.map(markdownTable).join('\n\n')}\n`);
  process.exit(0);
}

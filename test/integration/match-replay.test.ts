/**
 * Model rollout you can trust, on a real server with real @colyseus/sdk clients:
 * a match recorded to the decision log as it is played and replayed by
 * `playmind replay` (the package's bin entry, as a process) with every tick
 * identical and agreement 1; a candidate whose weights differ measured offline
 * (`--candidate`) and in shadow (`/metrics`); a broken canary rolled back
 * automatically with no failed guard decision.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, type Room as ClientRoom } from '@colyseus/sdk';
import { expect } from '../helpers/chai.js';
import { REPO_ROOT } from '../helpers/compat.js';
import {
  batchBreakingGuardBytes,
  guardRepository,
  shiftedGuardBytes,
  shippedGuardBytes,
} from '../helpers/guard-variants.js';
import { metricValue, startTestServer, type TestServer } from '../helpers/server.js';
import { ArenaMessage, RoomName } from '../../sdk/protocol.js';
import { listMatchLogs, readMatchLog, type MatchRecord } from '../../server/recording/decision-log-reader.js';
import type { ReplayReport } from '../../server/recording/match-replay.js';
import { ArenaSettings } from '../../server/rooms/arena-room.js';

const run = promisify(execFile);
const TOKEN = 'replay-test-token';

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Snap {
  tick: number;
  guards: { model: string; decisionTick: number }[];
}

describe('match recording, replay, shadow and canary (real server, real clients)', function () {
  this.timeout(120_000);
  let dir: string;
  let logDir: string;
  let modelsDir: string;
  let t: TestServer;
  let room: ClientRoom | null = null;
  const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const url = (p: string) => `${t.server.url}${p}`;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'playmind-replay-'));
    modelsDir = join(dir, 'models');
    logDir = join(dir, 'decision-log');
    const v1 = await shippedGuardBytes();
    await guardRepository(modelsDir, {
      // Patrols less than version 1 (about 64 % of its guard decisions agree in a bot-filled arena).
      2: shiftedGuardBytes(v1, { patrol: -4 }),
      3: batchBreakingGuardBytes(v1),
    });
    t = await startTestServer(
      { modelsDir, adminToken: TOKEN, decisionLogDir: logDir, telemetryFile: join(dir, 'telemetry.jsonl') },
      { arena: new ArenaSettings({ seed: 11, guardCount: 6, minPlayers: 3, roundTicks: 40 }) },
    );
  });
  afterEach(async () => {
    await room?.leave().catch(() => undefined);
    room = null;
    await t.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Joins the arena and records every synced state's guards. */
  async function play(name = 'Ada'): Promise<{ room: ClientRoom; snaps: Snap[] }> {
    room = await new Client(t.server.url).joinOrCreate(RoomName.ARENA, { name, playerId: 'replay-tester' });
    const snaps: Snap[] = [];
    room.onStateChange((state: any) => {
      const guards: Snap['guards'] = [];
      state.guards.forEach((g: any) => guards.push({ model: g.model, decisionTick: g.decisionTick }));
      snaps.push({ tick: state.tick, guards });
    });
    return { room, snaps };
  }

  /** Leaves (the room disposes) and reads the match back once its end is on disk. */
  async function finish(): Promise<MatchRecord> {
    await room!.leave();
    room = null;
    return until('the match end in the decision log', async () => {
      const [m] = await listMatchLogs(logDir);
      if (!m) return undefined;
      const r = await readMatchLog(m.files[0]!);
      return r.end ? r : undefined;
    });
  }

  it('records a match as it is played and replays it with every tick identical and agreement 1; a differing candidate offline', async () => {
    const { room: r, snaps } = await play();
    await until('20 ticks', () => (snaps.length >= 20 ? true : undefined));
    r.send(ArenaMessage.INPUT, { dx: 1, dy: 0.5, attack: true });
    // A quest that takes more than one step (so that it is still active when abandoned).
    const quest = await until('quests in the state', () => {
      const ids: string[] = [];
      (r.state as any).quests.forEach((q: any, id: string) => {
        if (q.goal >= 2) ids.push(id);
      });
      return ids[0];
    });
    r.send(ArenaMessage.TAKE_QUEST, { questId: quest });
    await until('40 ticks', () => (snaps.length >= 40 ? true : undefined));
    r.send(ArenaMessage.ABANDON_QUEST, {});
    r.send(ArenaMessage.GUARD_MODE, { mode: 'scripted' });
    await until('55 ticks', () => (snaps.length >= 55 ? true : undefined));
    r.send(ArenaMessage.GUARD_MODE, { mode: 'model' });
    r.send(ArenaMessage.INPUT, { dx: -0.3, dy: -1, attack: false });
    await until('110 ticks', () => (snaps.length >= 110 ? true : undefined));
    const record = await finish();

    // Every input kind, with its tick; every decision with its model version.
    const kinds = new Set(record.inputs.map((i) => i.type));
    expect([...kinds]).to.include.members(['join', 'input', 'take-quest', 'abandon-quest', 'guard-mode', 'leave']);
    // The telemetry id is the server's (the session id), whatever playerId the client asked for.
    const joined = record.inputs.find((i) => i.type === 'join');
    expect(joined).to.include({ name: 'Ada', telemetryId: joined!.playerId });
    expect(record.setup).to.include({ seed: 11, guardCount: 6, minPlayers: 3, tick: 0 });
    expect(record.setup!.rounds).to.deep.equal({ ticks: 40, goal: 20 });
    expect(record.end).to.include({ reason: 'disposed' });
    const models = new Set(record.decisions.map((d) => d.model));
    expect([...models]).to.include.members(['npc-guard@1', 'expert-guard']);
    expect(record.decisions.find((d) => d.model === 'npc-guard@1')!.probabilities).to.have.length(36);

    // The HUD and the log tell the same story: each synced guard names the version the log has for its decision.
    const byObserved = new Map(record.decisions.map((d) => [d.observedTick, d.model]));
    let agreedViews = 0;
    for (const s of snaps)
      for (const g of s.guards) {
        const logged = byObserved.get(g.decisionTick);
        if (logged === undefined || g.model === 'initial') continue;
        expect(g.model, `guard at tick ${s.tick}`).to.equal(logged);
        agreedViews++;
      }
    expect(agreedViews).to.be.greaterThan(300);

    // `playmind replay` through the package's bin entry, as a process.
    const res = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'server/cli.ts'),
        'replay',
        record.files[0]!,
        '--models',
        modelsDir,
        '--candidate',
        'npc-guard@2',
        '--json',
      ],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const report = JSON.parse(res.stdout) as ReplayReport;
    expect(report.ticks).to.equal(record.ticks.length).and.to.be.greaterThan(100);
    expect(report.identicalTicks).to.equal(report.ticks);
    expect(report.firstDifference).to.equal(null);
    expect(report.agreement).to.equal(1);
    expect(report.redecided!.maxProbabilityDifference).to.equal(0);
    expect(report.redecided!.compared).to.be.greaterThan(300);

    const c = report.candidate!;
    expect(c.model).to.equal('npc-guard@2');
    expect(c.compared).to.equal(report.redecided!.compared);
    expect(c.agreement).to.be.greaterThan(0.2).and.lessThan(0.95);
    expect(c.maxProbabilityDifference).to.be.greaterThan(0);
    const confused = c.confusion.counts.flat().reduce((s, n) => s + n, 0);
    expect(confused).to.equal(c.compared);
    expect(c.confusion.counts.reduce((s, row, i) => s + row[i]!, 0)).to.equal(c.agreed);
    expect(c.counterfactual).to.include({ inputs: 'recorded', ticks: report.ticks });
    expect(c.counterfactual.rounds).to.be.at.least(2);
    expect(report.logged.rounds).to.be.at.least(2);
    expect(c.counterfactual.winRate).to.be.a('number');
    expect(report.logged.winRate).to.be.a('number');

    // The text report says the same.
    const text = await run(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'server/cli.ts'), 'replay', logDir, '--models', modelsDir],
      {
        cwd: REPO_ROOT,
      },
    );
    expect(text.stdout).to.match(new RegExp(`ticks: ${report.ticks}, identical: ${report.ticks} \\(every state hash`));
    expect(text.stdout).to.match(/re-decided by npc-guard@1: agreement 1 /);
  });

  it('measures a shadow candidate whose weights differ: agreement below 1 in /metrics, its decisions in the log', async () => {
    const start = await fetch(url('/v2/repository/models/npc-guard/rollout'), {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ candidate: 2, mode: 'shadow', minDecisions: 1_000_000 }),
    });
    expect(start.status).to.equal(200);
    const { room: r, snaps } = await play();
    r.send(ArenaMessage.INPUT, { dx: 1, dy: 0.5, attack: true });
    const compared = await until(
      '900 shadow guard decisions',
      async () => {
        const text = await (await fetch(url('/metrics'))).text();
        const rows =
          metricValue(text, 'playmind_shadow_decisions_total', {
            model: 'npc-guard',
            candidate: '2',
            outcome: 'agreed',
          }) +
          metricValue(text, 'playmind_shadow_decisions_total', {
            model: 'npc-guard',
            candidate: '2',
            outcome: 'disagreed',
          });
        return rows >= 900 ? text : undefined;
      },
      30_000,
    );
    const agreement = metricValue(compared, 'playmind_shadow_agreement', {
      model: 'npc-guard',
      serving: '1',
      candidate: '2',
    });
    expect(agreement).to.be.greaterThan(0.2).and.lessThan(0.95);
    expect(metricValue(compared, 'playmind_shadow_latency_seconds_count', { candidate: '2' })).to.be.greaterThan(30);
    const state = (await (
      await fetch(url('/v2/repository/models/npc-guard/rollout'), { headers: admin })
    ).json()) as any;
    expect(state.status).to.equal('running');
    expect(state.shadow.agreement).to.be.lessThan(0.95);
    expect(state.shadow.latencyMs.p99).to.be.a('number');
    // The candidate never acted: no synced guard names it (the serving version, or its fallback on a busy machine).
    const synced = new Set(snaps.flatMap((s) => s.guards.map((g) => g.model)));
    expect([...synced])
      .to.include('npc-guard@1')
      .and.not.to.include('npc-guard@2');
    const record = await finish();
    const decided = record.shadows.filter((s) => s.model === 'npc-guard@2');
    expect(decided.length, [...new Set(record.shadows.map((s) => s.model))].join()).to.be.greaterThan(30);
    expect(decided.every((s) => s.actions.length === 6 && s.probabilities?.length === 36)).to.equal(true);
    // A shadow decision that failed (past its deadline on a busy machine) says so.
    for (const s of record.shadows) expect(s.model).to.match(/^npc-guard@2(:deadline|:overloaded|:error|:fallback)?$/);
    expect(record.decisions.some((d) => d.model === 'npc-guard@2')).to.equal(false);
  });

  it('rolls a broken canary back automatically, with no failed guard decision', async () => {
    const start = await fetch(url('/v2/repository/models/npc-guard/rollout'), {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ candidate: 3, mode: 'canary', fraction: 1, minDecisions: 60, errorMargin: 0.01 }),
    });
    expect(start.status, await start.clone().text()).to.equal(200);
    const { snaps } = await play();
    const state = await until('the rollback', async () => {
      const s = (await (await fetch(url('/v2/repository/models/npc-guard/rollout'), { headers: admin })).json()) as any;
      return s.status === 'running' ? undefined : s;
    });
    expect(state.status).to.equal('rolled-back');
    expect(state.reason).to.match(/^error rate 100\.0 % over \d+ decisions vs \d+\.\d % for version 1/);
    expect(state.candidateRooms).to.equal(1);
    await until('20 more ticks', () => (snaps.length >= 40 ? true : undefined));
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metricValue(metrics, 'playmind_version_inference_errors_total', { version: '3' })).to.be.at.least(60);
    expect(metricValue(metrics, 'playmind_requests_total', { frontend: 'arena', outcome: 'internal' })).to.equal(0);
    expect(metricValue(metrics, 'playmind_rollout_transitions_total', { to: 'rolled-back' })).to.equal(1);
    expect(metrics).to.match(/playmind_version_kpi\{model="npc-guard",version="1",kpi="guardReturn"\} -?\d/);
    // Every guard decision was made by version 1 (or, on a busy machine, its fallback heuristic): the
    // candidate never acted and no decision failed.
    const record = await finish();
    expect(record.meta).to.include({ canary: 'npc-guard@3' });
    expect(record.decisions.length).to.be.greaterThan(30);
    const outcomes = new Set(record.decisions.map((d) => `${d.outcome} ${d.model}`));
    expect([...outcomes]).to.include('model npc-guard@1');
    for (const o of outcomes) expect(o).to.be.oneOf(['model npc-guard@1', 'fallback npc-guard@fallback:expert-guard']);
    const synced = new Set(snaps.flatMap((s) => s.guards.map((g) => g.model)));
    expect([...synced])
      .to.include('npc-guard@1')
      .and.not.to.include('npc-guard@3');
    expect(t.server.services.repository.get('npc-guard')!.version).to.equal(1);
  });

  it('serves a canary room with a working candidate, and a promotion swaps it in for every room, log and HUD agreeing', async () => {
    const start = await fetch(url('/v2/repository/models/npc-guard/rollout'), {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ candidate: 2, mode: 'canary', fraction: 1, minDecisions: 1_000_000 }),
    });
    expect(start.status).to.equal(200);
    const { snaps } = await play();
    await until('the candidate deciding the canary room', () =>
      snaps.some((s) => s.guards.every((g) => g.model === 'npc-guard@2')) ? true : undefined,
    );
    const promote = await fetch(url('/v2/repository/models/npc-guard/rollout/promote'), {
      method: 'POST',
      headers: admin,
      body: '{}',
    });
    expect(promote.status).to.equal(200);
    expect(((await promote.json()) as any).status).to.equal('promoted');
    expect(t.server.services.repository.get('npc-guard')!.version).to.equal(2);
    const after = snaps.length;
    await until('40 ticks after the promotion', () => (snaps.length >= after + 40 ? true : undefined));
    // The room goes on with version 2, now the served one (no restart, no failed decision).
    expect(snaps.slice(after + 5).some((s) => s.guards.some((g) => g.model === 'npc-guard@1'))).to.equal(false);
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metricValue(metrics, 'playmind_version_decisions_total', { version: '2' })).to.be.greaterThan(100);
    expect(metricValue(metrics, 'playmind_requests_total', { frontend: 'arena', outcome: 'internal' })).to.equal(0);
    const record = await finish();
    expect(record.meta).to.include({ canary: 'npc-guard@2', served: 'npc-guard@1' });
    expect(record.decisions.filter((d) => d.outcome === 'model').every((d) => d.model === 'npc-guard@2')).to.equal(
      true,
    );
    const res = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'server/cli.ts'),
        'replay',
        record.files[0]!,
        '--models',
        modelsDir,
        '--json',
      ],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const report = JSON.parse(res.stdout) as ReplayReport;
    expect(report.identicalTicks).to.equal(report.ticks);
    expect(report.agreement).to.equal(1);
    expect(report.byModel['npc-guard@2']).to.be.greaterThan(0);
  });
});

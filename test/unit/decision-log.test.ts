import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { DecisionLog } from '../../server/recording/decision-log-writer.js';
import { listMatchLogs, readMatchLog } from '../../server/recording/decision-log-reader.js';
import type {
  MatchDecision,
  MatchInput,
  MatchSetup,
  ShadowDecision,
} from '../../server/recording/decision-log-format.js';

const SETUP: MatchSetup = {
  seed: 1234,
  arena: { width: 960, height: 640 },
  guardCount: 3,
  minPlayers: 2,
  bots: null,
  quests: [{ id: 'q-forest-1', kind: 'defeat', goal: 1, reward: 3, title: 'Forest', tags: ['combat'] }],
  tick: 0,
  hash: 0xdeadbeef,
};

/** Seeded pseudo-random probabilities (they compress like a model's do, not like a pattern). */
function probabilitiesFor(tick: number): Float32Array {
  const p = new Float32Array(18);
  let x = (tick * 2654435761) >>> 0 || 1;
  for (let i = 0; i < 18; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p[i] = (x >>> 0) / 2 ** 32;
  }
  return p;
}

function decision(tick: number, withProbabilities: boolean): MatchDecision {
  const actions = Uint8Array.from([tick % 6, (tick + 1) % 6, (tick + 2) % 6]);
  const probabilities = withProbabilities ? probabilitiesFor(tick) : null;
  return {
    tick,
    observedTick: tick,
    actions,
    model: withProbabilities ? 'npc-guard@1' : 'npc-guard@fallback:expert-guard',
    outcome: withProbabilities ? 'model' : 'fallback',
    servedBy: withProbabilities ? 'local' : 'fallback',
    probabilities,
    reason: withProbabilities ? '' : 'model_unavailable',
  };
}

const hashOf = (t: number): number => Math.imul(t + 1, 2654435761) >>> 0;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'playmind-dlog-'));
}

describe('decision log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads back every record of a match as it was written', async () => {
    const log = await DecisionLog.open({ dir });
    const m = log.startMatch({ matchId: 'm-roundtrip', setup: SETUP, meta: { room: 'abc' } });
    const inputs: MatchInput[] = [
      { type: 'join', tick: 0, playerId: 'p1', telemetryId: 'player-7' },
      { type: 'join', tick: 0, playerId: 'p2', telemetryId: 'p2', name: 'Ada Lovelace' },
      { type: 'input', tick: 0, playerId: 'p1', input: { dx: 1, dy: -1, attack: true } },
      {
        type: 'input',
        tick: 1,
        playerId: 'p1',
        input: { dx: 0.3333333333333333, dy: -0.7071067811865476, attack: false },
      },
      { type: 'take-quest', tick: 1, playerId: 'p1', questId: 'q-forest-1' },
      { type: 'finish-quest', tick: 2, playerId: 'p1' },
      { type: 'guard-mode', tick: 2, mode: 'scripted' },
      { type: 'take-quest', tick: 2, playerId: 'p2', questId: 'q-forest-1' },
      { type: 'abandon-quest', tick: 3, playerId: 'p2' },
      { type: 'guard-mode', tick: 3, mode: 'model' },
      { type: 'leave', tick: 3, playerId: 'p1' },
    ];
    const decisions: MatchDecision[] = [];
    const shadows: ShadowDecision[] = [];
    for (let t = 0; t < 4; t++) {
      for (const i of inputs.filter((x) => x.tick === t)) m.input(i);
      const d = decision(t, t !== 2);
      decisions.push(d);
      m.decision(d);
      const s: ShadowDecision = {
        observedTick: t,
        model: 'npc-guard@2',
        latencyMs: Math.fround(0.25 * t),
        actions: Uint8Array.from([1, 2, 3]),
        probabilities: t === 1 ? null : new Float32Array(18).fill(1 / 6),
      };
      shadows.push(s);
      m.shadow(s);
      m.tick({ tick: t + 1, hash: hashOf(t + 1) });
    }
    await m.end('disposed');
    await log.close();

    const r = await readMatchLog(join(dir, 'm-roundtrip.0000.pmdl'));
    expect(r.matchId).to.equal('m-roundtrip');
    expect(r.setup).to.deep.equal(SETUP);
    expect(r.meta).to.deep.equal({ room: 'abc' });
    expect(r.inputs).to.deep.equal(inputs);
    expect(r.decisions).to.deep.equal(decisions);
    expect(r.shadows).to.deep.equal(shadows);
    expect(r.ticks).to.deep.equal([1, 2, 3, 4].map((t) => ({ tick: t, hash: hashOf(t) })));
    expect(r.end).to.include({ tick: 4, reason: 'disposed' });
    expect(r.truncated).to.equal(false);
    expect(r.problem).to.equal(null);
    const stats = log.stats();
    expect(stats.decisions).to.equal(4);
    expect(stats.guardDecisions).to.equal(12);
    expect(stats.bytesWritten).to.equal((await stat(join(dir, 'm-roundtrip.0000.pmdl'))).size);
  });

  it('touches no file while recording; records reach the disk by the flush timer', async () => {
    const log = await DecisionLog.open({ dir, flushMs: 20 });
    const m = log.startMatch({ matchId: 'm-timer', setup: SETUP });
    for (let t = 1; t <= 500; t++) m.tick({ tick: t, hash: hashOf(t) });
    expect(await readdir(dir)).to.deep.equal([]);
    // Poll (bounded) until the timer has written every tick.
    let ticks = 0;
    for (let i = 0; i < 200 && ticks < 500; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if ((await readdir(dir)).length === 0) continue;
      // The file is created before its header is written: until then the reader refuses it.
      const read = await readMatchLog(join(dir, 'm-timer.0000.pmdl')).catch((err: unknown) => {
        if (/no PMDL header/.test(String(err))) return null;
        throw err;
      });
      ticks = read?.ticks.length ?? 0;
    }
    expect(ticks).to.equal(500);
    await log.close();
  });

  it('rotates a long match into segments and reads them back in order', async () => {
    const log = await DecisionLog.open({ dir, segmentBytes: 2048 });
    const m = log.startMatch({ matchId: 'm-rotate', setup: SETUP });
    for (let t = 1; t <= 600; t++) {
      m.decision(decision(t, true));
      m.tick({ tick: t, hash: hashOf(t) });
      if (t % 20 === 0) await m.flush();
    }
    await m.end('disposed');
    await log.close();
    const files = (await readdir(dir)).sort();
    expect(files.length).to.be.greaterThan(3);
    expect(files[0]).to.equal('m-rotate.0000.pmdl');
    for (const f of files) expect((await stat(join(dir, f))).size).to.be.below(2048 + 4096);
    const r = await readMatchLog(join(dir, files[files.length - 1]!));
    expect(r.files).to.have.length(files.length);
    expect(r.setup).to.deep.equal(SETUP);
    expect(r.ticks.map((t) => t.tick)).to.deep.equal(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(r.decisions.map((d) => d.tick)).to.deep.equal(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(r.end?.reason).to.equal('disposed');
  });

  it('deletes the oldest segment files past its size cap, never one being written', async () => {
    const log = await DecisionLog.open({ dir, segmentBytes: 2048, maxBytes: 8192 });
    const created: string[] = [];
    const noteFiles = async () => {
      for (const f of (await readdir(dir)).sort()) if (!created.includes(f)) created.push(f);
    };
    const play = async (matchId: string) => {
      const m = log.startMatch({ matchId, setup: SETUP });
      for (let t = 1; t <= 300; t++) {
        m.decision(decision(t, true));
        m.tick({ tick: t, hash: hashOf(t) });
        if (t % 20 === 0) {
          await m.flush();
          await noteFiles();
          expect(m.currentFile === null || (await readdir(dir)).includes(m.currentFile)).to.equal(true);
        }
      }
      return m;
    };
    await (await play('a-old')).end('disposed');
    const live = await play('b-live');
    await log.flush();
    const stats = log.stats();
    expect(stats.deletedFiles).to.be.greaterThan(0);
    const files = (await readdir(dir)).sort();
    let total = 0;
    for (const f of files) total += (await stat(join(dir, f))).size;
    expect(total).to.equal(stats.bytesOnDisk);
    expect(total).to.be.at.most(8192);
    // What is left is the newest files, in the order they were created.
    expect(files).to.deep.equal(created.slice(created.length - files.length));
    expect(files.some((f) => f.startsWith('a-old.'))).to.equal(false, 'the older match went first');
    const listing = await listMatchLogs(dir);
    expect(listing.map((l) => l.matchId)).to.deep.equal(['b-live']);
    expect(listing[0]!.fromStart).to.equal(false, 'its own first segments went too');
    const r = await readMatchLog(listing[0]!.files[0]!);
    expect(r.setup).to.equal(null);
    expect(r.ticks.at(-1)?.tick).to.equal(300);
    await live.end('disposed');
    await log.close();
  });

  it('reads a file cut short by a crash up to its last whole frame', async () => {
    const log = await DecisionLog.open({ dir });
    const m = log.startMatch({ matchId: 'm-crash', setup: SETUP });
    const frameEnds: number[] = [];
    for (let t = 1; t <= 200; t++) {
      m.decision(decision(t, true));
      m.tick({ tick: t, hash: hashOf(t) });
      if (t % 10 === 0) {
        await m.flush();
        frameEnds.push((await stat(join(dir, 'm-crash.0000.pmdl'))).size);
      }
    }
    const file = join(dir, 'm-crash.0000.pmdl');
    const full = (await stat(file)).size;
    const cut = join(dir, 'cut');
    await mkdir(cut);
    const copy = join(cut, 'm-crash.0000.pmdl');
    for (const at of [frameEnds[4]! + 1, frameEnds[7]! + 13, Math.floor(full / 2), full - 1, frameEnds[3]!]) {
      await copyFile(file, copy);
      await truncate(copy, at);
      const r = await readMatchLog(copy);
      const whole = frameEnds.filter((e) => e <= at).length;
      expect(r.ticks.map((t) => t.tick)).to.deep.equal(
        Array.from({ length: whole * 10 }, (_, i) => i + 1),
        `cut at ${at}`,
      );
      expect(r.decisions).to.have.length(whole * 10);
      expect(r.setup).to.deep.equal(SETUP);
      expect(r.truncated).to.equal(!frameEnds.includes(at), `cut at ${at}`);
      if (r.truncated) expect(r.problem).to.match(/cut short/);
    }
    await log.close();
  });

  it('stops at a damaged frame (crc32) and keeps what precedes it', async () => {
    const log = await DecisionLog.open({ dir });
    const m = log.startMatch({ matchId: 'm-damage', setup: SETUP });
    const frameEnds: number[] = [];
    for (let t = 1; t <= 30; t++) {
      m.tick({ tick: t, hash: hashOf(t) });
      if (t % 10 === 0) {
        await m.flush();
        frameEnds.push((await stat(join(dir, 'm-damage.0000.pmdl'))).size);
      }
    }
    await log.close();
    const file = join(dir, 'm-damage.0000.pmdl');
    const bytes = await readFile(file);
    bytes[frameEnds[0]! + 20]! ^= 0xff;
    await writeFile(file, bytes);
    const r = await readMatchLog(file);
    expect(r.ticks).to.have.length(10);
    expect(r.truncated).to.equal(true);
    expect(r.problem).to.match(/crc32/);
  });

  it('refuses a file that is not a decision log, naming it', async () => {
    const bad = join(dir, 'x.0000.pmdl');
    await writeFile(bad, 'hello, this is not a log at all');
    await expect(readMatchLog(bad)).to.be.rejectedWith(/x\.0000\.pmdl: not a Playmind decision log/);
    await expect(readMatchLog(join(dir, 'notes.txt'))).to.be.rejectedWith(/not a decision-log segment name/);
    await expect(readMatchLog(join(dir, 'gone.0000.pmdl'))).to.be.rejectedWith(/no such file/);
  });

  it('keeps the game going when the disk fails: the match stops recording and is counted', async () => {
    const log = await DecisionLog.open({ dir });
    const m = log.startMatch({ matchId: 'm-fail', setup: SETUP });
    m.tick({ tick: 1, hash: 1 });
    await rm(dir, { recursive: true, force: true });
    await m.flush();
    expect(m.recording).to.equal(false);
    expect(log.stats().failedMatches).to.equal(1);
    m.tick({ tick: 2, hash: 2 }); // ignored, no throw
    await log.close();
  });

  it('checks its options and match ids', async () => {
    await expect(DecisionLog.open({ dir, flushMs: 5000 })).to.be.rejectedWith(RangeError, /flushMs/);
    await expect(DecisionLog.open({ dir, level: 0 })).to.be.rejectedWith(RangeError, /level/);
    const log = await DecisionLog.open({ dir });
    expect(() => log.startMatch({ matchId: '../escape', setup: SETUP })).to.throw(RangeError, /matchId/);
    log.startMatch({ matchId: 'same', setup: SETUP });
    expect(() => log.startMatch({ matchId: 'same', setup: SETUP })).to.throw(RangeError, /already/);
    await log.close();
  });
});

/**
 * `playmind replay` on matches recorded in-process (the arena game with the decision
 * log's recorder, the shipped npc-guard deciding through the server's guard brain): its
 * usage errors, an identical replay, and a log whose recorded decision differs from the
 * one the game applied — the replay names the first tick that differs and exits 1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '../helpers/chai.js';
import { guardRepository } from '../helpers/guard-variants.js';
import { ArenaGame, type AppliedDecision } from '../../server/game/index.js';
import { cli } from '../../server/cli.js';
import { DecisionLog } from '../../server/recording/decision-log-writer.js';
import { MatchRecorder } from '../../server/recording/match-recorder.js';
import type { ReplayReport } from '../../server/recording/match-replay.js';
import { GuardBrain } from '../../server/rooms/arena-brain.js';
import { loadCandidate } from '../../server/rollout/candidate-source.js';
import { ACTION } from '../../server/sim/index.js';

/** Captures what the CLI writes. */
function io(): {
  stdout: { write(t: string): boolean };
  stderr: { write(t: string): boolean };
  out(): string;
  err(): string;
} {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => ((out += t), true) },
    stderr: { write: (t: string) => ((err += t), true) },
    out: () => out,
    err: () => err,
  };
}

describe('playmind replay (the bin entry, in-process)', function () {
  this.timeout(60_000);
  let dir: string;
  let modelsDir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'playmind-replay-cli-'));
    modelsDir = join(dir, 'models');
    await guardRepository(modelsDir, {});
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Plays 120 ticks with a human and the shipped npc-guard, recorded to `logDir`;
   * `tamper` may change what the log receives for one decision.
   */
  async function record(logDir: string, tamper?: (d: AppliedDecision) => AppliedDecision): Promise<string> {
    const log = await DecisionLog.open({ dir: logDir });
    const recorder = new MatchRecorder(log, { matchId: 'm-cli' });
    const observer = tamper
      ? {
          setup: recorder.setup.bind(recorder),
          input: recorder.input.bind(recorder),
          tick: recorder.tick.bind(recorder),
          decision: (d: AppliedDecision) => recorder.decision(tamper(d)),
        }
      : recorder;
    const candidate = await loadCandidate(modelsDir, 'npc-guard', 1);
    const guards = new GuardBrain({ brain: candidate.brain, deadlineMs: 5000 });
    try {
      const game = new ArenaGame({
        seed: 3,
        guardCount: 4,
        minPlayers: 3,
        maxDecisionsInFlight: 1,
        observers: [observer],
        decideGuards: async (t, rows, masks, n) => ({ ...(await guards.decide(t, rows, masks, n)), servedBy: 'local' }),
      });
      game.addHuman('h1', 'h1', 'Ada');
      for (let t = 0; t < 120; t++) {
        if (t === 10) game.setInput('h1', { dx: 1, dy: 0.5, attack: true });
        await game.settled();
        game.tick();
      }
      await game.settled();
      game.close();
      await recorder.end('test');
      await log.close();
    } finally {
      await candidate.close();
    }
    return join(logDir, 'm-cli.0000.pmdl');
  }

  it('lists replay beside the SDK commands and refuses bad arguments with exit code 2', async () => {
    const help = io();
    expect(await cli(['--help'], help)).to.equal(0);
    expect(help.out())
      .to.match(/ replay /)
      .and.to.match(/ import /)
      .and.to.match(/ train-recs /);
    const missing = io();
    expect(await cli(['replay'], missing)).to.equal(2);
    expect(missing.err()).to.match(/missing <log>/);
    const badCandidate = io();
    expect(await cli(['replay', dir, '--models', modelsDir, '--candidate', 'npc-guard'], badCandidate)).to.equal(2);
    expect(badCandidate.err()).to.match(/--candidate must be <name>@<version>/);
    const noModels = io();
    expect(await cli(['replay', dir, '--candidate', 'npc-guard@1'], noModels)).to.equal(2);
    expect(noModels.err()).to.match(/--candidate needs --models/);
    const nothing = io();
    expect(await cli(['replay', join(dir, 'nope')], nothing)).to.equal(1);
    expect(nothing.err()).to.match(/no such file or folder/);
  });

  it('replays an identical match (exit 0) and names the first tick of a log whose decision differs (exit 1)', async () => {
    const good = await record(join(dir, 'good'));
    const ok = io();
    expect(await cli(['replay', good, '--models', modelsDir, '--json'], ok)).to.equal(0);
    const report = JSON.parse(ok.out()) as ReplayReport;
    expect(report).to.include({ ticks: 120, identicalTicks: 120, firstDifference: null, agreement: 1 });

    let changed = -1;
    const bad = await record(join(dir, 'bad'), (d) => {
      if (changed >= 0 || d.tick < 60 || d.actions.every((a) => a === ACTION.flee)) return d;
      changed = d.tick;
      return { ...d, actions: new Uint8Array(d.actions.length).fill(ACTION.flee) };
    });
    const differs = io();
    expect(await cli(['replay', bad, '--json'], differs)).to.equal(1);
    const r = JSON.parse(differs.out()) as ReplayReport;
    expect(r.firstDifference).to.equal(changed + 1);
    expect(r.identicalTicks).to.equal(changed);
    const text = io();
    expect(await cli(['replay', bad], text)).to.equal(1);
    expect(text.out()).to.contain(`first difference at tick ${changed + 1}`);
  });
});

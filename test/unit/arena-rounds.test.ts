/**
 * The arena game as a small finished game, through its public API: rounds with
 * a goal and an end, names, the respawn countdown, what each guard thinks
 * (target, sight, probabilities, the scripted expert's choice), the "model vs
 * scripted guards" switch, and abandoning a quest — and a recorded match with
 * all of them replays tick for tick.
 */
import { expect } from '../helpers/chai.js';
import {
  ArenaGame,
  GameRecorder,
  Rounds,
  replayRecording,
  type DecideGuards,
  type GameRecording,
  type QuestEventSink,
  type RoundEnd,
} from '../../server/game/index.js';
import {
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURE_COUNT,
  expertGuardFromObservation,
} from '../../server/sim/index.js';
import { ErrorCode } from '../../sdk/protocol.js';

/** A "model" that always gives the same probabilities and picks the likeliest allowed action. */
const fixedModel: DecideGuards = (tick, _rows, masks, n) => {
  const p = [0.05, 0.4, 0.3, 0.1, 0.05, 0.1];
  const probabilities: Float32Array[] = [];
  const actions = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    probabilities.push(Float32Array.from(p));
    let best = 0;
    for (let a = 0; a < GUARD_ACTION_COUNT; a++)
      if (masks[i * GUARD_ACTION_COUNT + a]! > 0 && (masks[i * GUARD_ACTION_COUNT + best] === 0 || p[a]! > p[best]!))
        best = a;
    actions[i] = best;
  }
  return Promise.resolve({
    tick,
    actions,
    model: 'fixed@1',
    outcome: 'model',
    servedBy: 'local',
    probabilities,
    latencyMs: 0,
  });
};

async function ticks(game: ArenaGame, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await game.settled();
    game.tick();
  }
}

describe('arena game rounds, names and what the guards think (server/game)', () => {
  it('ends a round when its time is up (the guards win), and starts the next from zero', async () => {
    const ends: RoundEnd[] = [];
    const game = new ArenaGame({
      decideGuards: fixedModel,
      seed: 3,
      rounds: { ticks: 30, goal: 1000 },
      onRoundEnd: (e) => ends.push(e),
    });
    expect(game.view.round).to.equal(1);
    expect(game.view.roundGoal).to.equal(1000);
    await ticks(game, 10);
    expect(game.view.roundTicksLeft).to.equal(20);
    await ticks(game, 20);
    expect(ends).to.have.length(1);
    expect(ends[0]).to.deep.include({ round: 1, winner: 'guards' });
    expect(game.view.round).to.equal(2);
    expect(game.view.lastRoundWinner).to.equal('guards');
    expect(game.view.roundTicksLeft).to.equal(30);
    expect(game.view.teamScore).to.equal(0);
    for (const p of game.view.players.values()) expect(p.score, p.id).to.equal(0);
    game.close();
  });

  it('ends a round as soon as the players reach the goal together (the players win)', async () => {
    const ends: RoundEnd[] = [];
    const game = new ArenaGame({
      decideGuards: fixedModel,
      seed: 4,
      rounds: { ticks: 5000, goal: 2 },
      onRoundEnd: (e) => ends.push(e),
    });
    for (let i = 0; i < 3000 && ends.length === 0; i++) await ticks(game, 1);
    expect(ends, 'a round won by the bots collecting and fighting').to.have.length(1);
    expect(ends[0]!.winner).to.equal('players');
    expect(ends[0]!.score).to.be.at.least(2);
    expect([...ends[0]!.scores.values()].reduce((a, b) => a + b, 0)).to.equal(ends[0]!.score);
    expect(game.view.lastRoundScore).to.equal(ends[0]!.score);
    game.close();
  });

  it('plays one endless match without round rules (as evaluation does)', async () => {
    const game = new ArenaGame({ decideGuards: fixedModel, seed: 5 });
    await ticks(game, 5);
    expect(game.view.round).to.equal(0);
    game.close();
  });

  it('refuses round rules outside the limits, naming the setting', () => {
    expect(() => new ArenaGame({ decideGuards: fixedModel, rounds: { ticks: 0 } })).to.throw(/'roundTicks'/);
    expect(() => new ArenaGame({ decideGuards: fixedModel, rounds: { goal: 1.5 } })).to.throw(/'roundGoal'/);
    expect(() => new Rounds({ ticks: 10, goal: 1 }, 0).update(10, new Map())).to.not.throw();
  });

  it('names humans and bots, and counts down a downed player', async () => {
    const game = new ArenaGame({ decideGuards: fixedModel, seed: 6, minPlayers: 4 });
    game.addHuman('h-1', 'h-1', 'Ada');
    game.addHuman('h-2');
    const names = [...game.view.players.values()].map((p) => p.name);
    expect(names).to.include('Ada').and.include('Player h-2');
    const bots = [...game.view.players.values()].filter((p) => p.kind === 'bot');
    expect(bots.length).to.equal(2);
    for (const b of bots) expect(b.name).to.match(/^[A-Z][a-z]+ \(bot\)$/);
    // Down a human: stand it next to a guard whose model always attacks when it can.
    const attack: DecideGuards = (tick, _r, masks, n) => {
      const actions = new Uint8Array(n).fill(3);
      for (let i = 0; i < n; i++) if (masks[i * GUARD_ACTION_COUNT + 3] === 0) actions[i] = 2;
      return Promise.resolve({ tick, actions, model: 'attack@1', outcome: 'model', latencyMs: 0 });
    };
    const g2 = new ArenaGame({ decideGuards: attack, seed: 6, minPlayers: 0 });
    g2.addHuman('h', 'h', 'Target');
    const guard = g2.arena.guards[0]!;
    const me = g2.arena.player('h')!;
    let downed = false;
    for (let i = 0; i < 2000 && !downed; i++) {
      if (me.alive) [me.pos.x, me.pos.y] = [guard.pos.x + 12, guard.pos.y];
      await ticks(g2, 1);
      downed = !g2.view.players.get('h')!.alive;
    }
    expect(downed, 'the player was downed').to.equal(true);
    const left = g2.view.players.get('h')!.respawnIn;
    expect(left).to.be.greaterThan(0);
    await ticks(g2, 3);
    expect(g2.view.players.get('h')!.respawnIn).to.equal(left - 3);
    game.close();
    g2.close();
  });

  it("shows each guard's target and sight, the model's probabilities, and the expert's choice on the same observation", async () => {
    const game = new ArenaGame({ decideGuards: fixedModel, seed: 7, traceLength: 8 });
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      await ticks(game, 1);
      const trace = game.decisionTrace(game.view.guards.get('g0')!.decisionTick);
      for (const [id, g] of game.view.guards) {
        const sim = game.arena.guards.find((x) => x.id === id)!;
        expect(g.target, id).to.equal(sim.alive ? (sim.targetId ?? '') : '');
        expect(g.sees, id).to.equal(sim.alive && sim.targetId !== null && sim.targetVisible);
        if (!trace || g.decisionTick === 0) continue;
        const p = g.probabilities!;
        expect([...p].reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-6);
        const k = trace.guardIds.indexOf(id);
        const row = trace.rows.subarray(k * GUARD_FEATURE_COUNT, (k + 1) * GUARD_FEATURE_COUNT);
        expect(g.expert, id).to.equal(GUARD_ACTIONS[expertGuardFromObservation(row)]);
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(100);
    expect(
      [...game.view.guards.values()].some((g) => g.target !== ''),
      'some guard targets someone',
    ).to.equal(true);
    game.close();
  });

  it('lets the scripted expert guard decide when switched, and the model again when switched back', async () => {
    const game = new ArenaGame({ decideGuards: fixedModel, seed: 8 });
    await ticks(game, 3);
    expect(game.view.guards.get('g0')!.model).to.equal('fixed@1');
    game.setGuardMode('scripted');
    expect(game.view.guardMode).to.equal('scripted');
    await ticks(game, 3);
    for (const g of game.view.guards.values()) {
      expect(g.servedBy).to.equal('scripted');
      expect(g.model).to.equal('expert-guard');
      expect(g.probabilities, 'a heuristic gives no probabilities').to.equal(null);
      if (g.alive) expect(g.action, g.id).to.equal(g.expert);
    }
    game.setGuardMode('model');
    await ticks(game, 3);
    expect(game.view.guards.get('g0')!.servedBy).to.equal('local');
    expect(() => game.setGuardMode('random' as 'model')).to.throw(/guard mode must be 'model' or 'scripted'/);
    game.close();
  });

  it('abandons a quest: no reward, telemetry says abandoned, and a player without one gets a typed error', async () => {
    const events: string[] = [];
    const telemetry: QuestEventSink = {
      record: (player, quest, outcome) => events.push(`${player} ${quest} ${outcome}`),
    };
    const game = new ArenaGame({ decideGuards: fixedModel, seed: 9, telemetry });
    game.addHuman('h');
    const quest = [...game.quests.keys()][0]!;
    game.takeQuest('h', quest);
    expect(game.view.players.get('h')!.quest).to.equal(quest);
    game.abandonQuest('h');
    expect(game.view.players.get('h')!.quest).to.equal('');
    expect(game.view.players.get('h')!.score).to.equal(0);
    expect(events).to.deep.equal([`h ${quest} taken`, `h ${quest} abandoned`]);
    expect(() => game.abandonQuest('h'))
      .to.throw(/no active quest to abandon/)
      .with.property('code', ErrorCode.INVALID_ARGUMENT);
    game.close();
  });

  it('replays a match with rounds, a guard-mode switch and an abandoned quest tick for tick', async () => {
    const recorder = new GameRecorder();
    const game = new ArenaGame({
      decideGuards: fixedModel,
      seed: 10,
      rounds: { ticks: 40, goal: 3 },
      observers: [recorder],
    });
    game.addHuman('h', 'h', 'Ada');
    await ticks(game, 20);
    game.takeQuest('h', [...game.quests.keys()][1]!);
    await ticks(game, 20);
    game.setGuardMode('scripted');
    game.abandonQuest('h');
    await ticks(game, 60);
    expect(game.view.round, 'rounds ended during the match').to.be.greaterThan(1);
    game.close();
    const recording: GameRecording = recorder.recording();
    const result = await replayRecording(recording);
    expect(result).to.deep.equal({ ticks: 100, identicalTicks: 100, firstDifference: null, skippedInputs: 0 });
  });
});

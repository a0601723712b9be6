/**
 * The arena game through its public API (`server/game`): episodes equal to the
 * simulation's, record and replay bit for bit, the one limit set, masking,
 * humans and bots, recommendation shaping, and what observers see.
 */
import { expect } from '../helpers/chai.js';
import {
  ARENA_LIMITS,
  ArenaGame,
  GameRecorder,
  playEpisode,
  replayRecording,
  type AppliedDecision,
  type DecideGuards,
  type GameRecording,
  type GuardDecision,
  type QuestRecommendations,
} from '../../server/game/index.js';
import { ArenaSettings } from '../../server/rooms/arena-room.js';
import {
  ACTION,
  DEFAULT_QUESTS,
  GUARD_ACTIONS,
  GUARD_ACTION_COUNT,
  GUARD_FEATURE_COUNT,
  expertGuardFromObservation,
  expertPolicy,
  randomPolicy,
  runEpisode,
} from '../../server/sim/index.js';
import { ErrorCode, PlaymindError } from '../../sdk/protocol.js';

/** The scripted expert as "decide the guards", answering at once. */
const expertDecider =
  (outcome: GuardDecision['outcome'] = 'model'): DecideGuards =>
  (tick, rows, _masks, n) => {
    const actions = new Uint8Array(n);
    for (let i = 0; i < n; i++)
      actions[i] = expertGuardFromObservation(rows.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
    return Promise.resolve({ tick, actions, model: 'expert@1', outcome, servedBy: 'local', latencyMs: 0 });
  };

/** Waits for every pending promise callback and one macrotask (a decision that resolves "late"). */
const macrotask = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('arena game (server/game)', () => {
  describe('episodes', () => {
    for (const [name, policy] of [
      ['the scripted expert', () => expertPolicy],
      ['a random policy', (seed: number) => randomPolicy(seed * 31)],
    ] as const) {
      it(`plays the same episode as the simulation's runEpisode with ${name}`, async () => {
        for (const seed of [11, 12]) {
          const sim = await runEpisode({ seed, guardPolicy: policy(seed), maxTicks: 400 });
          const game = await playEpisode({ seed, guardPolicy: policy(seed), maxTicks: 400 });
          expect(game).to.deep.equal(sim);
        }
      });
    }

    it('ends an episode on a wipe as runEpisode does, and rejects a policy that returns a bad batch', async () => {
      const attack = () => (_o: Float32Array, n: number) => new Array<number>(n).fill(ACTION.attack);
      const config = { guardCount: 12, player: { maxHealth: 1 } };
      const sim = await runEpisode({ seed: 3, guardPolicy: attack(), config });
      const game = await playEpisode({ seed: 3, guardPolicy: attack(), config });
      expect(game).to.deep.equal(sim);
      await expect(
        playEpisode({ seed: 1, guardPolicy: (_o, n) => new Array<number>(n - 1).fill(0) }),
      ).to.be.rejectedWith(RangeError, /must return 6 actions, got 5/);
    });
  });

  describe('record and replay', () => {
    /** A decider that is late (answers after the next tick) every fifth tick, and fails on some. */
    const unreliable: DecideGuards = async (tick, rows, masks, n) => {
      if (tick % 5 === 2) await macrotask();
      if (tick % 17 === 9) return { tick, actions: null, model: '', outcome: 'overloaded', latencyMs: 0 };
      const d = await expertDecider(tick % 7 === 0 ? 'fallback' : 'model')(tick, rows, masks, n);
      const probabilities = Array.from({ length: n }, () =>
        new Float32Array(GUARD_ACTION_COUNT).fill(1 / GUARD_ACTION_COUNT),
      );
      return { ...d, probabilities };
    };

    async function play(): Promise<{ recording: GameRecording; lateTicks: number }> {
      const recorder = new GameRecorder();
      const game = new ArenaGame({ decideGuards: unreliable, seed: 42, guardCount: 8, observers: [recorder] });
      let lateTicks = 0;
      for (let t = 0; t < 300; t++) {
        if (t === 5) game.addHuman('ann');
        if (t === 40) game.addHuman('bob', 'bob-telemetry');
        if (t >= 5) game.setInput('ann', { dx: Math.cos(t / 20), dy: Math.sin(t / 20), attack: t % 9 === 0 });
        if (t >= 40 && t < 200) game.setInput('bob', { dx: -1, dy: 0.3, attack: true });
        if (t === 60) game.takeQuest('ann', DEFAULT_QUESTS[0]!.id);
        if (t === 90) game.takeQuest('ann', DEFAULT_QUESTS[2]!.id);
        if (t === 200) game.removeHuman('bob');
        // Most ticks wait for the decision; on "late" ones the tick comes first.
        if (t % 5 === 3) lateTicks++;
        else await game.settled();
        game.tick();
        if (t % 5 === 3) await macrotask();
      }
      await game.settled();
      game.close();
      return { recording: recorder.recording(), lateTicks };
    }

    it('re-runs a recorded match from seed, config, inputs and decisions with every tick identical', async () => {
      const { recording, lateTicks } = await play();
      expect(lateTicks).to.be.greaterThan(0);
      // Some decisions were not applied (late or failed): the recording has fewer decisions than ticks.
      expect(recording.decisions.length).to.be.lessThan(recording.ticks.length);
      expect(recording.decisions.length).to.be.greaterThan(200);
      expect(recording.inputs.map((i) => i.type)).to.include.members(['join', 'input', 'take-quest', 'leave']);
      expect(recording.decisions.some((d) => d.outcome === 'fallback')).to.equal(true);
      // The late ticks were decided by the expert guard, recorded as the decision applied.
      const late = recording.decisions.filter((d) => d.model === 'npc-guard@fallback:expert-guard');
      expect(late.length).to.be.greaterThan(0);
      expect(late.every((d) => d.outcome === 'fallback' && d.reason === 'deadline_exceeded')).to.equal(true);
      const replay = await replayRecording(recording);
      expect(replay).to.deep.equal({ ticks: 300, identicalTicks: 300, firstDifference: null, skippedInputs: 0 });
    });

    it('plays a match the same way twice from the same seed and inputs', async () => {
      const a = await play();
      const b = await play();
      expect(b.recording.ticks).to.deep.equal(a.recording.ticks);
    });

    it('finds the first tick that differs when a recorded decision was changed', async () => {
      const { recording } = await play();
      const k = recording.decisions.findIndex((d) => d.tick >= 100 && d.actions.some((a) => a !== ACTION.flee));
      const changed: AppliedDecision = {
        ...recording.decisions[k]!,
        actions: new Uint8Array(recording.decisions[k]!.actions.length).fill(ACTION.flee),
      };
      const decisions = recording.decisions.map((d, i) => (i === k ? changed : d));
      const replay = await replayRecording({ ...recording, decisions });
      expect(replay.firstDifference).to.equal(changed.tick + 1);
      expect(replay.identicalTicks).to.equal(changed.tick);
    });
  });

  describe('limits', () => {
    it('enforces one limit set with the same typed error in the game and in the room settings', async () => {
      const over = ARENA_LIMITS.guardCount.max + 1;
      const inGame = (): unknown => new ArenaGame({ decideGuards: expertDecider(), guardCount: over });
      const inRoom = (): unknown => new ArenaSettings({ guardCount: over });
      const message = `arena setting 'guardCount' must be an integer in [1, ${ARENA_LIMITS.guardCount.max}], got ${over}`;
      for (const make of [inGame, inRoom]) {
        expect(make).to.throw(PlaymindError, message);
        try {
          make();
        } catch (err) {
          expect((err as PlaymindError).code).to.equal(ErrorCode.INVALID_ARGUMENT);
          expect((err as PlaymindError).details).to.deep.include({ setting: 'guardCount', value: over });
        }
      }
      expect(() => new ArenaGame({ decideGuards: expertDecider(), minPlayers: 65 })).to.throw(
        PlaymindError,
        /minPlayers/,
      );
      expect(() => new ArenaSettings({ tickRate: 0 })).to.throw(
        PlaymindError,
        /'tickRate' must be a number in \[1, 120\]/,
      );
      expect(() => new ArenaGame({ decideGuards: expertDecider(), guardCount: 2.5 })).to.throw(
        PlaymindError,
        /integer/,
      );
      // The largest allowed arena is accepted by both.
      expect(new ArenaSettings({ guardCount: ARENA_LIMITS.guardCount.max }).values.guardCount).to.equal(
        ARENA_LIMITS.guardCount.max,
      );
      expect(new ArenaGame({ decideGuards: expertDecider(), guardCount: 500 }).view.guards.size).to.equal(500);
    });
  });

  describe('decisions', () => {
    it('applies a decision one tick later, with its model, route and probabilities in the view', async () => {
      const game = new ArenaGame({
        decideGuards: async (tick, _rows, _masks, n) => ({
          tick,
          actions: new Uint8Array(n).fill(ACTION.flee),
          model: 'npc-guard@3',
          outcome: 'model',
          servedBy: 'remote',
          latencyMs: 1,
          probabilities: Array.from({ length: n }, () => new Float32Array(GUARD_ACTION_COUNT).map((_, j) => j / 15)),
        }),
        seed: 1,
      });
      const g0 = () => game.view.guards.get('g0')!;
      expect(g0()).to.include({ action: 'patrol', model: 'initial', servedBy: '' });
      await game.settled();
      game.tick();
      expect(g0()).to.include({ action: 'flee', model: 'npc-guard@3', servedBy: 'remote', decisionTick: 0 });
      expect(Array.from(g0().probabilities!)).to.deep.equal([0, 1, 2, 3, 4, 5].map((j) => Math.fround(j / 15)));
      await game.settled();
      game.tick();
      expect(g0().decisionTick).to.equal(1);
    });

    it("replaces the actions a fallback heuristic picks that the mask forbids, and keeps a model's", async () => {
      const allAttack = (outcome: GuardDecision['outcome']): DecideGuards => {
        return async (tick, _rows, _masks, n) => ({
          tick,
          actions: new Uint8Array(n).fill(ACTION.attack),
          model: 'h',
          outcome,
          latencyMs: 0,
        });
      };
      for (const outcome of ['fallback', 'model'] as const) {
        const game = new ArenaGame({ decideGuards: allAttack(outcome), seed: 2 });
        const trace = game.decisionTrace(0)!;
        await game.settled();
        game.tick();
        trace.guardIds.forEach((id, i) => {
          const attackAllowed = trace.masks[i * GUARD_ACTION_COUNT + ACTION.attack] === 1;
          const expected = outcome === 'model' || attackAllowed ? 'attack' : 'patrol';
          expect(game.view.guards.get(id)!.action, `${outcome}, ${id}`).to.equal(expected);
        });
        expect(trace.guardIds.some((_, i) => trace.masks[i * GUARD_ACTION_COUNT + ACTION.attack] === 0)).to.equal(true);
      }
    });

    /** A decider held until `release()`, and the outcomes the game reports. */
    function held() {
      let calls = 0;
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      const outcomes: string[] = [];
      const lateFallbacks: number[] = [];
      const decideGuards: DecideGuards = async (tick, _r, _m, n) => {
        calls++;
        await gate;
        return { tick, actions: new Uint8Array(n).fill(ACTION.idle), model: 'm', outcome: 'model', latencyMs: 0 };
      };
      const metrics = {
        tick() {},
        recommendation() {},
        decision: (o: string) => void outcomes.push(o),
        lateFallback: (guards: number) => void lateFallbacks.push(guards),
      };
      return { decideGuards, metrics, outcomes, lateFallbacks, release: () => release(), calls: () => calls };
    }

    it('lets the expert guard decide (counted, recorded) a tick whose decision is late or cannot be issued', async () => {
      const h = held();
      const recorder = new GameRecorder();
      const game = new ArenaGame({ ...h, maxDecisionsInFlight: 2, seed: 3, observers: [recorder] });
      for (let t = 0; t < 4; t++) game.tick();
      // Two decisions in flight, none back: every tick was decided by the heuristic, none froze.
      expect(h.calls()).to.equal(2);
      expect(h.outcomes).to.deep.equal(['fallback', 'fallback', 'fallback', 'fallback']);
      expect(h.lateFallbacks).to.deep.equal([6, 6, 6, 6]);
      const last = game.decisionTrace(game.tickCount - 1)!;
      last.guardIds.forEach((id, i) => {
        const g = game.view.guards.get(id)!;
        expect(g.model).to.equal('npc-guard@fallback:expert-guard');
        expect(g.servedBy).to.equal('fallback');
        const row = game.decisionTrace(g.decisionTick)!.rows;
        const expert = expertGuardFromObservation(row.subarray(i * GUARD_FEATURE_COUNT, (i + 1) * GUARD_FEATURE_COUNT));
        const allowed = game.decisionTrace(g.decisionTick)!.masks[i * GUARD_ACTION_COUNT + expert] === 1;
        if (allowed) expect(g.action).to.equal(GUARD_ACTIONS[expert]);
      });
      const decisions = recorder.recording().decisions;
      expect(decisions.map((d) => [d.observedTick, d.outcome, d.reason])).to.deep.equal(
        [0, 1, 2, 3].map((t) => [t, 'fallback', 'deadline_exceeded']),
      );
      h.release();
      await game.settled();
      game.tick(); // the late answers were dropped; the heuristic decided this tick too, a new decision is issued
      expect(h.calls()).to.equal(3);
      await game.settled();
      game.tick();
      expect(game.view.guards.get('g0')!.action).to.equal(GUARD_ACTIONS[ACTION.idle]);
      expect(game.view.guards.get('g0')!.model).to.equal('m');
      // The recorded match replays tick for tick.
      game.close();
      const replay = await replayRecording(recorder.recording());
      expect(replay.identicalTicks).to.equal(replay.ticks);
    });

    it('keeps the last actions and counts a miss when a decision is late without a late fallback', async () => {
      const h = held();
      const game = new ArenaGame({ ...h, lateFallback: null, maxDecisionsInFlight: 2, seed: 3 });
      for (let t = 0; t < 4; t++) game.tick();
      expect(h.calls()).to.equal(2);
      expect(h.outcomes).to.deep.equal(['deadline', 'deadline']);
      expect(h.lateFallbacks).to.deep.equal([]);
      expect([...game.view.guards.values()].every((g) => g.action === 'patrol' && g.model === 'initial')).to.equal(
        true,
      );
      h.release();
      await game.settled();
      game.tick(); // the late answers were dropped: nothing to apply, a new decision is issued
      expect(h.calls()).to.equal(3);
      await game.settled();
      game.tick();
      expect(game.view.guards.get('g0')!.action).to.equal(GUARD_ACTIONS[ACTION.idle]);
    });
  });

  describe('players', () => {
    it('fills the arena with bots, trims one per human who joins and refills when they leave', () => {
      const game = new ArenaGame({ decideGuards: expertDecider(), minPlayers: 3, seed: 4 });
      const ids = () => [...game.view.players.keys()].sort();
      expect(ids()).to.deep.equal(['bot-1', 'bot-2', 'bot-3']);
      game.addHuman('ann');
      expect(ids()).to.deep.equal(['ann', 'bot-1', 'bot-2']);
      expect(game.view.players.get('ann')!.kind).to.equal('human');
      expect(() => game.addHuman('ann')).to.throw(PlaymindError, /already exists/);
      expect(game.removeHuman('ann')).to.equal(true);
      expect(game.removeHuman('ann')).to.equal(false);
      expect(ids()).to.deep.equal(['bot-1', 'bot-2', 'bot-4']);
      expect([game.humanCount, game.botCount]).to.deep.equal([0, 3]);
    });

    it('writes quest telemetry under the telemetry id and rejects unknown quests and players with typed errors', () => {
      const lines: string[] = [];
      const game = new ArenaGame({
        decideGuards: expertDecider(),
        seed: 5,
        telemetry: { record: (p, q, o) => void lines.push(`${p} ${q} ${o}`) },
      });
      game.addHuman('s1', 'ann');
      game.takeQuest('s1', DEFAULT_QUESTS[0]!.id);
      game.takeQuest('s1', DEFAULT_QUESTS[1]!.id);
      game.removeHuman('s1');
      const [q0, q1] = [DEFAULT_QUESTS[0]!.id, DEFAULT_QUESTS[1]!.id];
      expect(lines).to.deep.equal([`ann ${q0} taken`, `ann ${q0} abandoned`, `ann ${q1} taken`, `ann ${q1} abandoned`]);
      game.addHuman('s2');
      expect(() => game.takeQuest('s2', 'q-nope')).to.throw(PlaymindError, /unknown quest 'q-nope'/);
      expect(() => game.takeQuest('nobody', q0)).to.throw(PlaymindError, /unknown player 'nobody'/);
      expect(() => game.finishQuest('s2')).to.throw(PlaymindError, /no active quest/);
    });
  });

  describe('recommendations', () => {
    it('shapes what "recommend quests" answers: arena quests only, at most the count shown, latest request only', async () => {
      const delivered: QuestRecommendations[] = [];
      const requests: { history: string[]; exclude: string[]; k: number }[] = [];
      const ids = DEFAULT_QUESTS.map((q) => q.id);
      const game = new ArenaGame({
        decideGuards: expertDecider(),
        seed: 6,
        recommendations: 2,
        recommendQuests: async (r) => {
          requests.push(r.request);
          return {
            items: [{ id: 'q-unknown', score: 9 }, ...ids.map((id, i) => ({ id, score: i === 0 ? NaN : 1 / (i + 1) }))],
            model: 'quest-recs@7',
            coldStart: false,
            servedBy: 'local',
          };
        },
        onRecommendations: (_p, m) => void delivered.push(m),
      });
      game.addHuman('ann');
      game.takeQuest('ann', ids[1]!);
      game.requestRecommendations('ann');
      await macrotask();
      expect(requests[0]).to.deep.equal({ history: [ids[1]], exclude: [], k: 2 });
      expect(delivered).to.have.length(1);
      expect(delivered[0]).to.deep.equal({
        player: 'ann',
        items: [
          { id: ids[0], title: ids[0], kind: DEFAULT_QUESTS[0]!.kind, score: 0 },
          { id: ids[1], title: ids[1], kind: DEFAULT_QUESTS[1]!.kind, score: 0.5 },
        ],
        model: 'quest-recs@7',
        coldStart: false,
      });
    });

    it('recommends the open quests in arena order when no recommender is given, and reports a failing one', async () => {
      const got: QuestRecommendations[] = [];
      const g2 = new ArenaGame({
        decideGuards: expertDecider(),
        seed: 7,
        recommendQuests: () => Promise.reject(new PlaymindError(ErrorCode.INTERNAL, 'boom')),
        onRecommendationError: (p, err) => void got.push({ player: p, items: [], model: String(err), coldStart: true }),
      });
      const shown: QuestRecommendations[] = [];
      const g1 = new ArenaGame({
        decideGuards: expertDecider(),
        seed: 7,
        recommendations: 50,
        onRecommendations: (_p, m) => void shown.push(m),
      });
      g1.addHuman('ann');
      g2.addHuman('bob');
      g1.requestRecommendations('ann');
      g2.requestRecommendations('bob');
      await macrotask();
      expect(shown[0]!.items.map((i) => i.id)).to.deep.equal(DEFAULT_QUESTS.map((q) => q.id));
      expect(shown[0]).to.include({ model: 'quest-recs@unavailable', coldStart: true });
      expect(got).to.have.length(1);
      expect(got[0]).to.include({ player: 'bob' });
      expect(got[0]!.model).to.match(/boom/);
    });

    it('pushes a joined player its first recommendations a few ticks after the join', async () => {
      const shown: string[] = [];
      const game = new ArenaGame({
        decideGuards: expertDecider(),
        seed: 8,
        onRecommendations: (p) => void shown.push(`${p}@${game.tickCount}`),
      });
      game.addHuman('ann');
      for (let t = 0; t < 5; t++) {
        await game.settled();
        game.tick();
        await macrotask();
      }
      expect(shown).to.deep.equal(['ann@3']);
    });
  });
});

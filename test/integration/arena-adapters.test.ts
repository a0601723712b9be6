/**
 * The arena game is one game whichever adapter runs it: the `arena` room's
 * session (the server's brain on its shared engine and repository) and the demo's
 * offline mode (the SDK brain injected through `policyDecider`), both on the
 * shipped models, played with the same seed and the same inputs, go through the
 * same states tick for tick.
 */
import { resolve } from 'node:path';
import { expect } from '../helpers/chai.js';
import {
  FsModelSource,
  InferenceEngine,
  ModelRepository,
  createBrain,
  nodeBackend,
  silentLogger,
  type Brain,
} from '../../sdk/index.js';
import { policyDecider, type ArenaGame, type GameObserver } from '../../server/game/index.js';
import { ArenaSession } from '../../server/rooms/arena-session.js';
import { GUARD_HEURISTICS } from '../../server/sim/index.js';
import { offlineGame } from '../../demo-game/src/offline-source.js';

const MODELS = resolve('models');
const SEED = 20250301;
const TICKS = 240;

/** Collects every tick's state hash. */
function hashes(): { observer: GameObserver; ticks: number[] } {
  const ticks: number[] = [];
  return { ticks, observer: { tick: (r) => void ticks.push(r.hash) } };
}

/** Plays the same scripted human in lockstep (each tick waits for its decision). */
async function play(game: ArenaGame, tick: () => void): Promise<void> {
  const quest = [...game.quests.keys()][3]!;
  for (let t = 0; t < TICKS; t++) {
    game.setInput('you', { dx: Math.cos(t / 15), dy: Math.sin(t / 25), attack: t % 6 === 0 });
    if (t === 30) game.takeQuest('you', quest);
    await game.settled();
    tick();
  }
  await game.settled();
}

describe('arena game adapters (room session and demo offline mode, shipped models)', function () {
  this.timeout(60_000);
  let repository: ModelRepository;
  let engine: InferenceEngine;
  /** The server's brain: on a shared engine and repository, as `server/services.ts` builds it. */
  let serverBrain: Brain;
  /** The demo's: a local brain of its own, as offline mode builds it (the browser build in a page). */
  let brain: Brain;

  before(async () => {
    repository = new ModelRepository({
      source: new FsModelSource(MODELS),
      backend: nodeBackend(),
      logger: silentLogger,
    });
    await repository.loadAll();
    engine = new InferenceEngine();
    serverBrain = await createBrain({ engine, models: repository, heuristics: { ...GUARD_HEURISTICS } });
    brain = await createBrain({ mode: 'local', models: MODELS, heuristics: GUARD_HEURISTICS, logger: silentLogger });
  });

  after(async () => {
    await brain?.close();
    await serverBrain?.close();
    engine?.close();
    await repository?.close();
  });

  it('go through the same states tick for tick from the same seed and inputs, both on npc-guard@1', async () => {
    const room = hashes();
    const session = new ArenaSession({ brain: serverBrain, seed: SEED, observers: [room.observer], deadlineMs: 1000 });
    session.addHuman('you');
    await play(session.game, () => session.tick());

    const offline = hashes();
    const game = offlineGame(brain, await policyDecider(brain.policy('npc-guard')), { seed: SEED });
    game.addObserver(offline.observer);
    await play(game, () => game.tick());

    expect(room.ticks).to.have.length(TICKS);
    expect(offline.ticks).to.deep.equal(room.ticks);
    // Both were driven by the model (not by a fallback), and both show it the same way.
    for (const view of [session.game.view, game.view]) {
      expect([...view.guards.values()].map((g) => `${g.model} ${g.servedBy}`)).to.deep.equal(
        new Array(6).fill('npc-guard@1 local'),
      );
      expect(view.players.get('you')!.quest).to.equal([...game.quests.keys()][3]);
    }
    // The room's schema state is the game's view.
    const schemaGuards: string[] = [];
    session.state.guards.forEach((g) =>
      schemaGuards.push(`${g.id} ${g.x} ${g.y} ${g.action} ${g.model} ${g.servedBy}`),
    );
    const viewGuards = [...session.game.view.guards.values()].map(
      (g) => `${g.id} ${g.x} ${g.y} ${g.action} ${g.model} ${g.servedBy}`,
    );
    expect(schemaGuards).to.deep.equal(viewGuards);
    session.close();
    game.close();
  });

  it('differ when the seed differs (the comparison can fail)', async () => {
    const a = hashes();
    const b = hashes();
    const ga = offlineGame(brain, await policyDecider(brain.policy('npc-guard')), { seed: SEED });
    const gb = offlineGame(brain, await policyDecider(brain.policy('npc-guard')), { seed: SEED + 1 });
    ga.addObserver(a.observer);
    gb.addObserver(b.observer);
    for (let t = 0; t < 20; t++) {
      await Promise.all([ga.settled(), gb.settled()]);
      ga.tick();
      gb.tick();
    }
    expect(a.ticks).to.have.length(20);
    expect(b.ticks).to.not.deep.equal(a.ticks);
  });
});

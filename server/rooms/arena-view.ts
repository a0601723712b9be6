/**
 * The `arena` room's @colyseus/schema state written from the game's plain view
 * (`server/game/view.ts`): the game decides what players see, this file only
 * copies it into the schema objects that Colyseus diffs and sends.
 *
 * @module
 */
import type { ArenaGameView } from '../game/index.js';
import { ArenaState, CollectibleState, GuardState, ObstacleState, PlayerState, QuestInfoState } from './arena-state.js';

/** Copies a guard's probabilities into its schema array (in place: only changed entries are sent). */
function writeProbabilities(
  into: { length: number; [i: number]: number; push(...v: number[]): number; clear(): void },
  p: Float32Array | null,
): void {
  if (!p) {
    if (into.length > 0) into.clear();
    return;
  }
  if (into.length !== p.length) {
    into.clear();
    for (let i = 0; i < p.length; i++) into.push(p[i]!);
    return;
  }
  for (let i = 0; i < p.length; i++) if (into[i] !== Math.fround(p[i]!)) into[i] = p[i]!;
}

/** Keeps an {@link ArenaState} equal to a game's view. */
export class ArenaStateWriter {
  /** The state synchronised to clients. */
  readonly state = new ArenaState();
  private readonly guards: GuardState[] = [];
  private readonly collectibles: CollectibleState[] = [];
  private readonly players = new Map<string, PlayerState>();

  /** @param view - the game's view (its static parts are copied once, here) */
  constructor(private readonly view: ArenaGameView) {
    const s = this.state;
    s.width = view.width;
    s.height = view.height;
    for (const o of view.obstacles) s.obstacles.push(new ObstacleState({ x: o.x, y: o.y, w: o.w, h: o.h }));
    for (const g of view.guards.values()) {
      const gs = new GuardState({
        id: g.id,
        x: 0,
        y: 0,
        health: 0,
        alive: true,
        action: '',
        model: '',
        servedBy: '',
        decisionTick: 0,
        target: '',
        sees: false,
        expert: '',
      });
      this.guards.push(gs);
      s.guards.set(g.id, gs);
    }
    for (const [id, c] of view.collectibles) {
      const cs = new CollectibleState({ x: c.x, y: c.y, active: c.active });
      this.collectibles.push(cs);
      s.collectibles.set(id, cs);
    }
    for (const q of view.quests.values()) s.quests.set(q.id, new QuestInfoState({ ...q }));
    this.write();
  }

  /** Copies everything that changes (the game's `onView`). */
  write(): void {
    const s = this.state;
    const v = this.view;
    s.tick = v.tick;
    s.round = v.round;
    s.roundTicksLeft = v.roundTicksLeft;
    s.roundGoal = v.roundGoal;
    s.teamScore = v.teamScore;
    s.lastRoundWinner = v.lastRoundWinner;
    s.lastRoundScore = v.lastRoundScore;
    s.guardMode = v.guardMode;
    let i = 0;
    for (const g of v.guards.values()) {
      const gs = this.guards[i++]!;
      gs.x = g.x;
      gs.y = g.y;
      gs.health = g.health;
      gs.alive = g.alive;
      gs.action = g.action;
      gs.model = g.model;
      gs.servedBy = g.servedBy;
      gs.decisionTick = g.decisionTick;
      gs.target = g.target;
      gs.sees = g.sees;
      gs.expert = g.expert;
      writeProbabilities(gs.probabilities, g.probabilities);
    }
    i = 0;
    for (const c of v.collectibles.values()) {
      const cs = this.collectibles[i++]!;
      cs.x = c.x;
      cs.y = c.y;
      cs.active = c.active;
    }
    this.writePlayers();
  }

  private writePlayers(): void {
    for (const p of this.view.players.values()) {
      let ps = this.players.get(p.id);
      if (!ps) {
        ps = new PlayerState({ ...p });
        this.players.set(p.id, ps);
        this.state.players.set(p.id, ps);
        continue;
      }
      ps.x = p.x;
      ps.y = p.y;
      ps.health = p.health;
      ps.alive = p.alive;
      ps.score = p.score;
      ps.quest = p.quest;
      ps.questProgress = p.questProgress;
      ps.questGoal = p.questGoal;
      ps.questsDone = p.questsDone;
      ps.questTargetX = p.questTargetX;
      ps.questTargetY = p.questTargetY;
      ps.respawnIn = p.respawnIn;
    }
    if (this.players.size !== this.view.players.size) {
      for (const id of [...this.players.keys()]) {
        if (this.view.players.has(id)) continue;
        this.players.delete(id);
        this.state.players.delete(id);
      }
    }
  }
}

/**
 * The arena: the whole simulation state and its deterministic step.
 *
 * @module
 */
import { type ArenaConfig, type ArenaConfigInput, resolveArenaConfig } from './config.js';
import { dist, lineOfSightIndexed, moveCircle } from './geometry.js';
import {
  ACTION,
  type EngagedGroups,
  GUARD_ACTION_COUNT,
  engagedGroupsOf,
  guardCanAttack,
  guardSteer,
  visibleTarget,
} from './guard-actions.js';
import { guardRewards } from './guard-reward.js';
import { type ArenaLayout, freePoint, generateLayout } from './layout.js';
import { Rng, deriveSeed } from './rng.js';
import { obstacleIndex } from './spatial.js';
import { fnv1a, fnvMix } from './state-hash.js';
import type {
  Collectible,
  Guard,
  Player,
  PlayerInput,
  PlayerKind,
  QuestSpec,
  QuestState,
  Rect,
  SimEvent,
  StepResult,
  Vec2,
} from './types.js';

/** Guard actions for one step: an array in `arena.guards` order, or a map by guard id. */
export type GuardActions = ArrayLike<number> | ReadonlyMap<string, number>;

/** Player inputs for one step, by player id. Players without one keep their last input. */
export type PlayerInputs = ReadonlyMap<string, PlayerInput> | Readonly<Record<string, PlayerInput>>;

const STILL: PlayerInput = Object.freeze({ dx: 0, dy: 0, attack: false });

/** Seed streams (see {@link deriveSeed}). */
const STREAM = { layout: 1, spawn: 2, bots: 3 } as const;

/**
 * A seeded, deterministic top-down arena: rectangular obstacles, players,
 * NPC guards, collectibles and quests. Same configuration + seed + actions +
 * inputs ⇒ same states, on every JavaScript engine.
 *
 * Each {@link Arena.step} runs, in order: attacks (from the positions the
 * guards observed), damage and downs, guard then player movement, pickups,
 * quest progress, respawns and cooldowns, then the guards' perception (which
 * the next observation reads). Attacks resolve before movement so that the
 * action mask a policy saw is exactly what holds when its action applies.
 *
 * @example
 * const arena = createArena({ guardCount: 4 }, 42);
 * const { events, rewards } = arena.step([1, 1, 2, 3], { p0: { dx: 1, dy: 0, attack: false } });
 */
export class Arena {
  /** The resolved configuration. */
  readonly config: Readonly<ArenaConfig>;
  /** The episode seed. */
  readonly seed: number;
  /** Static obstacles. */
  readonly obstacles: readonly Rect[];
  /** Targets of `visit` quests. */
  readonly shrines: readonly Vec2[];
  /** Player spawn points. */
  readonly playerSpawns: readonly Vec2[];
  /** The guards, in stable order (index = row in observation batches). */
  readonly guards: readonly Guard[];
  /** The players, in join order. */
  readonly players: Player[] = [];
  /** The collectibles. */
  readonly collectibles: readonly Collectible[];
  /** The random stream reserved for scripted bots (see `botInput`). */
  readonly botRng: Rng;
  /** Ticks simulated so far. */
  tick = 0;
  /** Cumulative reward of each guard, in `guards` order. */
  readonly guardReturns: Float64Array;
  /** World width (for movement helpers). */
  readonly width: number;
  /** World height. */
  readonly height: number;

  private readonly spawnRng: Rng;
  private readonly posts: readonly Vec2[];
  private readonly guardById = new Map<string, Guard>();
  private readonly playerById = new Map<string, Player>();
  private readonly questById = new Map<string, QuestSpec>();
  private pending: SimEvent[] = [];
  private nextPlayerSpawn = 0;

  /**
   * @param config - partial configuration (see {@link resolveArenaConfig}) @default {}
   * @param seed - episode seed @default 0
   * @throws TypeError / RangeError for a bad configuration or seed
   */
  constructor(config: ArenaConfigInput = {}, seed = 0) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new TypeError(`'seed' must be a finite number`);
    this.config = resolveArenaConfig(config);
    this.seed = seed >>> 0;
    this.width = this.config.width;
    this.height = this.config.height;
    const layout: ArenaLayout = generateLayout(this.config, new Rng(deriveSeed(this.seed, STREAM.layout)));
    this.obstacles = layout.obstacles;
    this.shrines = layout.shrines;
    this.playerSpawns = layout.playerSpawns;
    this.posts = layout.posts;
    this.spawnRng = new Rng(deriveSeed(this.seed, STREAM.spawn));
    this.botRng = new Rng(deriveSeed(this.seed, STREAM.bots));
    for (const q of this.config.quests) this.questById.set(q.id, q);
    const g = this.config.guard;
    this.guards = layout.posts.map((post, i): Guard => {
      const guard: Guard = {
        id: `g${i}`,
        index: i,
        team: i % this.config.guardTeams,
        pos: { x: post.x, y: post.y },
        post,
        waypoints: layout.patrols[i] as Vec2[],
        waypointIndex: 0,
        health: g.maxHealth,
        alive: true,
        respawnIn: 0,
        cooldown: 0,
        action: ACTION.patrol,
        targetId: null,
        targetVisible: false,
        lastSeenPos: null,
        lastSeenTick: -1e9,
        downs: 0,
      };
      this.guardById.set(guard.id, guard);
      return guard;
    });
    this.guardReturns = new Float64Array(this.guards.length);
    const cs: Collectible[] = [];
    for (let i = 0; i < this.config.collectibleCount; i++) {
      cs.push({
        id: `c${i}`,
        pos: this.collectibleSpot(),
        active: true,
        respawnIn: 0,
        value: this.config.collectible.value,
      });
    }
    this.collectibles = cs;
    for (let i = 0; i < this.config.playerCount; i++) this.addPlayer(`p${i}`, 'bot');
    this.perceive();
  }

  /**
   * Adds a player at the next spawn point.
   *
   * @param id - a unique player id
   * @param kind - `human` or `bot` @default 'human'
   * @returns the new player
   * @throws RangeError when the id is taken
   */
  addPlayer(id: string, kind: PlayerKind = 'human'): Player {
    if (typeof id !== 'string' || id.length === 0) throw new TypeError(`'id' must be a non-empty string`);
    if (this.playerById.has(id)) throw new RangeError(`player '${id}' already exists`);
    const spawn = this.playerSpawns[this.nextPlayerSpawn++ % this.playerSpawns.length] as Vec2;
    const p: Player = {
      id,
      kind,
      pos: { x: spawn.x, y: spawn.y },
      spawn,
      health: this.config.player.maxHealth,
      alive: true,
      respawnIn: 0,
      cooldown: 0,
      score: 0,
      input: STILL,
      activeQuest: null,
      questsDone: 0,
      downs: 0,
    };
    this.players.push(p);
    this.playerById.set(id, p);
    return p;
  }

  /**
   * Removes a player (e.g. a client left). Guards targeting it forget it.
   *
   * @returns whether the player existed
   */
  removePlayer(id: string): boolean {
    const p = this.playerById.get(id);
    if (p === undefined) return false;
    this.playerById.delete(id);
    this.players.splice(this.players.indexOf(p), 1);
    for (const g of this.guards) {
      if (g.targetId === id) {
        g.targetId = null;
        g.targetVisible = false;
        g.lastSeenPos = null;
        g.lastSeenTick = -1e9;
      }
    }
    return true;
  }

  /** @returns the player with this id, or undefined */
  player(id: string): Player | undefined {
    return this.playerById.get(id);
  }

  /** @returns the guard with this id, or undefined */
  guard(id: string): Guard | undefined {
    return this.guardById.get(id);
  }

  /**
   * @returns the guard with this id
   * @throws RangeError for an unknown id
   */
  guardOrThrow(id: string): Guard {
    const g = this.guardById.get(id);
    if (g === undefined) throw new RangeError(`unknown guard '${String(id)}'`);
    return g;
  }

  /** @returns the post (zone centre) of a guard */
  guardPost(index: number): Vec2 {
    return this.posts[index] as Vec2;
  }

  /**
   * Gives a player a quest; it replaces any active one. The `quest-taken` event
   * is emitted with the next step's events.
   *
   * @param playerId - the player
   * @param quest - a quest id from `config.quests`, or a quest spec
   * @returns the quest state
   * @throws RangeError for an unknown player or quest id, or a bad spec
   */
  takeQuest(playerId: string, quest: string | QuestSpec): QuestState {
    const p = this.playerById.get(playerId);
    if (p === undefined) throw new RangeError(`unknown player '${String(playerId)}'`);
    const spec = typeof quest === 'string' ? this.questById.get(quest) : quest;
    if (spec === undefined) throw new RangeError(`unknown quest '${String(quest)}'`);
    if (!Number.isInteger(spec.goal) || spec.goal < 1)
      throw new RangeError(`quest '${spec.id}': 'goal' must be an integer >= 1`);
    let target: Vec2 | null = null;
    if (spec.kind === 'visit') {
      target = spec.target ?? (this.shrines[this.spawnRng.int(this.shrines.length)] as Vec2);
    }
    p.activeQuest = {
      questId: spec.id,
      kind: spec.kind,
      goal: spec.kind === 'visit' ? 1 : spec.goal,
      reward: spec.reward,
      target,
      progress: 0,
      takenTick: this.tick,
    };
    this.pending.push({ type: 'quest-taken', tick: this.tick, playerId, questId: spec.id });
    return p.activeQuest;
  }

  /**
   * Finishes a player's active quest now (the arena also finishes quests
   * itself when their progress reaches the goal): adds its reward to the score
   * and emits `quest-finished` with the next step's events.
   *
   * @returns whether the player had an active quest
   * @throws RangeError for an unknown player
   */
  finishQuest(playerId: string): boolean {
    const p = this.playerById.get(playerId);
    if (p === undefined) throw new RangeError(`unknown player '${String(playerId)}'`);
    if (p.activeQuest === null) return false;
    this.pending.push(this.completeQuest(p));
    return true;
  }

  /**
   * Drops a player's active quest without finishing it (no reward).
   *
   * @returns whether the player had one
   * @throws RangeError for an unknown player
   */
  abandonQuest(playerId: string): boolean {
    const p = this.playerById.get(playerId);
    if (p === undefined) throw new RangeError(`unknown player '${String(playerId)}'`);
    if (p.activeQuest === null) return false;
    p.activeQuest = null;
    return true;
  }

  /** Sets every player's score back to zero (a new round). */
  resetScores(): void {
    for (const p of this.players) p.score = 0;
  }

  /** @returns whether every player is down (false when there are no players) */
  allPlayersDown(): boolean {
    return this.players.length > 0 && this.players.every((p) => !p.alive);
  }

  /** @returns the sum of all players' scores */
  teamScore(): number {
    let s = 0;
    for (const p of this.players) s += p.score;
    return s;
  }

  /**
   * Advances the simulation by one tick.
   *
   * @param guardActions - one action index per guard (array in `guards` order,
   *   or a map by id; guards missing from a map keep their last action)
   * @param playerInputs - inputs by player id; players without one keep their last input @default {}
   * @returns the tick number, the events and each guard's reward for this tick
   * @throws RangeError for an action index outside `GUARD_ACTIONS`, or a wrong-length array
   */
  step(guardActions: GuardActions, playerInputs: PlayerInputs = {}): StepResult {
    this.setGuardActions(guardActions);
    this.setPlayerInputs(playerInputs);
    this.tick++;
    const events: SimEvent[] = this.pending;
    this.pending = [];
    const tick = this.tick;
    const gc = this.config.guard;
    const pc = this.config.player;

    // 1. Attacks, from the current positions.
    const playerDamage = new Map<Player, { dmg: number; by: Guard }>();
    const guardDamage = new Map<Guard, { dmg: number; by: Player }>();
    for (const g of this.guards) {
      if (!g.alive || g.action !== ACTION.attack || !guardCanAttack(this, g)) continue;
      const t = visibleTarget(this, g) as Player;
      g.cooldown = gc.attackCooldown;
      const prev = playerDamage.get(t);
      playerDamage.set(t, { dmg: (prev?.dmg ?? 0) + gc.attackDamage, by: g });
      events.push({ type: 'player-hit', tick, playerId: t.id, guardId: g.id, damage: gc.attackDamage });
    }
    const obstacles = obstacleIndex(this.obstacles);
    for (const p of this.players) {
      if (!p.alive || !p.input.attack || p.cooldown > 0) continue;
      let best: Guard | null = null;
      let bestD = pc.attackRange;
      for (const g of this.guards) {
        if (!g.alive) continue;
        const d = dist(p.pos, g.pos);
        if (d <= bestD && lineOfSightIndexed(p.pos, g.pos, obstacles)) {
          best = g;
          bestD = d;
        }
      }
      p.cooldown = pc.attackCooldown; // a swing in the air still costs the cooldown
      if (best === null) continue;
      const prev = guardDamage.get(best);
      guardDamage.set(best, { dmg: (prev?.dmg ?? 0) + pc.attackDamage, by: p });
      events.push({ type: 'guard-hit', tick, guardId: best.id, playerId: p.id, damage: pc.attackDamage });
    }

    // 2. Damage and downs (simultaneous).
    for (const [p, { dmg, by }] of playerDamage) {
      p.health -= dmg;
      if (p.health <= 0) {
        p.health = 0;
        p.alive = false;
        p.respawnIn = pc.respawnTicks;
        p.downs++;
        events.push({ type: 'player-down', tick, playerId: p.id, guardId: by.id, pos: { x: p.pos.x, y: p.pos.y } });
      }
    }
    for (const [g, { dmg, by }] of guardDamage) {
      g.health -= dmg;
      if (g.health <= 0) {
        g.health = 0;
        g.alive = false;
        g.respawnIn = gc.respawnTicks;
        g.downs++;
        g.targetId = null;
        g.targetVisible = false;
        g.lastSeenPos = null;
        events.push({ type: 'guard-down', tick, guardId: g.id, playerId: by.id, pos: { x: g.pos.x, y: g.pos.y } });
        by.score += this.config.guardDownScore;
        const q = by.activeQuest;
        if (q !== null && q.kind === 'defeat') q.progress++;
      }
    }

    // 3. Movement. Flankers look for the nearest ally engaging their target:
    // group the engaging guards once (who engages whom does not change while
    // guards move; distances are measured on the current positions).
    let engaged: EngagedGroups | undefined;
    for (const g of this.guards) {
      if (g.alive && g.action === ACTION.flank) {
        engaged = engagedGroupsOf(this);
        engaged.build(this);
        break;
      }
    }
    for (const g of this.guards) {
      if (!g.alive) continue;
      const v = guardSteer(this, g, g.action, engaged);
      moveCircle(this, g.pos, v.x, v.y, gc.speed, gc.radius, g.index % 2 === 0 ? 1 : -1);
    }
    for (let i = 0; i < this.players.length; i++) {
      const p = this.players[i] as Player;
      if (!p.alive) continue;
      moveCircle(this, p.pos, p.input.dx, p.input.dy, pc.speed, pc.radius, i % 2 === 0 ? 1 : -1);
    }

    // 4. Pickups.
    const reach = pc.radius + this.config.collectible.radius;
    for (const c of this.collectibles) {
      if (!c.active) continue;
      for (const p of this.players) {
        if (!p.alive || dist(p.pos, c.pos) > reach) continue;
        c.active = false;
        c.respawnIn = this.config.collectible.respawnTicks;
        p.score += c.value;
        events.push({
          type: 'collected',
          tick,
          playerId: p.id,
          collectibleId: c.id,
          value: c.value,
          pos: { x: c.pos.x, y: c.pos.y },
        });
        const q = p.activeQuest;
        if (q !== null && q.kind === 'collect') q.progress++;
        break;
      }
    }

    // 5. Quest progress.
    for (const p of this.players) {
      const q = p.activeQuest;
      if (q === null) continue;
      if (q.kind === 'visit' && p.alive && q.target !== null && dist(p.pos, q.target) <= pc.radius + 14) q.progress = 1;
      if (q.progress >= q.goal) events.push(this.completeQuest(p));
    }

    // 6. Cooldowns, regeneration and respawns.
    for (const g of this.guards) {
      if (g.cooldown > 0) g.cooldown--;
      if (g.alive) {
        if (!g.targetVisible && g.health < gc.maxHealth) g.health = Math.min(gc.maxHealth, g.health + gc.regenPerTick);
      } else if (--g.respawnIn <= 0) {
        g.alive = true;
        g.health = gc.maxHealth;
        g.pos = { x: g.post.x, y: g.post.y };
        g.cooldown = 0;
        g.action = ACTION.patrol;
      }
    }
    for (const p of this.players) {
      if (p.cooldown > 0) p.cooldown--;
      if (!p.alive && --p.respawnIn <= 0) {
        p.alive = true;
        p.health = pc.maxHealth;
        p.pos = { x: p.spawn.x, y: p.spawn.y };
        p.cooldown = 0;
      }
    }
    for (const c of this.collectibles) {
      if (!c.active && --c.respawnIn <= 0) {
        c.pos = this.collectibleSpot();
        c.active = true;
      }
    }

    // 7. Perception for the next observation.
    this.perceive();

    const rewards = guardRewards(this, events);
    for (let i = 0; i < rewards.length; i++)
      this.guardReturns[i] = (this.guardReturns[i] as number) + (rewards[i] as number);
    return { tick, events, rewards };
  }

  /**
   * A 32-bit hash of the dynamic state (positions quantised to 1/64 unit,
   * health, actions, scores, collectibles, quests). Equal states hash equal.
   */
  stateHash(): number {
    let h = fnv1a(this.tick);
    const q = (v: number): number => Math.round(v * 64);
    for (const g of this.guards) {
      h = fnvMix(h, q(g.pos.x));
      h = fnvMix(h, q(g.pos.y));
      h = fnvMix(h, q(g.health));
      h = fnvMix(h, g.action * 2 + (g.alive ? 1 : 0));
      h = fnvMix(h, g.cooldown);
    }
    for (const p of this.players) {
      h = fnvMix(h, q(p.pos.x));
      h = fnvMix(h, q(p.pos.y));
      h = fnvMix(h, q(p.health));
      h = fnvMix(h, p.score);
      h = fnvMix(h, p.activeQuest === null ? -1 : p.activeQuest.progress);
    }
    for (const c of this.collectibles) {
      h = fnvMix(h, c.active ? q(c.pos.x) : -1);
      h = fnvMix(h, c.active ? q(c.pos.y) : -1);
    }
    return h;
  }

  private setGuardActions(actions: GuardActions): void {
    if (actions instanceof Map) {
      for (const [id, a] of actions as ReadonlyMap<string, number>) this.guardOrThrow(id).action = checkAction(a, id);
      return;
    }
    const arr = actions as ArrayLike<number>;
    if (arr === null || typeof arr !== 'object' || typeof arr.length !== 'number') {
      throw new TypeError(`'guardActions' must be an array or a Map`);
    }
    if (arr.length !== this.guards.length) {
      throw new RangeError(`'guardActions' must have one action per guard (${this.guards.length}), got ${arr.length}`);
    }
    for (let i = 0; i < arr.length; i++) (this.guards[i] as Guard).action = checkAction(arr[i] as number, `g${i}`);
  }

  private setPlayerInputs(inputs: PlayerInputs): void {
    const entries: Iterable<[string, PlayerInput]> =
      inputs instanceof Map
        ? (inputs as ReadonlyMap<string, PlayerInput>)
        : Object.entries(inputs as Record<string, PlayerInput>);
    for (const [id, inp] of entries) {
      const p = this.playerById.get(id);
      if (p === undefined) throw new RangeError(`unknown player '${id}' in 'playerInputs'`);
      const dx = Number(inp?.dx);
      const dy = Number(inp?.dy);
      p.input = {
        dx: Number.isFinite(dx) ? dx : 0,
        dy: Number.isFinite(dy) ? dy : 0,
        attack: inp?.attack === true,
      };
    }
  }

  private completeQuest(p: Player): SimEvent {
    const q = p.activeQuest as QuestState;
    p.activeQuest = null;
    p.score += q.reward;
    p.questsDone++;
    return {
      type: 'quest-finished',
      tick: this.tick,
      playerId: p.id,
      questId: q.questId,
      reward: q.reward,
      pos: { x: p.pos.x, y: p.pos.y },
    };
  }

  private collectibleSpot(): Vec2 {
    const rng = this.spawnRng;
    const cfg = this.config;
    const r = cfg.collectible.radius + 2;
    if (rng.chance(cfg.collectible.zoneShare)) {
      const post = this.posts[rng.int(this.posts.length)] as Vec2;
      const zr = cfg.guard.zoneRadius * 0.6;
      return freePoint(cfg, this.obstacles, r, () => ({
        x: post.x + rng.gaussian(0, zr),
        y: post.y + rng.gaussian(0, zr),
      }));
    }
    return freePoint(cfg, this.obstacles, r, () => ({
      x: rng.range(r, cfg.width - r),
      y: rng.range(r, cfg.height - r),
    }));
  }

  /** Each guard's target: the nearest living player in sight range with a clear line of sight. */
  private perceive(): void {
    const gc = this.config.guard;
    const obstacles = obstacleIndex(this.obstacles);
    for (const g of this.guards) {
      if (!g.alive) {
        g.targetVisible = false;
        continue;
      }
      let best: Player | null = null;
      let bestD = gc.sightRange;
      for (const p of this.players) {
        if (!p.alive) continue;
        const d = dist(g.pos, p.pos);
        if (d <= bestD && lineOfSightIndexed(g.pos, p.pos, obstacles)) {
          best = p;
          bestD = d;
        }
      }
      if (best !== null) {
        g.targetId = best.id;
        g.targetVisible = true;
        g.lastSeenPos = { x: best.pos.x, y: best.pos.y };
        g.lastSeenTick = this.tick;
      } else {
        g.targetVisible = false;
        if (g.lastSeenPos !== null && this.tick - g.lastSeenTick >= gc.memoryTicks) {
          g.lastSeenPos = null;
          g.targetId = null;
        }
      }
    }
  }
}

function checkAction(a: number, id: string): number {
  if (!Number.isInteger(a) || a < 0 || a >= GUARD_ACTION_COUNT) {
    throw new RangeError(
      `action for guard '${id}' must be an integer in 0..${GUARD_ACTION_COUNT - 1}, got ${String(a)}`,
    );
  }
  return a;
}

/**
 * Creates an arena.
 *
 * @param config - partial configuration @default {}
 * @param seed - episode seed @default 0
 * @returns a new {@link Arena}
 * @example
 * const arena = createArena({}, 7);
 */
export function createArena(config: ArenaConfigInput = {}, seed = 0): Arena {
  return new Arena(config, seed);
}
